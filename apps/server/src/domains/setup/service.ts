import { sql } from "kysely";
import type { Config } from "../../config.ts";
import type { Database } from "../../db/database.ts";
import { AppError } from "../../http/errors.ts";
import { writeAudit } from "../audit/audit.ts";
import { systemActor } from "../auth/actor.ts";
import { hashPassword } from "../auth/crypto.ts";
import { insertUser } from "../users/queries.ts";

// Any constant works; it serialises concurrent first-run setups so exactly one wins.
const SETUP_LOCK = 4_201_001;

export async function isSetUp(db: Database): Promise<boolean> {
  const row = await db.selectFrom("users").select("id").limit(1).executeTakeFirst();
  return row !== undefined;
}

/**
 * Creates the MSP and its first admin while no user exists; 409 `setup_complete` forever after.
 */
export async function runSetup(
  db: Database,
  input: { mspName: string; name: string; email: string; password: string },
  via = "setup",
) {
  const passwordHash = await hashPassword(input.password);
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${SETUP_LOCK})`.execute(trx);
    const existing = await trx.selectFrom("users").select("id").limit(1).executeTakeFirst();
    if (existing) throw new AppError("setup_complete", 409, "Switchboard is already set up");
    await trx
      .insertInto("msp")
      .values({ name: input.mspName })
      .onConflict((oc) => oc.column("id").doUpdateSet({ name: input.mspName }))
      .execute();
    const user = await insertUser(trx, {
      email: input.email,
      name: input.name,
      role: "admin",
      passwordHash,
    });
    await writeAudit(trx, systemActor(via), {
      action: "setup.complete",
      entityType: "user",
      entityId: user.id,
      after: { mspName: input.mspName, email: user.email, role: user.role },
    });
    return user;
  });
}

/** Unattended installs: SWITCHBOARD_ADMIN_EMAIL/PASSWORD run the first-run setup at start if nobody exists. */
export async function ensureAdminFromEnv(
  db: Database,
  config: Pick<Config, "SWITCHBOARD_ADMIN_EMAIL" | "SWITCHBOARD_ADMIN_PASSWORD" | "SWITCHBOARD_MSP_NAME">,
  log?: { info(obj: object, msg: string): void },
) {
  if (!config.SWITCHBOARD_ADMIN_EMAIL || !config.SWITCHBOARD_ADMIN_PASSWORD) return null;
  if (await isSetUp(db)) return null;
  try {
    const user = await runSetup(
      db,
      {
        mspName: config.SWITCHBOARD_MSP_NAME,
        name: "Administrator",
        email: config.SWITCHBOARD_ADMIN_EMAIL,
        password: config.SWITCHBOARD_ADMIN_PASSWORD,
      },
      "env",
    );
    log?.info({ email: user.email }, "first admin created from SWITCHBOARD_ADMIN_EMAIL");
    return user;
  } catch (err) {
    // Another process starting at the same moment won the race: that is the outcome we wanted.
    if (err instanceof AppError && err.code === "setup_complete") return null;
    throw err;
  }
}
