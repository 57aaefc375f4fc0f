import { type Kysely, type SqlBool, sql, type Transaction } from "kysely";
import type { DB, SlaTargets, StatusCategory } from "../../db/schema.ts";
import type { BusinessCalendar } from "./calendar.ts";
import type { ClockHistory, ClockPolicy } from "./clock.ts";

type Q = Kysely<DB> | Transaction<DB>;

export interface LoadedPolicy {
  id: string;
  name: string;
  calendarId: string;
  targets: SlaTargets;
  warnPercent: number;
  pauseCategories: StatusCategory[];
}

/** The calendar with its holidays, as the clock reads it. */
export async function loadCalendar(db: Q, id: string): Promise<BusinessCalendar | null> {
  const cal = await db.selectFrom("sla_calendars").selectAll().where("id", "=", id).executeTakeFirst();
  if (!cal) return null;
  const holidays = await db.selectFrom("sla_holidays").select("date").where("calendar_id", "=", id).execute();
  return {
    timeZone: cal.time_zone,
    alwaysOpen: cal.always_open,
    hours: cal.hours,
    holidays: new Set(holidays.map((h) => h.date)),
  };
}

/** The client's policy, else the MSP default; null when neither exists (no SLA). */
export async function policyForClient(db: Q, clientId: string): Promise<LoadedPolicy | null> {
  const row = await db
    .selectFrom("sla_policies as p")
    .leftJoin("client_sla_policies as c", (j) =>
      j.onRef("c.policy_id", "=", "p.id").on("c.client_id", "=", clientId),
    )
    .selectAll("p")
    .where((eb) =>
      eb.or([
        eb("c.client_id", "is not", null),
        eb.and([
          eb("p.is_default", "=", true),
          eb.not(
            eb.exists(
              eb.selectFrom("client_sla_policies").select("client_id").where("client_id", "=", clientId),
            ),
          ),
        ]),
      ]),
    )
    .executeTakeFirst();
  if (!row) return null;
  return {
    id: row.id,
    name: row.name,
    calendarId: row.calendar_id,
    targets: row.targets,
    warnPercent: row.warn_percent,
    pauseCategories: row.pause_categories,
  };
}

export function clockPolicy(p: LoadedPolicy, priority: number): ClockPolicy {
  const t = p.targets[String(priority)];
  return {
    firstResponseMinutes: t?.firstResponse ?? null,
    resolutionMinutes: t?.resolution ?? null,
    warnPercent: p.warnPercent,
    pauseCategories: p.pauseCategories,
  };
}

export interface TicketForSla {
  id: string;
  number: number;
  subject: string;
  client_id: string;
  priority: number;
  status_category: StatusCategory;
  created_at: Date;
  merged_into_id: string | null;
  assignee_id: string | null;
  team_id: string | null;
  sla_due_at: Date | null;
  sla_state: string | null;
}

export async function ticketForSla(db: Q, ticketId: string): Promise<TicketForSla | undefined> {
  return db
    .selectFrom("tickets")
    .select([
      "id",
      "number",
      "subject",
      "client_id",
      "priority",
      "status_category",
      "created_at",
      "merged_into_id",
      "assignee_id",
      "team_id",
      "sla_due_at",
      "sla_state",
    ])
    .where("id", "=", ticketId)
    .executeTakeFirst();
}

export async function ticketsForSla(db: Q, ids: string[]): Promise<TicketForSla[]> {
  if (!ids.length) return [];
  return db
    .selectFrom("tickets")
    .select([
      "id",
      "number",
      "subject",
      "client_id",
      "priority",
      "status_category",
      "created_at",
      "merged_into_id",
      "assignee_id",
      "team_id",
      "sla_due_at",
      "sla_state",
    ])
    .where("id", "in", ids)
    .execute();
}

/** The ticket's history as the clock reads it (see ticketHistories). */
export async function ticketHistory(db: Q, t: TicketForSla): Promise<ClockHistory> {
  return (await ticketHistories(db, [t])).get(t.id)!;
}

/**
 * Tickets' histories as the clock reads them, from the timeline, in one query: status changes (with the
 * category they had then), the customer's words (mail or portal without a technician as author; an
 * inbound call), and the first public reply by a technician or an outbound call.
 */
export async function ticketHistories(db: Q, tickets: TicketForSla[]): Promise<Map<string, ClockHistory>> {
  const out = new Map<string, ClockHistory & { initial: StatusCategory | null }>();
  for (const t of tickets) {
    out.set(t.id, {
      createdAt: t.created_at,
      initialCategory: t.status_category,
      initial: null,
      statusChanges: [],
      customerReplies: [],
      firstResponseAt: null,
    });
  }
  if (!tickets.length) return out;
  const rows = await db
    .selectFrom("timeline_entries")
    .select([
      "ticket_id",
      "kind",
      "visibility",
      "author_user_id",
      "author_contact_id",
      "call_direction",
      "event",
      "created_at",
    ])
    .where(
      "ticket_id",
      "in",
      tickets.map((t) => t.id),
    )
    .where(
      sql<SqlBool>`(kind in ('reply', 'email', 'call') or (kind = 'event' and event->>'type' = 'status_changed'))`,
    )
    .orderBy("ticket_id")
    .orderBy("seq")
    .execute();
  for (const r of rows) {
    const h = out.get(r.ticket_id)!;
    if (r.kind === "event") {
      const e = r.event as {
        type?: string;
        from?: { category?: StatusCategory };
        to?: { category?: StatusCategory; name?: string };
      };
      if (e.type !== "status_changed" || !e.to?.category) continue;
      if (!h.statusChanges.length) h.initial = e.from?.category ?? null;
      h.statusChanges.push({ at: r.created_at, category: e.to.category, name: e.to.name ?? e.to.category });
      continue;
    }
    const byStaff = r.author_user_id !== null;
    if (
      !h.firstResponseAt &&
      byStaff &&
      ((r.kind === "reply" && r.visibility === "public") ||
        (r.kind === "call" && r.call_direction === "outbound"))
    ) {
      h.firstResponseAt = r.created_at;
    }
    if (
      (!byStaff && r.author_contact_id !== null && (r.kind === "email" || r.kind === "reply")) ||
      (r.kind === "call" && r.call_direction === "inbound")
    ) {
      h.customerReplies.push(r.created_at);
    }
  }
  for (const h of out.values()) {
    if (h.initial) h.initialCategory = h.initial;
  }
  return out;
}
