import type { Transaction } from "kysely";
import type { Config } from "../../config.ts";
import type { Database } from "../../db/database.ts";
import type { DB } from "../../db/schema.ts";
import { forCredentials } from "../../db/scope.ts";
import { AppError, notFound } from "../../http/errors.ts";
import { writeAudit } from "../audit/audit.ts";
import { AUTH_CHANGED } from "../events/internal.ts";
import { emitEvent } from "../events/outbox.ts";
import { type Actor, requireUser, systemActor } from "./actor.ts";
import { newSecret, sha256, verifyPassword } from "./crypto.ts";
import { findSessionPrincipal, findTokenPrincipal, type PrincipalRow, recentFailures } from "./queries.ts";

export const LOGIN_WINDOW_MINUTES = 15;

export const loginLimits = (
  config: Pick<Config, "LOGIN_MAX_FAILURES_PER_ACCOUNT" | "LOGIN_MAX_FAILURES_PER_ADDRESS">,
) => ({
  perAccount: config.LOGIN_MAX_FAILURES_PER_ACCOUNT,
  perAddress: config.LOGIN_MAX_FAILURES_PER_ADDRESS,
});

function toActor(
  p: PrincipalRow,
  via: "session" | "token",
  hash: string,
  ip?: string,
  requestId?: string,
): Actor {
  return {
    credential: { kind: via, hash },
    kind: "user",
    userId: p.id,
    name: p.name,
    role: p.role,
    clientIds: p.all_clients ? null : p.client_ids,
    teamIds: p.team_ids,
    timezone: p.timezone,
    via,
    ip,
    requestId,
  };
}

export async function actorFromSession(db: Database, token: string, ip?: string, requestId?: string) {
  const hash = sha256(token);
  const p = await forCredentials(() => findSessionPrincipal(db, hash));
  return p ? toActor(p, "session", hash, ip, requestId) : null;
}

export async function actorFromApiToken(db: Database, token: string, ip?: string, requestId?: string) {
  const hash = sha256(token);
  const p = await forCredentials(() => findTokenPrincipal(db, hash));
  return p ? toActor(p, "token", hash, ip, requestId) : null;
}

/**
 * The actor a credential stands for now (null: expired, revoked, signed out or deactivated), resolved
 * again from its hash: what an open live stream asks when the user's access may have changed.
 */
export async function actorFromCredential(db: Database, credential: NonNullable<Actor["credential"]>) {
  const p =
    credential.kind === "session"
      ? await findSessionPrincipal(db, credential.hash)
      : await findTokenPrincipal(db, credential.hash);
  return p ? toActor(p, credential.kind, credential.hash) : null;
}

/**
 * Tells open live streams that a user's access changed (role, client limits, activity, password, a
 * session or token ended): written in the transaction of the change, so a stream hears of it exactly
 * when it is committed. Internal: never delivered to a stream itself.
 */
export async function emitAuthChanged(trx: Transaction<DB>, actor: Actor, userId: string) {
  await emitEvent(trx, actor, { type: AUTH_CHANGED, payload: { userId } });
}

/**
 * Checks the password and opens a session. Failures are counted per account and per address over a
 * sliding window (LOGIN_MAX_FAILURES_PER_*); past a limit every attempt, right password or not, is
 * refused with 429.
 */
export async function login(
  db: Database,
  input: { email: string; password: string; ip: string; userAgent?: string; ttlHours: number },
  limits: { perAccount: number; perAddress: number },
) {
  const account = input.email.trim().toLowerCase();
  const failures = await recentFailures(db, account, input.ip, LOGIN_WINDOW_MINUTES);
  if (failures.by_account >= limits.perAccount || failures.by_ip >= limits.perAddress) {
    throw new AppError("rate_limited", 429, "Too many failed sign-ins; try again in 15 minutes", {
      retryAfterSeconds: LOGIN_WINDOW_MINUTES * 60,
    });
  }
  const user = await db
    .selectFrom("users")
    .select(["id", "name", "password_hash", "active"])
    .where((eb) => eb(eb.fn("lower", ["email"]), "=", account))
    .executeTakeFirst();
  const ok = (await verifyPassword(user?.password_hash ?? null, input.password)) && user?.active === true;
  await db.insertInto("login_attempts").values({ account, ip: input.ip, succeeded: ok }).execute();
  if (!ok || !user) throw new AppError("unauthenticated", 401, "Wrong email or password");

  const token = newSecret();
  const expiresAt = new Date(Date.now() + input.ttlHours * 3600_000);
  await db.transaction().execute(async (trx) => {
    await trx
      .insertInto("sessions")
      .values({
        token_hash: sha256(token),
        user_id: user.id,
        expires_at: expiresAt,
        ip: input.ip,
        user_agent: input.userAgent?.slice(0, 400) ?? null,
      })
      .execute();
    const actor: Actor = {
      kind: "user",
      userId: user.id,
      name: user.name,
      role: "readonly",
      clientIds: [],
      teamIds: [],
      timezone: "UTC",
      via: "session",
      ip: input.ip,
    };
    await writeAudit(trx, actor, { action: "auth.login", entityType: "user", entityId: user.id });
  });
  return { token, expiresAt, userId: user.id };
}

export async function logout(db: Database, token: string) {
  await db.transaction().execute(async (trx) => {
    const ended = await trx
      .deleteFrom("sessions")
      .where("token_hash", "=", sha256(token))
      .returning("user_id")
      .executeTakeFirst();
    if (ended) await emitAuthChanged(trx, systemActor("logout"), ended.user_id);
  });
}

export async function createApiToken(db: Database, actor: Actor, input: { name: string; expiresAt?: Date }) {
  const userId = requireUser(actor);
  const token = newSecret("sb_");
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto("api_tokens")
      .values({
        user_id: userId,
        name: input.name,
        token_hash: sha256(token),
        prefix: token.slice(0, 10),
        expires_at: input.expiresAt ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await writeAudit(trx, actor, {
      action: "api_token.create",
      entityType: "api_token",
      entityId: row.id,
      after: { name: row.name, prefix: row.prefix, expiresAt: row.expires_at },
    });
    return { row, token };
  });
}

export async function listApiTokens(db: Database, actor: Actor) {
  const userId = requireUser(actor);
  return db
    .selectFrom("api_tokens")
    .selectAll()
    .where("user_id", "=", userId)
    .orderBy("created_at", "desc")
    .execute();
}

/** A user revokes their own tokens; an admin may revoke anyone's. */
export async function revokeApiToken(db: Database, actor: Actor, id: string) {
  const userId = requireUser(actor);
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom("api_tokens")
      .selectAll()
      .where("id", "=", id)
      .forUpdate()
      .executeTakeFirst();
    if (!row || (row.user_id !== userId && actor.role !== "admin")) throw notFound("API token");
    if (row.revoked_at) return row;
    const updated = await trx
      .updateTable("api_tokens")
      .set({ revoked_at: new Date() })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await emitAuthChanged(trx, actor, row.user_id);
    await writeAudit(trx, actor, {
      action: "api_token.revoke",
      entityType: "api_token",
      entityId: id,
      before: { revokedAt: null },
      after: { revokedAt: updated.revoked_at },
    });
    return updated;
  });
}
