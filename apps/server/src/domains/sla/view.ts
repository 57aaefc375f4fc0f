import type { SlaReportDto, TicketSlaDto } from "@switchboard/shared";
import { sql } from "kysely";
import type { Database } from "../../db/database.ts";
import { notFound } from "../../http/errors.ts";
import { addDays, startOfDay } from "../../lib/zoned.ts";
import { type Actor, assertClientVisible } from "../auth/actor.ts";
import { computeClock, type TargetClock } from "./clock.ts";
import { clockPolicy, loadCalendar, policyForClient, ticketForSla, ticketHistory } from "./queries.ts";

const iso = (d: Date | null) => d?.toISOString() ?? null;
const targetDto = (t: TargetClock) => ({
  status: t.status,
  targetMinutes: t.targetMinutes,
  elapsedMinutes: t.elapsedMinutes,
  dueAt: iso(t.dueAt),
  warnAt: iso(t.warnAt),
  metAt: iso(t.metAt),
  breachedAt: iso(t.breachedAt),
});
const NONE = {
  status: "none" as const,
  targetMinutes: null,
  elapsedMinutes: 0,
  dueAt: null,
  warnAt: null,
  metAt: null,
  breachedAt: null,
};

/** A ticket's clock as of now, explained: the same pure computation the stored due times come from. */
export async function ticketSla(
  db: Database,
  actor: Actor,
  ticketId: string,
  now = new Date(),
): Promise<TicketSlaDto> {
  const t = await ticketForSla(db, ticketId);
  if (!t) throw notFound("Ticket");
  assertClientVisible(actor, t.client_id, "Ticket");
  const policy = t.merged_into_id ? null : await policyForClient(db, t.client_id);
  const calendar = policy ? await loadCalendar(db, policy.calendarId) : null;
  if (!policy || !calendar)
    return { policy: null, paused: false, firstResponse: NONE, resolution: NONE, segments: [] };
  const calName = await db
    .selectFrom("sla_calendars")
    .select("name")
    .where("id", "=", policy.calendarId)
    .executeTakeFirstOrThrow();
  const clock = computeClock(await ticketHistory(db, t), clockPolicy(policy, t.priority), calendar, now);
  return {
    policy: { id: policy.id, name: policy.name, calendarName: calName.name, timeZone: calendar.timeZone },
    paused: clock.paused,
    firstResponse: targetDto(clock.firstResponse),
    resolution: targetDto(clock.resolution),
    segments: clock.segments.map((s) => ({
      from: s.from.toISOString(),
      to: iso(s.to),
      state: s.state,
      reason: s.reason,
    })),
  };
}

/**
 * Met and breached per client and priority for tickets created in a month (the MSP's zone), with the
 * median time to first response. Reads the stored clocks; row-level security keeps it to the caller's
 * clients.
 */
export async function slaReport(db: Database, month: string): Promise<SlaReportDto> {
  const msp = await db.selectFrom("msp").select("timezone").executeTakeFirst();
  const zone = msp?.timezone ?? "UTC";
  const from = startOfDay(`${month}-01`, zone);
  const next = addDays(`${month}-01`, 32).slice(0, 7);
  const to = startOfDay(`${next}-01`, zone);
  const { rows } = await sql<{
    client_id: string;
    client_name: string;
    priority: number;
    tickets: number;
    fr_met: number;
    fr_breached: number;
    res_met: number;
    res_breached: number;
    median_fr: number | null;
  }>`
    select c.id as client_id, c.name as client_name, s.priority,
      count(*)::int as tickets,
      count(*) filter (where s.first_response_status = 'met')::int as fr_met,
      count(*) filter (where s.first_response_status = 'breached')::int as fr_breached,
      count(*) filter (where s.resolution_status = 'met')::int as res_met,
      count(*) filter (where s.resolution_status = 'breached')::int as res_breached,
      percentile_cont(0.5) within group (
        order by extract(epoch from (s.first_response_met_at - t.created_at)) / 60
      ) filter (where s.first_response_met_at is not null) as median_fr
    from ticket_slas s
    join tickets t on t.id = s.ticket_id
    join clients c on c.id = s.client_id
    where t.created_at >= ${from} and t.created_at < ${to}
    group by c.id, c.name, s.priority
    order by c.name, s.priority`.execute(db);
  return {
    month,
    rows: rows.map((r) => ({
      client: { id: r.client_id, name: r.client_name },
      priority: r.priority,
      tickets: r.tickets,
      firstResponseMet: r.fr_met,
      firstResponseBreached: r.fr_breached,
      resolutionMet: r.res_met,
      resolutionBreached: r.res_breached,
      medianFirstResponseMinutes: r.median_fr === null ? null : Math.round(Number(r.median_fr)),
    })),
  };
}
