import { CreateUserRequest, Email } from "@switchboard/shared";
import type { Command } from "commander";
import type { Database } from "../db/database.ts";
import { systemActor } from "../domains/auth/actor.ts";
import { isSetUp, runSetup } from "../domains/setup/service.ts";
import { createUser, updateUser } from "../domains/users/service.ts";
import { CliError, cliConfig, print, requireSchema, withDatabase } from "./context.ts";
import { runMigrations } from "./migrate.ts";
import { ask, newPassword } from "./prompt.ts";

const cli = () => systemActor("cli");

function checkEmail(value: string) {
  const parsed = Email.safeParse(value);
  if (!parsed.success) throw new CliError(`--email: "${value}" is not an email address`, 2);
  return parsed.data;
}

export async function findUserByEmail(db: Database, email: string) {
  await requireSchema(db);
  const user = await db
    .selectFrom("users")
    .select(["id", "name", "email", "role", "active", "version"])
    .where((eb) => eb(eb.fn("lower", ["email"]), "=", email.toLowerCase()))
    .executeTakeFirst();
  if (!user) throw new CliError(`no user with email ${email}`);
  return user;
}

interface CreateAdminOptions {
  email?: string;
  name?: string;
  password?: string;
  passwordStdin?: boolean;
  mspName?: string;
}

async function createAdmin(opts: CreateAdminOptions) {
  const config = cliConfig();
  const email = checkEmail(await ask("Email", "--email", opts.email));
  const name = await ask("Name", "--name", opts.name);
  const password = await newPassword(opts);
  await withDatabase(config, async ({ db }) => {
    await runMigrations(db, { quiet: true });
    if (!(await isSetUp(db))) {
      const mspName = opts.mspName ?? config.SWITCHBOARD_MSP_NAME;
      await runSetup(db, { mspName, name, email, password }, "cli");
      print(`Created ${email} as the first admin of ${mspName} (first-run setup is done).`);
      return;
    }
    const existing = await db
      .selectFrom("users")
      .select("id")
      .where((eb) => eb(eb.fn("lower", ["email"]), "=", email))
      .executeTakeFirst();
    if (existing)
      throw new CliError(`${email} already exists: use \`switchboard reset-password\` or the console`);
    await createUser(db, cli(), CreateUserRequest.parse({ email, name, role: "admin", password }));
    print(`Created admin ${email}.`);
  });
}

async function resetPassword(opts: {
  email?: string;
  password?: string;
  passwordStdin?: boolean;
  activate?: boolean;
}) {
  const config = cliConfig();
  const email = checkEmail(await ask("Email", "--email", opts.email));
  const password = await newPassword(opts);
  await withDatabase(config, async ({ db }) => {
    const user = await findUserByEmail(db, email);
    const sessions = await db
      .selectFrom("sessions")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("user_id", "=", user.id)
      .executeTakeFirstOrThrow();
    // The users service ends the user's sessions in the same transaction as an admin's password reset.
    await updateUser(db, cli(), user.id, {
      version: user.version,
      password,
      ...(opts.activate && !user.active ? { active: true } : {}),
    });
    print(`Password changed for ${user.email}; ${sessions.n} session(s) signed out.`);
    if (!user.active && !opts.activate)
      print("Note: this user is deactivated; pass --activate to let them sign in.");
  });
}

export function registerUsers(program: Command) {
  program
    .command("create-admin")
    .description("create an admin (on a fresh install this also completes first-run setup)")
    .option("--email <email>", "sign-in email")
    .option("--name <name>", "display name")
    .option("--password <password>", "password, 12+ characters (visible in `ps`; prefer the prompt)")
    .option("--password-stdin", "read the password from standard input")
    .option("--msp-name <name>", "your company's name, used when this is the first user")
    .action(createAdmin);

  program
    .command("reset-password")
    .description("set a user's password and sign them out everywhere")
    .option("--email <email>", "the user's email")
    .option("--password <password>", "new password, 12+ characters (visible in `ps`; prefer the prompt)")
    .option("--password-stdin", "read the password from standard input")
    .option("--activate", "also reactivate the user if they were deactivated")
    .action(resetPassword);

  program
    .command("users")
    .description("list users")
    .action(async () => {
      await withDatabase(cliConfig(), async ({ db }) => {
        await requireSchema(db);
        const rows = await db
          .selectFrom("users")
          .select(["email", "name", "role", "active"])
          .orderBy("role")
          .orderBy("email")
          .execute();
        if (rows.length === 0) print("No users yet: run `switchboard create-admin`.");
        for (const u of rows) {
          print(`${u.email.padEnd(40)} ${u.role.padEnd(11)} ${u.active ? "active  " : "inactive"} ${u.name}`);
        }
      });
    });
}
