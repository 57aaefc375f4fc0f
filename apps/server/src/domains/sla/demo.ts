import { sql } from "kysely";
import type { Database } from "../../db/database.ts";

/**
 * The demo MSP's promises: business hours in its own zone, "Standard" for every client and "Gold" for the
 * dental practice, and the night rota (hand-over at 17:00; it does not page, so a demo pages nobody). The
 * clocks themselves are computed by the worker from the seeded tickets' events, like any ticket's.
 */
export async function seedDemoSla(
  db: Database,
  opts: { timeZone: string; goldClient: string; rotaEmails: string[] },
) {
  await db.transaction().execute(async (trx) => {
    await sql`update sla_calendars set time_zone = ${opts.timeZone} where name = 'Business hours'`.execute(
      trx,
    );
    await sql`insert into sla_holidays (calendar_id, date, name)
      select id, d.date::date, d.name from sla_calendars,
        (values ('2026-11-26', 'Thanksgiving'), ('2026-12-25', 'Christmas Day'), ('2027-01-01', 'New Year''s Day'))
          as d(date, name)
      where sla_calendars.name = 'Business hours'
      on conflict do nothing`.execute(trx);
    const policy = (targets: Record<string, [number, number]>) =>
      JSON.stringify(
        Object.fromEntries(
          Object.entries(targets).map(([p, [fr, res]]) => [p, { firstResponse: fr, resolution: res }]),
        ),
      );
    await sql`insert into sla_policies (name, calendar_id, targets, is_default)
      select 'Standard', id, ${policy({ "1": [30, 480], "2": [120, 960], "3": [480, 2400], "4": [960, 4800] })}::jsonb, true
      from sla_calendars where name = 'Business hours'`.execute(trx);
    await sql`insert into sla_policies (name, calendar_id, targets)
      select 'Gold', id, ${policy({ "1": [15, 240], "2": [60, 480], "3": [240, 1440], "4": [480, 2880] })}::jsonb
      from sla_calendars where name = 'Business hours'`.execute(trx);
    await sql`insert into client_sla_policies (client_id, policy_id)
      select c.id, p.id from clients c, sla_policies p where c.name = ${opts.goldClient} and p.name = 'Gold'`.execute(
      trx,
    );
    const rota = await sql<{ id: string }>`insert into oncall_rotations
        (name, time_zone, period, handover_minute, anchor_date, calendar_id)
      select 'Nights', ${opts.timeZone}, 'weekly', 1020, date_trunc('week', now())::date, id
      from sla_calendars where name = 'Business hours' returning id`.execute(trx);
    await sql`insert into oncall_members (rotation_id, user_id, position)
      select ${rota.rows[0]!.id}::uuid, u.id, array_position(${opts.rotaEmails}::text[], u.email) - 1
      from users u where u.email = any(${opts.rotaEmails}::text[])`.execute(trx);
  });
}
