import type { TimesheetDto } from "@switchboard/shared";
import type { Database } from "../../db/database.ts";
import { AppError, invalid, notFound, versionConflict } from "../../http/errors.ts";
import { addDays, localDate, mondayOf, startOfDay } from "../../lib/zoned.ts";
import { writeAudit } from "../audit/audit.ts";
import { type Actor, requireRole, requireUser } from "../auth/actor.ts";
import { listEntryRows, toTimeEntryDto } from "./queries.ts";

const mayManage = (actor: Actor) =>
  (actor.role === "admin" || actor.role === "dispatcher") && actor.clientIds === null;

async function userOf(db: Database, actor: Actor, userId?: string) {
  const me = requireUser(actor);
  const id = userId ?? me;
  if (id !== me && !mayManage(actor)) {
    throw new AppError(
      "forbidden",
      403,
      "Only admins and dispatchers who see every client see others' timesheets",
    );
  }
  const user = await db
    .selectFrom("users")
    .select(["id", "name", "timezone"])
    .where("id", "=", id)
    .executeTakeFirst();
  if (!user) throw notFound("User");
  return user;
}

/**
 * A technician's week: Monday to Sunday in their own time zone, minutes per day (billable or not) and
 * the entries, with the timesheet's status. Days are cut at local midnight, so a week across a daylight
 * saving change still has seven days (one of 23 or 25 hours).
 */
export async function getTimesheet(
  db: Database,
  actor: Actor,
  q: { userId?: string; week?: string },
): Promise<TimesheetDto> {
  const user = await userOf(db, actor, q.userId);
  const weekStart = mondayOf(q.week ?? localDate(new Date(), user.timezone));
  const bounds = Array.from({ length: 8 }, (_, i) => startOfDay(addDays(weekStart, i), user.timezone));
  const entries = await listEntryRows(db, {
    userId: user.id,
    from: bounds[0],
    to: bounds[7],
    visibleClientIds: null,
    limit: 1000,
  });
  const days = Array.from({ length: 7 }, (_, i) => ({
    date: addDays(weekStart, i),
    billable: 0,
    nonBillable: 0,
  }));
  for (const e of entries) {
    if (e.minutes === null) continue;
    const day = bounds.findIndex((b, i) => i < 7 && e.started_at >= b && e.started_at < bounds[i + 1]!);
    if (day < 0) continue;
    if (e.billable) days[day]!.billable += e.minutes;
    else days[day]!.nonBillable += e.minutes;
  }
  const sheet = await db
    .selectFrom("timesheets")
    .selectAll()
    .where("user_id", "=", user.id)
    .where("week_start", "=", weekStart)
    .executeTakeFirst();
  const billableMinutes = days.reduce((a, d) => a + d.billable, 0);
  return {
    id: sheet?.id ?? null,
    userId: user.id,
    userName: user.name,
    weekStart,
    timezone: user.timezone,
    status: sheet?.status ?? "open",
    submittedAt: sheet?.submitted_at?.toISOString() ?? null,
    decidedAt: sheet?.decided_at?.toISOString() ?? null,
    decisionNote: sheet?.decision_note ?? "",
    days,
    totalMinutes: billableMinutes + days.reduce((a, d) => a + d.nonBillable, 0),
    billableMinutes,
    entries: entries.map(toTimeEntryDto),
    version: sheet?.version ?? 0,
  };
}

/** I submit my week; a running timer must be stopped first (its time is not final). */
export async function submitTimesheet(db: Database, actor: Actor, week: string) {
  const user = await userOf(db, actor);
  const weekStart = mondayOf(week);
  await db.transaction().execute(async (trx) => {
    const running = await trx
      .selectFrom("time_entries")
      .select("id")
      .where("user_id", "=", user.id)
      .where("ended_at", "is", null)
      .executeTakeFirst();
    if (running)
      throw new AppError("invalid_transition", 409, "Stop your running timer before submitting the week");
    const existing = await trx
      .selectFrom("timesheets")
      .selectAll()
      .where("user_id", "=", user.id)
      .where("week_start", "=", weekStart)
      .forUpdate()
      .executeTakeFirst();
    if (existing && existing.status !== "open" && existing.status !== "rejected") {
      throw new AppError("invalid_transition", 409, `This week is already ${existing.status}`);
    }
    const row = await trx
      .insertInto("timesheets")
      .values({ user_id: user.id, week_start: weekStart, status: "submitted", submitted_at: new Date() })
      .onConflict((oc) =>
        oc.columns(["user_id", "week_start"]).doUpdateSet((eb) => ({
          status: "submitted",
          submitted_at: new Date(),
          version: eb("timesheets.version", "+", 1),
        })),
      )
      .returning("id")
      .executeTakeFirstOrThrow();
    await writeAudit(trx, actor, {
      action: "timesheet.submit",
      entityType: "timesheet",
      entityId: row.id,
      after: { weekStart },
    });
  });
  return getTimesheet(db, actor, { week: weekStart });
}

/**
 * Admins and dispatchers (who see every client: a week spans clients) approve or reject a submitted
 * week, and an admin may reopen an approved one to correct it. Approval locks the week's entries.
 */
export async function decideTimesheet(
  db: Database,
  actor: Actor,
  id: string,
  input: { decision: "approve" | "reject" | "reopen"; note: string; version?: number },
) {
  requireRole(actor, "admin", "dispatcher");
  if (actor.clientIds !== null) throw new AppError("forbidden", 403, "This needs access to every client");
  if (input.decision === "reopen") requireRole(actor, "admin");
  const { userId, weekStart } = await db.transaction().execute(async (trx) => {
    const sheet = await trx
      .selectFrom("timesheets")
      .selectAll()
      .where("id", "=", id)
      .forUpdate()
      .executeTakeFirst();
    if (!sheet) throw notFound("Timesheet");
    if (input.version !== undefined && input.version !== sheet.version)
      throw versionConflict("timesheet", { id });
    const from = input.decision === "reopen" ? "approved" : "submitted";
    if (sheet.status !== from) {
      throw new AppError(
        "invalid_transition",
        409,
        `Only a ${from} week can be ${input.decision === "reopen" ? "reopened" : `${input.decision}d`}`,
      );
    }
    if (input.decision === "reject" && !input.note) throw invalid("body.note", "say what to fix");
    const status =
      input.decision === "approve" ? "approved" : input.decision === "reject" ? "rejected" : "open";
    await trx
      .updateTable("timesheets")
      .set((eb) => ({
        status,
        decided_by_user_id: actor.userId,
        decided_at: new Date(),
        decision_note: input.note,
        version: eb("version", "+", 1),
      }))
      .where("id", "=", id)
      .execute();
    await writeAudit(trx, actor, {
      action: `timesheet.${input.decision}`,
      entityType: "timesheet",
      entityId: id,
      before: { status: sheet.status },
      after: { status, note: input.note },
    });
    return { userId: sheet.user_id, weekStart: sheet.week_start };
  });
  return getTimesheet(db, actor, { userId, week: weekStart });
}
