import type { TimeEntryDto } from "@switchboard/shared";
import { type SqlBool, sql } from "kysely";
import type { Database } from "../../db/database.ts";
import type { WorkType } from "../../db/schema.ts";

type Db = Database;

export interface EntryRow {
  id: string;
  client_id: string;
  client_name: string;
  ticket_id: string | null;
  ticket_number: number | null;
  project_task_id: string | null;
  user_id: string;
  user_name: string;
  work_type: WorkType;
  billable: boolean;
  started_at: Date;
  ended_at: Date | null;
  minutes: number | null;
  note: string;
  reverses_entry_id: string | null;
  reversed_by: string | null;
  invoice_id: string | null;
  billed_minutes: number | null;
  billed_amount_minor: number | null;
  timesheet_approved: boolean;
  overlaps: boolean;
  version: number;
}

/**
 * Entries with what the screens show beside them: names, whether the entry is locked (on an invoice,
 * or on an approved timesheet of its technician's week, in the technician's time zone) and whether it
 * overlaps another live entry of the same technician (reversals and reversed entries do not count).
 */
export function selectEntries(db: Db) {
  return db
    .selectFrom("time_entries as e")
    .innerJoin("clients as c", "c.id", "e.client_id")
    .innerJoin("users as u", "u.id", "e.user_id")
    .leftJoin("tickets as t", "t.id", "e.ticket_id")
    .select([
      "e.id",
      "e.client_id",
      "c.name as client_name",
      "e.ticket_id",
      "t.number as ticket_number",
      "e.project_task_id",
      "e.user_id",
      "u.name as user_name",
      "e.work_type",
      "e.billable",
      "e.started_at",
      "e.ended_at",
      "e.minutes",
      "e.note",
      "e.reverses_entry_id",
      "e.invoice_id",
      "e.billed_minutes",
      "e.billed_amount_minor",
      "e.version",
      sql<string | null>`(select r.id from time_entries r where r.reverses_entry_id = e.id)`.as(
        "reversed_by",
      ),
      sql<boolean>`exists (select 1 from timesheets ts where ts.user_id = e.user_id and ts.status = 'approved'
        and ts.week_start = date_trunc('week', e.started_at at time zone u.timezone)::date)`.as(
        "timesheet_approved",
      ),
      sql<boolean>`(e.reverses_entry_id is null and exists (
        select 1 from time_entries o
        where o.user_id = e.user_id and o.id <> e.id and o.reverses_entry_id is null
          and o.started_at < coalesce(e.ended_at, now()) and coalesce(o.ended_at, now()) > e.started_at
          and not exists (select 1 from time_entries r where r.reverses_entry_id = o.id)
          and not exists (select 1 from time_entries r where r.reverses_entry_id = e.id)))`.as("overlaps"),
    ]);
}

export async function findEntry(db: Db, id: string) {
  return (await selectEntries(db).where("e.id", "=", id).executeTakeFirst()) as EntryRow | undefined;
}

export async function findRunning(db: Db, userId: string) {
  return (await selectEntries(db)
    .where("e.user_id", "=", userId)
    .where("e.ended_at", "is", null)
    .executeTakeFirst()) as EntryRow | undefined;
}

export async function listEntryRows(
  db: Db,
  f: {
    userId?: string;
    clientId?: string;
    ticketId?: string;
    from?: Date;
    to?: Date;
    visibleClientIds: readonly string[] | null;
    limit: number;
  },
) {
  let q = selectEntries(db);
  if (f.userId) q = q.where("e.user_id", "=", f.userId);
  if (f.clientId) q = q.where("e.client_id", "=", f.clientId);
  if (f.ticketId) q = q.where("e.ticket_id", "=", f.ticketId);
  if (f.from) q = q.where("e.started_at", ">=", f.from);
  if (f.to) q = q.where("e.started_at", "<", f.to);
  if (f.visibleClientIds) {
    const ids = [...f.visibleClientIds];
    q = q.where(ids.length ? sql<SqlBool>`e.client_id = any(${ids}::uuid[])` : sql<SqlBool>`false`);
  }
  return (await q.orderBy("e.started_at", "desc").orderBy("e.id").limit(f.limit).execute()) as EntryRow[];
}

export const isLocked = (r: Pick<EntryRow, "invoice_id" | "timesheet_approved">) =>
  r.invoice_id !== null || r.timesheet_approved;

export function toTimeEntryDto(r: EntryRow): TimeEntryDto {
  return {
    id: r.id,
    clientId: r.client_id,
    clientName: r.client_name,
    ticketId: r.ticket_id,
    ticketNumber: r.ticket_number,
    projectTaskId: r.project_task_id,
    userId: r.user_id,
    userName: r.user_name,
    workType: r.work_type,
    billable: r.billable,
    startedAt: r.started_at.toISOString(),
    endedAt: r.ended_at?.toISOString() ?? null,
    minutes: r.minutes,
    note: r.note,
    reversesEntryId: r.reverses_entry_id,
    reversedByEntryId: r.reversed_by,
    invoiceId: r.invoice_id,
    billedMinutes: r.billed_minutes,
    billedAmountMinor: r.billed_amount_minor,
    locked: isLocked(r),
    overlaps: r.overlaps,
    version: r.version,
  };
}
