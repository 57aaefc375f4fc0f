import type { NotificationPreferencesDto, UpdateNotificationPreferencesRequest } from "@switchboard/shared";
import type { Transaction } from "kysely";
import type { Database } from "../../db/database.ts";
import type { DB } from "../../db/schema.ts";
import { forbidden, notFound } from "../../http/errors.ts";
import { writeAudit } from "../audit/audit.ts";
import { changedFields } from "../audit/changes.ts";
import type { Actor } from "../auth/actor.ts";

/**
 * Which notification emails a technician gets (domains/email/notifications.ts reads the same table in
 * its own query). A user without a row gets every email: the defaults are the behaviour before
 * preferences existed.
 */
export const DEFAULT_PREFERENCES = { assigned: true, newReply: true, monitoringP1: true } as const;

/** Users read and change their own; admins anyone's. Others' preferences are none of my business. */
function assertMayManage(actor: Actor, userId: string) {
  if (actor.userId !== null && actor.userId === userId) return;
  if (actor.role === "admin" && actor.clientIds === null) return;
  throw forbidden("Only an admin can see or change another user's notification preferences");
}

async function readPreferences(
  db: Database | Transaction<DB>,
  userId: string,
  opts: { lock?: boolean } = {},
): Promise<NotificationPreferencesDto | null> {
  // The users row, locked when changing: two first-time saves for one user cannot both insert, and the
  // audit row's "before" is the value the change replaced.
  let q = db
    .selectFrom("users as u")
    .leftJoin("user_notification_preferences as p", "p.user_id", "u.id")
    .select(["u.id", "p.assigned", "p.new_reply", "p.monitoring_p1"])
    .where("u.id", "=", userId);
  if (opts.lock) q = q.forUpdate("u");
  const row = await q.executeTakeFirst();
  if (!row) return null;
  return {
    userId: row.id,
    assigned: row.assigned ?? DEFAULT_PREFERENCES.assigned,
    newReply: row.new_reply ?? DEFAULT_PREFERENCES.newReply,
    monitoringP1: row.monitoring_p1 ?? DEFAULT_PREFERENCES.monitoringP1,
  };
}

export async function getNotificationPreferences(db: Database, actor: Actor, userId: string) {
  assertMayManage(actor, userId);
  const prefs = await readPreferences(db, userId);
  if (!prefs) throw notFound("User");
  return prefs;
}

/** Changes the preferences named in `input`; the rest keep their value. Audited when something changed. */
export async function updateNotificationPreferences(
  db: Database,
  actor: Actor,
  userId: string,
  input: UpdateNotificationPreferencesRequest,
) {
  assertMayManage(actor, userId);
  return db.transaction().execute(async (trx) => {
    const before = await readPreferences(trx, userId, { lock: true });
    if (!before) throw notFound("User");
    const after: NotificationPreferencesDto = {
      userId,
      assigned: input.assigned ?? before.assigned,
      newReply: input.newReply ?? before.newReply,
      monitoringP1: input.monitoringP1 ?? before.monitoringP1,
    };
    const diff = changedFields(before, after);
    if (diff.keys.length === 0) return after;
    await trx
      .insertInto("user_notification_preferences")
      .values({
        user_id: userId,
        assigned: after.assigned,
        new_reply: after.newReply,
        monitoring_p1: after.monitoringP1,
      })
      .onConflict((oc) =>
        oc.column("user_id").doUpdateSet({
          assigned: after.assigned,
          new_reply: after.newReply,
          monitoring_p1: after.monitoringP1,
          updated_at: new Date(),
        }),
      )
      .execute();
    await writeAudit(trx, actor, {
      action: "user.notification_preferences",
      entityType: "user",
      entityId: userId,
      before: diff.before,
      after: diff.after,
    });
    return after;
  });
}
