import type { InviteDto, InviteUserRequest } from "@switchboard/shared";
import type { Selectable } from "kysely";
import type { z } from "zod";
import type { Config } from "../../config.ts";
import type { Database } from "../../db/database.ts";
import type { UserInvitesTable } from "../../db/schema.ts";
import { asSystem } from "../../db/scope.ts";
import { AppError, conflictOn, forbidden, invalid, isUniqueViolation, notFound } from "../../http/errors.ts";
import { writeAudit } from "../audit/audit.ts";
import { type Actor, requireRole } from "../auth/actor.ts";
import { hashPassword, newSecret, sha256 } from "../auth/crypto.ts";
import { emitAuthChanged } from "../auth/service.ts";
import { sendDirect } from "../email/settings.ts";
import { toUserDto } from "./dto.ts";
import { findUser, findUserIdByEmail, insertUser, replaceUserClients, replaceUserTeams } from "./queries.ts";
import { assertReferences } from "./service.ts";

// Inviting a technician: the user is created without a password, and a one-time link lets them set one.
// The link's token is 256 random bits of which only the SHA-256 is stored; it is single-use (claimed by
// one UPDATE), expires after INVITE_DAYS, and a newer invitation revokes the older ones. The mail is sent
// in the request, after the commit, and its outcome (sent_at or last_error) stays on the invitation, so
// an admin who invited people before configuring mail sees "not sent: no outbound relay" and resends.

export const INVITE_DAYS = 7;
type InviteRow = Selectable<UserInvitesTable>;
type InviteInput = z.output<typeof InviteUserRequest>;

export const toInviteDto = (r: InviteRow): InviteDto => ({
  id: r.id,
  userId: r.user_id,
  expiresAt: r.expires_at.toISOString(),
  usedAt: r.used_at?.toISOString() ?? null,
  sentAt: r.sent_at?.toISOString() ?? null,
  lastError: r.last_error,
  createdAt: r.created_at.toISOString(),
});

/** Managing users takes an admin who sees every client (see users/service.ts updateUser). */
function requireUserManager(actor: Actor) {
  requireRole(actor, "admin");
  if (actor.clientIds !== null) {
    throw forbidden("Only an admin who sees every client can invite users");
  }
}

export const inviteUrl = (baseUrl: string, token: string) => `${baseUrl.replace(/\/+$/, "")}/invite/${token}`;

export async function inviteUser(
  db: Database,
  config: Config,
  actor: Actor,
  input: InviteInput,
  baseUrl: string,
) {
  requireUserManager(actor);
  if (input.allClients && input.clientIds.length) {
    throw invalid("body.clientIds", "must be empty while allClients is true");
  }
  const token = newSecret();
  let created: { user: NonNullable<Awaited<ReturnType<typeof findUser>>>; invite: InviteRow };
  try {
    created = await db.transaction().execute(async (trx) => {
      if (await findUserIdByEmail(trx, input.email)) {
        throw conflictOn("body.email", "is already used by another user");
      }
      await assertReferences(trx, input);
      const row = await insertUser(trx, { ...input, passwordHash: null });
      await replaceUserClients(trx, row.id, input.allClients ? [] : input.clientIds);
      await replaceUserTeams(trx, row.id, input.teamIds);
      const invite = await insertInvite(trx, actor, row.id, token);
      const user = (await findUser(trx, row.id))!;
      await writeAudit(trx, actor, {
        action: "user.invite",
        entityType: "user",
        entityId: user.id,
        after: { ...toUserDto(user), inviteExpiresAt: invite.expires_at.toISOString() },
      });
      return { user, invite };
    });
  } catch (err) {
    if (isUniqueViolation(err, "users_email_key"))
      throw conflictOn("body.email", "is already used by another user");
    throw err;
  }
  const invite = await deliver(db, config, created.invite, created.user, token, baseUrl);
  return { user: created.user, invite, inviteUrl: inviteUrl(baseUrl, token) };
}

/** A new link for someone who has not set a password yet (the old links stop working). */
export async function resendInvite(
  db: Database,
  config: Config,
  actor: Actor,
  userId: string,
  baseUrl: string,
) {
  requireUserManager(actor);
  const token = newSecret();
  const { user, invite } = await db.transaction().execute(async (trx) => {
    const user = await findUser(trx, userId, { lock: true });
    if (!user) throw notFound("User");
    if (!user.active)
      throw new AppError("invalid_transition", 409, "Reactivate the user before inviting them");
    const hasPassword = await trx
      .selectFrom("users")
      .select("id")
      .where("id", "=", userId)
      .where("password_hash", "is not", null)
      .executeTakeFirst();
    if (hasPassword) {
      throw new AppError("invalid_transition", 409, "This user has set a password already; reset it instead");
    }
    const invite = await insertInvite(trx, actor, userId, token);
    await writeAudit(trx, actor, {
      action: "user.invite_resend",
      entityType: "user",
      entityId: userId,
      after: { inviteExpiresAt: invite.expires_at.toISOString() },
    });
    return { user, invite };
  });
  return {
    user,
    invite: await deliver(db, config, invite, user, token, baseUrl),
    inviteUrl: inviteUrl(baseUrl, token),
  };
}

async function insertInvite(
  trx: Parameters<typeof replaceUserTeams>[0],
  actor: Actor,
  userId: string,
  token: string,
) {
  // One open link per user: a newer invitation replaces the older ones.
  await trx
    .updateTable("user_invites")
    .set({ revoked_at: new Date() })
    .where("user_id", "=", userId)
    .where("used_at", "is", null)
    .where("revoked_at", "is", null)
    .execute();
  return trx
    .insertInto("user_invites")
    .values({
      user_id: userId,
      token_hash: sha256(token),
      expires_at: new Date(Date.now() + INVITE_DAYS * 86_400_000),
      created_by_user_id: actor.userId,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

async function deliver(
  db: Database,
  config: Config,
  invite: InviteRow,
  user: { email: string; name: string },
  token: string,
  baseUrl: string,
) {
  const msp = await db.selectFrom("msp").select("name").executeTakeFirst();
  let set: { sent_at: Date; last_error: null } | { last_error: string };
  try {
    await sendDirect(db, config, {
      to: user.email,
      subject: `You are invited to ${msp?.name ?? "Switchboard"}'s service desk`,
      text:
        `Hello ${user.name},\n\nyou have an account on ${msp?.name ?? "your MSP"}'s Switchboard. ` +
        `Choose your password here (the link works once, until ${invite.expires_at.toUTCString()}):\n\n` +
        `${inviteUrl(baseUrl, token)}\n`,
    });
    set = { sent_at: new Date(), last_error: null };
  } catch (err) {
    set = { last_error: (err as Error).message.slice(0, 1000) };
  }
  return db
    .updateTable("user_invites")
    .set(set)
    .where("id", "=", invite.id)
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** The newest invitation of every user who has not set a password yet. */
export async function listOpenInvites(db: Database, actor: Actor) {
  requireUserManager(actor);
  const rows = await db
    .selectFrom("user_invites as i")
    .innerJoin("users as u", "u.id", "i.user_id")
    .selectAll("i")
    .distinctOn("i.user_id")
    .where("u.password_hash", "is", null)
    .orderBy("i.user_id")
    .orderBy("i.created_at", "desc")
    .execute();
  return rows.map(toInviteDto);
}

const INVALID_LINK = () =>
  new AppError("not_found", 404, "This invitation link is not valid: it was used, replaced or has expired");

function openInvite(db: Database, token: string) {
  return db
    .selectFrom("user_invites as i")
    .innerJoin("users as u", "u.id", "i.user_id")
    .select(["i.id", "u.email", "u.name"])
    .where("i.token_hash", "=", sha256(token))
    .where("i.used_at", "is", null)
    .where("i.revoked_at", "is", null)
    .where("i.expires_at", ">", new Date())
    .where("u.active", "=", true)
    .executeTakeFirst();
}

/** What the set-password page shows: whose link this is. Public: the token is the credential. */
export async function describeInvite(db: Database, token: string) {
  return asSystem(async () => {
    const row = await openInvite(db, token);
    if (!row) throw INVALID_LINK();
    const msp = await db.selectFrom("msp").select("name").executeTakeFirst();
    return { email: row.email, name: row.name, mspName: msp?.name ?? "Switchboard" };
  });
}

/**
 * Sets the password through a link. The claim is one UPDATE that only an open, unexpired invitation
 * matches, so two submissions of the same link cannot both succeed. Returns the user's email.
 */
export async function acceptInvite(db: Database, input: { token: string; password: string; ip?: string }) {
  const passwordHash = await hashPassword(input.password);
  return asSystem(() =>
    db.transaction().execute(async (trx) => {
      const claimed = await trx
        .updateTable("user_invites as i")
        .set({ used_at: new Date() })
        .from("users as u")
        .whereRef("u.id", "=", "i.user_id")
        .where("i.token_hash", "=", sha256(input.token))
        .where("i.used_at", "is", null)
        .where("i.revoked_at", "is", null)
        .where("i.expires_at", ">", new Date())
        .where("u.active", "=", true)
        .returning(["i.user_id", "u.email", "u.name"])
        .executeTakeFirst();
      if (!claimed) throw INVALID_LINK();
      await trx
        .updateTable("users")
        .set((eb) => ({
          password_hash: passwordHash,
          version: eb("version", "+", 1),
          updated_at: new Date(),
        }))
        .where("id", "=", claimed.user_id)
        .execute();
      const actor: Actor = {
        kind: "user",
        userId: claimed.user_id,
        name: claimed.name,
        role: "readonly",
        clientIds: null,
        teamIds: [],
        timezone: "UTC",
        via: "session",
        ip: input.ip,
      };
      await emitAuthChanged(trx, actor, claimed.user_id);
      await writeAudit(trx, actor, {
        action: "user.invite_accept",
        entityType: "user",
        entityId: claimed.user_id,
        after: { password: "(set)" },
      });
      return { email: claimed.email };
    }),
  );
}
