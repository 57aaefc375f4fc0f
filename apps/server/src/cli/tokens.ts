import type { Command } from "commander";
import type { Actor } from "../domains/auth/actor.ts";
import { createApiToken, listApiTokens, revokeApiToken } from "../domains/auth/service.ts";
import { CliError, cliConfig, print, withDatabase } from "./context.ts";
import { findUserByEmail } from "./users.ts";

/** The token belongs to the user; the audit row says it was made from the command line. */
async function actorFor(db: Parameters<typeof findUserByEmail>[0], email: string): Promise<Actor> {
  const u = await findUserByEmail(db, email);
  if (!u.active) throw new CliError(`${u.email} is deactivated; its tokens would not work`);
  return {
    kind: "user",
    userId: u.id,
    name: `${u.name} (via CLI)`,
    role: u.role,
    clientIds: null,
    teamIds: [],
    timezone: "UTC",
    via: "system",
  };
}

export function registerTokens(program: Command) {
  const token = program.command("token").description("API tokens (Authorization: Bearer ...)");

  token
    .command("create")
    .description("mint an API token for a user; it is printed once and stored only as a hash")
    .requiredOption("--email <email>", "the user the token acts as")
    .option("--name <name>", "what the token is for", "cli")
    .option("--expires-days <days>", "expire after this many days (default: never)")
    .action(async (opts: { email: string; name: string; expiresDays?: string }) => {
      let expiresAt: Date | undefined;
      if (opts.expiresDays !== undefined) {
        const days = Number(opts.expiresDays);
        if (!Number.isInteger(days) || days < 1 || days > 3650) {
          throw new CliError("--expires-days must be a whole number of days from 1 to 3650", 2);
        }
        expiresAt = new Date(Date.now() + days * 86_400_000);
      }
      await withDatabase(cliConfig(), async ({ db }) => {
        const actor = await actorFor(db, opts.email);
        const { row, token: secret } = await createApiToken(db, actor, { name: opts.name, expiresAt });
        process.stderr.write(
          `Token "${row.name}" for ${opts.email}${expiresAt ? `, expires ${expiresAt.toISOString()}` : ""}. It is shown only now:\n`,
        );
        // The secret alone on stdout, so `TOKEN=$(switchboard token create ...)` works.
        print(secret);
      });
    });

  token
    .command("list")
    .description("a user's tokens (prefixes only)")
    .requiredOption("--email <email>", "the user")
    .action(async (opts: { email: string }) => {
      await withDatabase(cliConfig(), async ({ db }) => {
        const rows = await listApiTokens(db, await actorFor(db, opts.email));
        if (rows.length === 0) print("No tokens.");
        for (const t of rows) {
          const state = t.revoked_at
            ? "revoked"
            : t.expires_at && t.expires_at < new Date()
              ? "expired"
              : "active";
          print(
            `${t.id}  ${t.prefix}…  ${state.padEnd(7)}  ${t.name}  last used ${t.last_used_at?.toISOString() ?? "never"}`,
          );
        }
      });
    });

  token
    .command("revoke")
    .description("revoke a token by id (see `token list`)")
    .argument("<id>", "token id")
    .requiredOption("--email <email>", "the token's user")
    .action(async (id: string, opts: { email: string }) => {
      if (!/^[0-9a-f-]{36}$/i.test(id))
        throw new CliError("the token id is a UUID (see `switchboard token list`)", 2);
      await withDatabase(cliConfig(), async ({ db }) => {
        await revokeApiToken(db, await actorFor(db, opts.email), id);
        print(`Revoked ${id}.`);
      });
    });
}
