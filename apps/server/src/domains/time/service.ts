import type {
  CreateTimeEntryRequest,
  StartTimerRequest,
  TimeEntryListQuery,
  UpdateTimeEntryRequest,
} from "@switchboard/shared";
import { sql, type Transaction } from "kysely";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import type { DB } from "../../db/schema.ts";
import { AppError, invalid, isUniqueViolation, notFound, versionConflict } from "../../http/errors.ts";
import { writeAudit } from "../audit/audit.ts";
import {
  type Actor,
  assertClientVisible,
  canSeeClient,
  requireRole,
  requireUser,
  requireWriter,
} from "../auth/actor.ts";
import { type EntryRow, findEntry, findRunning, isLocked, listEntryRows, toTimeEntryDto } from "./queries.ts";

type Trx = Transaction<DB>;
const MAX_MINUTES = 24 * 60;

const locked = (what: string) =>
  new AppError("invalid_transition", 409, `${what}: reverse the entry and log the time again instead`);

/** The client (and ticket) time is logged against: a ticket's client, or a client the actor may see. */
async function resolveTarget(
  trx: Trx,
  actor: Actor,
  t: { ticketId?: string | null; clientId?: string | null; projectTaskId?: string | null },
): Promise<{ clientId: string; ticketId: string | null; projectTaskId?: string | null }> {
  if (t.projectTaskId) {
    const task = await trx
      .selectFrom("project_tasks")
      .select(["id", "client_id"])
      .where("id", "=", t.projectTaskId)
      .executeTakeFirst();
    if (!task || !canSeeClient(actor, task.client_id)) throw invalid("body.projectTaskId", "no such task");
    return { clientId: task.client_id, ticketId: null, projectTaskId: task.id };
  }
  if (t.ticketId) {
    const ticket = await trx
      .selectFrom("tickets")
      .select(["id", "client_id"])
      .where("id", "=", t.ticketId)
      .executeTakeFirst();
    if (!ticket || !canSeeClient(actor, ticket.client_id)) throw invalid("body.ticketId", "no such ticket");
    if (t.clientId && t.clientId !== ticket.client_id)
      throw invalid("body.clientId", "is not the ticket's client");
    return { clientId: ticket.client_id, ticketId: ticket.id };
  }
  if (t.clientId) {
    const client = await trx
      .selectFrom("clients")
      .select("id")
      .where("id", "=", t.clientId)
      .executeTakeFirst();
    if (!client || !canSeeClient(actor, client.id)) throw invalid("body.clientId", "no such client");
    return { clientId: client.id, ticketId: null };
  }
  throw invalid("body.ticketId", "give the ticket (or the client) the time is for");
}

/** Whose time: my own, or (admins and dispatchers) someone else's. */
function ownerOf(actor: Actor, userId?: string) {
  requireWriter(actor);
  const me = requireUser(actor);
  if (userId && userId !== me) {
    requireRole(actor, "admin", "dispatcher");
    return userId;
  }
  return me;
}

/** Refuses a change in a week whose timesheet is approved: the technician's week, in their zone. */
async function assertWeekOpen(trx: Trx, userId: string, at: Date) {
  const { rows } = await sql<{ approved: boolean }>`
    select exists (select 1 from timesheets ts join users u on u.id = ts.user_id
      where ts.user_id = ${userId} and ts.status = 'approved'
        and ts.week_start = date_trunc('week', ${at}::timestamptz at time zone u.timezone)::date) as approved`.execute(
    trx,
  );
  if (rows[0]?.approved) throw locked("That week's timesheet is approved");
}

function span(startedAt: Date, endedAt: Date) {
  const minutes = Math.round((endedAt.getTime() - startedAt.getTime()) / 60_000);
  if (minutes < 1) throw invalid("body.endedAt", "must be at least a minute after the start");
  if (minutes > MAX_MINUTES) throw invalid("body.endedAt", "an entry covers at most 24 hours");
  return minutes;
}

const reload = async (trx: Trx, id: string) => toTimeEntryDto((await findEntry(trx, id))!);

export async function createEntry(
  db: Database,
  actor: Actor,
  input: z.output<typeof CreateTimeEntryRequest>,
) {
  const userId = ownerOf(actor, input.userId);
  const startedAt = new Date(input.startedAt);
  if (startedAt.getTime() > Date.now() + 5 * 60_000) throw invalid("body.startedAt", "is in the future");
  let endedAt: Date;
  if (input.endedAt) endedAt = new Date(input.endedAt);
  else if (input.minutes) endedAt = new Date(startedAt.getTime() + input.minutes * 60_000);
  else throw invalid("body.endedAt", "give the end or the minutes (or start a timer)");
  const minutes = span(startedAt, endedAt);
  return db.transaction().execute(async (trx) => {
    const target = await resolveTarget(trx, actor, input);
    await assertWeekOpen(trx, userId, startedAt);
    const row = await trx
      .insertInto("time_entries")
      .values({
        client_id: target.clientId,
        ticket_id: target.ticketId,
        project_task_id: target.projectTaskId ?? null,
        user_id: userId,
        work_type: input.workType,
        billable: input.billable,
        started_at: startedAt,
        ended_at: endedAt,
        minutes,
        note: input.note,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    await writeAudit(trx, actor, {
      action: "time.log",
      entityType: "time_entry",
      entityId: row.id,
      clientId: target.clientId,
      after: {
        userId,
        ticketId: target.ticketId,
        minutes,
        workType: input.workType,
        billable: input.billable,
      },
    });
    return reload(trx, row.id);
  });
}

/** Stops my running timer in the caller's transaction; returns its id, or null if none ran. */
async function stopRunning(trx: Trx, actor: Actor, userId: string, note?: string) {
  const running = await trx
    .selectFrom("time_entries")
    .select(["id", "started_at", "client_id"])
    .where("user_id", "=", userId)
    .where("ended_at", "is", null)
    .forUpdate()
    .executeTakeFirst();
  if (!running) return null;
  const now = new Date();
  // A timer is at least a minute, and a forgotten one is not a week: past 24 hours it stops there.
  const minutes = Math.min(
    MAX_MINUTES,
    Math.max(1, Math.round((now.getTime() - running.started_at.getTime()) / 60_000)),
  );
  const endedAt = new Date(running.started_at.getTime() + minutes * 60_000);
  await trx
    .updateTable("time_entries")
    .set((eb) => ({
      ended_at: endedAt,
      minutes,
      ...(note !== undefined ? { note } : {}),
      version: eb("version", "+", 1),
      updated_at: now,
    }))
    .where("id", "=", running.id)
    .execute();
  await writeAudit(trx, actor, {
    action: "time.timer_stop",
    entityType: "time_entry",
    entityId: running.id,
    clientId: running.client_id,
    after: { minutes },
  });
  return running.id;
}

/** Starts my timer (stopping the one that ran, if any): it lives on the server, so a reload keeps it. */
export async function startTimer(db: Database, actor: Actor, input: z.output<typeof StartTimerRequest>) {
  const userId = ownerOf(actor);
  try {
    return await db.transaction().execute(async (trx) => {
      const target = await resolveTarget(trx, actor, input);
      const stoppedId = await stopRunning(trx, actor, userId);
      const row = await trx
        .insertInto("time_entries")
        .values({
          client_id: target.clientId,
          ticket_id: target.ticketId,
          project_task_id: target.projectTaskId ?? null,
          user_id: userId,
          work_type: input.workType,
          billable: input.billable,
          started_at: new Date(),
          note: input.note,
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      await writeAudit(trx, actor, {
        action: "time.timer_start",
        entityType: "time_entry",
        entityId: row.id,
        clientId: target.clientId,
        after: { ticketId: target.ticketId, workType: input.workType },
      });
      return { running: await reload(trx, row.id), stopped: stoppedId ? await reload(trx, stoppedId) : null };
    });
  } catch (err) {
    // Two starts at once: the unique index on running timers lets one win.
    if (isUniqueViolation(err, "time_entries_running_idx")) {
      throw new AppError("conflict", 409, "Another timer was started at the same moment; reload");
    }
    throw err;
  }
}

export async function stopTimer(db: Database, actor: Actor, note?: string) {
  const userId = ownerOf(actor);
  return db.transaction().execute(async (trx) => {
    const id = await stopRunning(trx, actor, userId, note);
    return { running: null, stopped: id ? await reload(trx, id) : null };
  });
}

export async function myTimer(db: Database, actor: Actor) {
  const running = await findRunning(db, requireUser(actor));
  return { running: running ? toTimeEntryDto(running) : null, stopped: null };
}

/** Someone's entries: my own, or anyone's for admins and dispatchers; only clients the actor may see. */
export async function listEntries(db: Database, actor: Actor, q: z.output<typeof TimeEntryListQuery>) {
  const me = requireUser(actor);
  const others = actor.role === "admin" || actor.role === "dispatcher";
  if (q.userId && q.userId !== me && !others && !q.ticketId) {
    throw new AppError("forbidden", 403, "Only admins and dispatchers see other people's time");
  }
  const rows = await listEntryRows(db, {
    userId: q.userId ?? (others || q.ticketId || q.clientId ? undefined : me),
    clientId: q.clientId,
    ticketId: q.ticketId,
    from: q.from ? new Date(q.from) : undefined,
    to: q.to ? new Date(q.to) : undefined,
    visibleClientIds: actor.clientIds,
    limit: q.limit,
  });
  return rows.map(toTimeEntryDto);
}

async function lockEntry(trx: Trx, actor: Actor, id: string): Promise<EntryRow> {
  await trx.selectFrom("time_entries").select("id").where("id", "=", id).forUpdate().execute();
  const row = await findEntry(trx, id);
  if (!row) throw notFound("Time entry");
  assertClientVisible(actor, row.client_id, "Time entry");
  if (row.user_id !== actor.userId) requireRole(actor, "admin", "dispatcher");
  return row;
}

export async function updateEntry(
  db: Database,
  actor: Actor,
  id: string,
  input: z.output<typeof UpdateTimeEntryRequest>,
) {
  requireWriter(actor);
  return db.transaction().execute(async (trx) => {
    const before = await lockEntry(trx, actor, id);
    if (before.version !== input.version) throw versionConflict("time entry", toTimeEntryDto(before));
    if (isLocked(before)) throw locked("This time is on an invoice or an approved timesheet");
    if (before.reverses_entry_id) throw locked("A reversal cannot be edited");
    const startedAt = input.startedAt ? new Date(input.startedAt) : before.started_at;
    const endedAt = input.endedAt ? new Date(input.endedAt) : before.ended_at;
    if (input.endedAt && !before.ended_at) throw invalid("body.endedAt", "stop the timer instead");
    const minutes = endedAt ? span(startedAt, endedAt) : null;
    if (input.startedAt) await assertWeekOpen(trx, before.user_id, startedAt);
    const target =
      input.ticketId !== undefined
        ? await resolveTarget(trx, actor, {
            ticketId: input.ticketId,
            clientId: input.ticketId ? undefined : before.client_id,
          })
        : { clientId: before.client_id, ticketId: before.ticket_id };
    await trx
      .updateTable("time_entries")
      .set((eb) => ({
        work_type: input.workType,
        billable: input.billable,
        started_at: startedAt,
        ended_at: endedAt,
        minutes,
        note: input.note,
        ticket_id: target.ticketId,
        client_id: target.clientId,
        version: eb("version", "+", 1),
        updated_at: new Date(),
      }))
      .where("id", "=", id)
      .execute();
    const after = await reload(trx, id);
    await writeAudit(trx, actor, {
      action: "time.update",
      entityType: "time_entry",
      entityId: id,
      clientId: target.clientId,
      before: toTimeEntryDto(before),
      after,
    });
    return after;
  });
}

/**
 * The correction for locked time: an entry of the opposite minutes that points at the original. Billed
 * in the next run as a credit (or netting out, if the original was never billed).
 */
export async function reverseEntry(db: Database, actor: Actor, id: string, reason: string) {
  requireWriter(actor);
  return db.transaction().execute(async (trx) => {
    const original = await lockEntry(trx, actor, id);
    if (original.minutes === null || !original.ended_at) throw invalid("params.id", "stop the timer first");
    if (original.reverses_entry_id)
      throw new AppError("invalid_transition", 409, "A reversal cannot be reversed");
    if (original.reversed_by) throw new AppError("invalid_transition", 409, "This entry is already reversed");
    const row = await trx
      .insertInto("time_entries")
      .values({
        client_id: original.client_id,
        ticket_id: original.ticket_id,
        project_task_id: original.project_task_id,
        user_id: original.user_id,
        work_type: original.work_type,
        billable: original.billable,
        started_at: original.started_at,
        ended_at: original.ended_at,
        minutes: -original.minutes,
        note: `Reversal: ${reason}`,
        reverses_entry_id: original.id,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    await writeAudit(trx, actor, {
      action: "time.reverse",
      entityType: "time_entry",
      entityId: original.id,
      clientId: original.client_id,
      after: { reversalId: row.id, minutes: -original.minutes, reason },
    });
    return reload(trx, row.id);
  });
}

export async function deleteEntry(db: Database, actor: Actor, id: string) {
  requireWriter(actor);
  await db.transaction().execute(async (trx) => {
    const before = await lockEntry(trx, actor, id);
    if (isLocked(before)) throw locked("This time is on an invoice or an approved timesheet");
    if (before.reversed_by) throw locked("This entry has a reversal");
    await trx.deleteFrom("time_entries").where("id", "=", id).execute();
    await writeAudit(trx, actor, {
      action: "time.delete",
      entityType: "time_entry",
      entityId: id,
      clientId: before.client_id,
      before: toTimeEntryDto(before),
    });
  });
}
