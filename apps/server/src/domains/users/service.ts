import type { CreateUserRequest, UpdateUserRequest, UserListQuery } from "@switchboard/shared";
import type { Transaction } from "kysely";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import type { DB } from "../../db/schema.ts";
import {
  AppError,
  conflictOn,
  forbidden,
  invalid,
  isUniqueViolation,
  notFound,
  versionConflict,
} from "../../http/errors.ts";
import { writeAudit } from "../audit/audit.ts";
import { changedFields } from "../audit/changes.ts";
import { type Actor, requireRole } from "../auth/actor.ts";
import { hashPassword, verifyPassword } from "../auth/crypto.ts";
import { emitAuthChanged } from "../auth/service.ts";
import { toUserDto } from "./dto.ts";
import {
  findUser,
  findUserIdByEmail,
  insertUser,
  listUsers as listUserRows,
  lockOtherActiveAdmins,
  missingIds,
  replaceUserClients,
  replaceUserTeams,
  type UserRow,
} from "./queries.ts";

type CreateUserInput = z.output<typeof CreateUserRequest>;
type UpdateUserInput = z.output<typeof UpdateUserRequest>;

/** What users may change on their own record without being an admin. */
const SELF_FIELDS = new Set([
  "version",
  "name",
  "timezone",
  "phone",
  "password",
  "currentPassword",
  "revokeApiTokens",
]);

const seesEveryone = (actor: Actor) => actor.role === "admin" || actor.role === "dispatcher";

/**
 * Admins and dispatchers get full records; everyone else gets the active users only, and the caller
 * maps those to summaries (the console's assignee pickers need no more).
 */
export async function listUsers(db: Database, actor: Actor, query: z.output<typeof UserListQuery>) {
  const full = seesEveryone(actor);
  // Only those who see full records find users by email: nobody else can probe for addresses.
  const rows = await listUserRows(db, {
    ...query,
    includeInactive: full && query.includeInactive,
    matchEmail: full,
  });
  return { full, rows };
}

export async function getUser(db: Database, actor: Actor, id: string) {
  const row = await findUser(db, id);
  const full = seesEveryone(actor) || actor.userId === id;
  if (!row || (!full && !row.active)) throw notFound("User");
  return { full, row };
}

export async function createUser(db: Database, actor: Actor, input: CreateUserInput) {
  requireRole(actor, "admin");
  if (input.allClients && input.clientIds.length) {
    throw invalid("body.clientIds", "must be empty while allClients is true");
  }
  const passwordHash = input.password ? await hashPassword(input.password) : null;
  try {
    return await db.transaction().execute(async (trx) => {
      if (await findUserIdByEmail(trx, input.email)) {
        throw conflictOn("body.email", "is already used by another user");
      }
      await assertReferences(trx, input);
      const created = await insertUser(trx, { ...input, passwordHash });
      await replaceUserClients(trx, created.id, input.allClients ? [] : input.clientIds);
      await replaceUserTeams(trx, created.id, input.teamIds);
      const row = (await findUser(trx, created.id))!;
      await writeAudit(trx, actor, {
        action: "user.create",
        entityType: "user",
        entityId: row.id,
        after: toUserDto(row),
      });
      return row;
    });
  } catch (err) {
    if (isUniqueViolation(err, "users_email_key"))
      throw conflictOn("body.email", "is already used by another user");
    throw err;
  }
}

/**
 * Admins change anything; users change their own name, time zone, phone and password (the password
 * only with the current one). Role, activity, client limits and teams land in the audit row's
 * before/after; deactivating ends the user's sessions in the same transaction.
 */
export async function updateUser(db: Database, actor: Actor, id: string, input: UpdateUserInput) {
  const self = actor.userId === id;
  const others = Object.entries(input).filter(([k, v]) => v !== undefined && !SELF_FIELDS.has(k));
  // Managing users (role, client limits, activity) takes an admin who sees every client: a
  // client-limited admin could otherwise lift their own limit, or hand someone a client they cannot see.
  const manages = actor.role === "admin" && actor.clientIds === null;
  if (!manages && (!self || others.length)) {
    if (!self && actor.role !== "admin") throw forbidden("Only an admin can change other users");
    if (!self || others.length) {
      throw forbidden(
        actor.role === "admin"
          ? "Only an admin who sees every client can change users' roles, client limits or activity"
          : `Only an admin can change ${others.map(([k]) => k).join(", ")}`,
      );
    }
  }
  if (self && input.password !== undefined && !input.currentPassword) {
    throw invalid("body.currentPassword", "is required to change your own password");
  }
  const passwordHash = input.password ? await hashPassword(input.password) : undefined;
  try {
    return await db.transaction().execute(async (trx) => {
      const before = await findUser(trx, id, { lock: true });
      if (!before) throw notFound("User");
      if (before.version !== input.version) throw versionConflict("user", toUserDto(before));
      if (self && input.password !== undefined) await checkCurrentPassword(trx, id, input.currentPassword!);
      await checkUpdate(trx, before, input);

      const allClients = input.allClients ?? before.all_clients;
      await trx
        .updateTable("users")
        .set((eb) => ({
          email: input.email,
          name: input.name,
          role: input.role,
          active: input.active,
          all_clients: input.allClients,
          timezone: input.timezone,
          phone: input.phone,
          password_hash: passwordHash,
          version: eb("version", "+", 1),
          updated_at: new Date(),
        }))
        .where("id", "=", id)
        .execute();
      if (input.allClients !== undefined || input.clientIds !== undefined) {
        await replaceUserClients(trx, id, allClients ? [] : (input.clientIds ?? before.client_ids));
      }
      if (input.teamIds !== undefined) await replaceUserTeams(trx, id, input.teamIds);
      // A deactivated user is signed out everywhere now (their API tokens stop resolving too: token
      // lookup requires an active user). An admin's password reset also ends the user's sessions, since
      // whoever knew the old password may be signed in with it.
      if ((input.active === false && before.active) || (passwordHash && !self)) {
        await trx.deleteFrom("sessions").where("user_id", "=", id).execute();
      } else if (passwordHash && self) {
        // My own new password ends my other sessions (one may be the reason I changed it); this one
        // stays signed in.
        let others = trx.deleteFrom("sessions").where("user_id", "=", id);
        if (actor.credential?.kind === "session")
          others = others.where("token_hash", "!=", actor.credential.hash);
        await others.execute();
      }
      if (input.revokeApiTokens) {
        await trx
          .updateTable("api_tokens")
          .set({ revoked_at: new Date() })
          .where("user_id", "=", id)
          .where("revoked_at", "is", null)
          .execute();
      }
      const after = (await findUser(trx, id))!;
      const diff = changedFields(toUserDto(before), toUserDto(after), ["version"]);
      if (passwordHash) {
        // The hash never enters the log: only the fact that the password changed.
        Object.assign(diff.before, { password: "(previous)" });
        Object.assign(diff.after, { password: "(changed)" });
      }
      if (input.revokeApiTokens) Object.assign(diff.after, { apiTokens: "(all revoked)" });
      await emitAuthChanged(trx, actor, id);
      await writeAudit(trx, actor, {
        action: auditAction(before, after),
        entityType: "user",
        entityId: id,
        before: diff.before,
        after: diff.after,
      });
      return after;
    });
  } catch (err) {
    if (isUniqueViolation(err, "users_email_key"))
      throw conflictOn("body.email", "is already used by another user");
    throw err;
  }
}

// Deactivation and role changes get their own action so an admin can filter the log for them.
function auditAction(before: UserRow, after: UserRow) {
  if (before.active && !after.active) return "user.deactivate";
  if (!before.active && after.active) return "user.reactivate";
  if (before.role !== after.role) return "user.role_change";
  return "user.update";
}

async function checkCurrentPassword(trx: Transaction<DB>, id: string, currentPassword: string) {
  const row = await trx.selectFrom("users").select("password_hash").where("id", "=", id).executeTakeFirst();
  if (!(await verifyPassword(row?.password_hash ?? null, currentPassword))) {
    throw invalid("body.currentPassword", "is not your current password");
  }
}

async function checkUpdate(trx: Transaction<DB>, before: UserRow, input: UpdateUserInput) {
  const allClients = input.allClients ?? before.all_clients;
  if (allClients && input.clientIds?.length) {
    throw invalid("body.clientIds", "must be empty while allClients is true");
  }
  if (input.email && input.email !== before.email.toLowerCase()) {
    const other = await findUserIdByEmail(trx, input.email);
    if (other && other.id !== before.id) throw conflictOn("body.email", "is already used by another user");
  }
  await assertReferences(trx, { clientIds: input.clientIds ?? [], teamIds: input.teamIds ?? [] });
  const losesAdmin =
    before.role === "admin" &&
    before.active &&
    ((input.role !== undefined && input.role !== "admin") || input.active === false);
  if (losesAdmin && (await lockOtherActiveAdmins(trx, before.id)) === 0) {
    throw new AppError("conflict", 409, "Switchboard needs at least one active admin", {
      issues: [
        { path: input.active === false ? "body.active" : "body.role", message: "would leave no admin" },
      ],
    });
  }
}

export async function assertReferences(
  trx: Transaction<DB>,
  input: { clientIds: string[]; teamIds: string[] },
) {
  const clients = await missingIds(trx, "clients", input.clientIds);
  if (clients.length) throw invalid("body.clientIds", `unknown client ${clients[0]}`);
  const teams = await missingIds(trx, "teams", input.teamIds);
  if (teams.length) throw invalid("body.teamIds", `unknown team ${teams[0]}`);
}
