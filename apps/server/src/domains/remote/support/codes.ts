import { createHash, randomBytes, randomInt } from "node:crypto";
import { sql, type Transaction } from "kysely";
import type { Database } from "../../../db/database.ts";
import type { DB } from "../../../db/schema.ts";
import { writeAudit } from "../../audit/audit.ts";
import { systemActor } from "../../auth/actor.ts";
import { emitEvent } from "../../events/outbox.ts";

/**
 * How guessing a code is kept hopeless.
 *
 * A code is 6 digits from a CSPRNG: N = 10^6 values. It can be entered for T = SUPPORT_CODE_TTL_MINUTES
 * (10 at most) and once. A wrong guess made while L codes are live hits one of them with probability at
 * most L / N. Over any window of length T, failed attempts are allowed while the sum of their L (each
 * failed attempt weighs the number of codes live when it was made) stays within RISK_BUDGET = 99; an
 * attempt that would take the sum past it is refused before the code is even compared.
 *
 *   - A code lives at most T, so every guess that could hit it falls in one window, and each of those
 *     guesses weighs at least 1 (the code itself was live): P(a given code is ever hit) <= 99 / 10^6,
 *     below 1 in 10,000.
 *   - For all the codes live in a window together: P(any is hit) <= sum(L_i) / N <= 99 / 10^6, below
 *     1 in 10,000 as well.
 *
 * In practice: with one live code, 99 wrong codes per 10 minutes across every address; with five, 19.
 * Per address, SUPPORT_JOIN_FAILURES_PER_ADDRESS (10) wrong codes per window. A refused attempt is not
 * compared, so it adds no risk and costs nothing. The first refusal of a window is audited (admins see
 * the flood in the audit log and in GET /api/v1/support/join-activity). Attempts of every process are
 * counted together: each is decided under one advisory lock in PostgreSQL.
 */
export const RISK_BUDGET = 99;
const CODE_SPACE = 1_000_000;
const JOIN_LOCK = 0x5b_1014;

export const hashSecret = (s: string) => createHash("sha256").update(s).digest("hex");

/** 6 digits, uniformly from the CSPRNG (leading zeros kept). */
export const newCode = () => String(randomInt(0, CODE_SPACE)).padStart(6, "0");
export const newCallerToken = () => `sbj_${randomBytes(32).toString("base64url")}`;

/** Waiting sessions whose code ran out become expired (nobody can join them any more). */
export async function expireCodes(trx: Transaction<DB> | Database) {
  return trx
    .updateTable("support_sessions")
    .set({
      status: "expired",
      ended_at: new Date(),
      ended_by: "system",
      end_reason: "the code expired unused",
    })
    .where("status", "=", "waiting")
    .where("code_expires_at", "<=", new Date())
    .returning(["id", "client_id", "ticket_id"])
    .execute();
}

export type JoinVerdict =
  | { kind: "joined"; sessionId: string; token: string }
  | { kind: "invalid" }
  | { kind: "throttled"; retryAfterSeconds: number };

/** Decides one code entered on /join: limits first, then the code. Commits the attempt either way. */
export async function tryCode(
  db: Database,
  code: string,
  address: string,
  limits: { windowMinutes: number; perAddress: number },
): Promise<JoinVerdict> {
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(${JOIN_LOCK})`.execute(trx);
    await expireCodes(trx);
    const live = Number(
      (
        await trx
          .selectFrom("support_sessions")
          .select((eb) => eb.fn.countAll<string>().as("n"))
          .where("status", "=", "waiting")
          .executeTakeFirstOrThrow()
      ).n,
    );
    const since = new Date(Date.now() - limits.windowMinutes * 60_000);
    const usage = await sql<{ risk: string; by_address: string; throttled: string }>`
      select coalesce(sum(live_codes) filter (where not ok and not throttled), 0) as risk,
             count(*) filter (where address = ${address} and not ok and not throttled) as by_address,
             count(*) filter (where throttled) as throttled
      from support_join_attempts where created_at > ${since}`.execute(trx);
    const u = usage.rows[0]!;
    if (Number(u.by_address) >= limits.perAddress || Number(u.risk) + live > RISK_BUDGET) {
      await trx
        .insertInto("support_join_attempts")
        .values({ address, ok: false, throttled: true, live_codes: live })
        .execute();
      if (Number(u.throttled) === 0) await announceFlood(trx, address, Number(u.risk), live);
      return { kind: "throttled", retryAfterSeconds: limits.windowMinutes * 60 };
    }
    const session = await trx
      .selectFrom("support_sessions")
      .select(["id", "client_id", "ticket_id"])
      .where("code_hash", "=", hashSecret(code))
      .where("status", "=", "waiting")
      .where("code_expires_at", ">", new Date())
      .forUpdate()
      .executeTakeFirst();
    await trx
      .insertInto("support_join_attempts")
      .values({ address, ok: !!session, live_codes: live })
      .execute();
    if (!session) return { kind: "invalid" };
    const token = newCallerToken();
    // Single use: the code is spent here; from now on only this token reaches the session.
    await trx
      .updateTable("support_sessions")
      .set({
        status: "joined",
        caller_token_hash: hashSecret(token),
        caller_address: address,
        joined_at: new Date(),
      })
      .where("id", "=", session.id)
      .execute();
    return { kind: "joined", sessionId: session.id, token };
  });
}

async function announceFlood(trx: Transaction<DB>, address: string, risk: number, live: number) {
  const actor = systemActor("support-join");
  await writeAudit(trx, actor, {
    action: "support.join_throttled",
    entityType: "support_join",
    entityId: address,
    after: { address, riskUsed: risk, liveCodes: live, riskBudget: RISK_BUDGET },
  });
  await emitEvent(trx, actor, { type: "support.join_throttled", payload: { address, liveCodes: live } });
}

/** The guessing picture of the current window, for admins. */
export async function joinActivity(db: Database, windowMinutes: number) {
  const since = new Date(Date.now() - windowMinutes * 60_000);
  const totals = await sql<{ failed: string; risk: string; throttled: string }>`
    select count(*) filter (where not ok and not throttled) as failed,
           coalesce(sum(live_codes) filter (where not ok and not throttled), 0) as risk,
           count(*) filter (where throttled) as throttled
    from support_join_attempts where created_at > ${since}`.execute(db);
  const top = await sql<{ address: string; failed: string }>`
    select address, count(*) as failed from support_join_attempts
    where created_at > ${since} and not ok group by address order by count(*) desc limit 10`.execute(db);
  const live = await db
    .selectFrom("support_sessions")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("status", "=", "waiting")
    .where("code_expires_at", ">", new Date())
    .executeTakeFirstOrThrow();
  const t = totals.rows[0]!;
  return {
    windowMinutes,
    liveCodes: Number(live.n),
    failedInWindow: Number(t.failed),
    riskUsed: Number(t.risk),
    riskBudget: RISK_BUDGET,
    throttledInWindow: Number(t.throttled),
    topAddresses: top.rows.map((r) => ({ address: r.address, failed: Number(r.failed) })),
  };
}
