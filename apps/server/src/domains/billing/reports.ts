import { sql } from "kysely";
import type { Database } from "../../db/database.ts";
import { invalid } from "../../http/errors.ts";
import { addDays, startOfDay } from "../../lib/zoned.ts";
import { type Actor, requireRole } from "../auth/actor.ts";
import { blockBalances } from "./contracts.ts";

/** Working minutes a technician has on a weekday: 8 hours, Monday to Friday. */
const WORKDAY_MINUTES = 8 * 60;

function checkRange(from: string, to: string) {
  if (to < from) throw invalid("query.to", "is before from");
  if (addDays(from, 366) < to) throw invalid("query.to", "a report covers at most a year");
}

function weekdays(from: string, to: string) {
  let n = 0;
  for (let d = from; d <= to; d = addDays(d, 1)) {
    const dow = new Date(`${d}T00:00:00Z`).getUTCDay();
    if (dow !== 0 && dow !== 6) n++;
  }
  return n;
}

/**
 * Billable against available hours per technician, days [from, to] in each technician's own zone.
 * Available: 8 hours each weekday.
 */
export async function utilisation(db: Database, actor: Actor, from: string, to: string) {
  requireRole(actor, "admin", "dispatcher");
  checkRange(from, to);
  const users = await db
    .selectFrom("users")
    .select(["id", "name", "timezone"])
    .where("active", "=", true)
    .where("role", "!=", "readonly")
    .orderBy("name")
    .execute();
  const available = weekdays(from, to) * WORKDAY_MINUTES;
  const out = [];
  for (const u of users) {
    const { rows } = await sql<{ billable: number; other: number }>`
      select coalesce(sum(minutes) filter (where billable), 0)::int as billable,
             coalesce(sum(minutes) filter (where not billable), 0)::int as other
      from time_entries where user_id = ${u.id} and minutes is not null
        and started_at >= ${startOfDay(from, u.timezone)} and started_at < ${startOfDay(addDays(to, 1), u.timezone)}`.execute(
      db,
    );
    const r = rows[0] ?? { billable: 0, other: 0 };
    out.push({
      userId: u.id,
      userName: u.name,
      billableMinutes: Number(r.billable),
      nonBillableMinutes: Number(r.other),
      availableMinutes: available,
      utilisation: available ? Math.round((Number(r.billable) / available) * 1000) / 1000 : 0,
    });
  }
  return out;
}

/** What each client brought in (approved invoices of months in the range) per hour worked for it. */
export async function profitability(db: Database, actor: Actor, from: string, to: string) {
  requireRole(actor, "admin");
  checkRange(from, to);
  const tz = (await db.selectFrom("msp").select("timezone").executeTakeFirst())?.timezone ?? "UTC";
  const { rows } = await sql<{
    client_id: string;
    client_name: string;
    invoiced: number;
    worked: number;
    billable: number;
  }>`
    select c.id as client_id, c.name as client_name,
      coalesce((select sum(i.total_minor) from invoices i where i.client_id = c.id and i.status = 'approved'
        and i.period_start >= ${from}::date and i.period_start <= ${to}::date), 0)::bigint as invoiced,
      coalesce((select sum(e.minutes) from time_entries e where e.client_id = c.id and e.minutes is not null
        and e.started_at >= ${startOfDay(from, tz)} and e.started_at < ${startOfDay(addDays(to, 1), tz)}), 0)::int as worked,
      coalesce((select sum(e.minutes) from time_entries e where e.client_id = c.id and e.minutes is not null and e.billable
        and e.started_at >= ${startOfDay(from, tz)} and e.started_at < ${startOfDay(addDays(to, 1), tz)}), 0)::int as billable
    from clients c
    where (${actor.clientIds ? [...actor.clientIds] : null}::uuid[] is null or c.id = any(${actor.clientIds ? [...actor.clientIds] : null}::uuid[]))
    order by c.name`.execute(db);
  return rows
    .filter((r) => Number(r.invoiced) > 0 || Number(r.worked) > 0)
    .map((r) => ({
      clientId: r.client_id,
      clientName: r.client_name,
      invoicedMinor: Number(r.invoiced),
      workedMinutes: Number(r.worked),
      billableMinutes: Number(r.billable),
      revenuePerHourMinor: Number(r.worked) ? Math.round((Number(r.invoiced) * 60) / Number(r.worked)) : 0,
    }));
}

/** Prepaid hours left per block, soonest to expire first. */
export async function blockReport(db: Database, actor: Actor) {
  requireRole(actor, "admin", "dispatcher");
  const blocks = await blockBalances(db, { clientIds: actor.clientIds });
  const names = new Map(
    (await db.selectFrom("clients").select(["id", "name"]).execute()).map((c) => [c.id, c.name] as const),
  );
  return blocks
    .filter((b) => !b.expired)
    .map((b) => ({
      clientId: b.clientId,
      clientName: names.get(b.clientId) ?? "",
      blockId: b.id,
      expiresOn: b.expiresOn,
      purchasedMinutes: b.purchasedMinutes,
      remainingMinutes: b.remainingMinutes,
    }));
}
