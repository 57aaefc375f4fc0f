import { type Kysely, sql } from "kysely";

// A ping, TCP or HTTP check can watch a site's connection (its router, its internet line): when it fires,
// that site's outage is one incident and one P1 at once, before its devices' offline alerts would
// correlate, and the devices that drop with it join the same incident. The site may be another client's
// (a probe at the MSP's office watching a client's public address).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
alter table monitoring_checks add column uplink_site_id uuid references sites on delete set null;
alter table monitoring_checks add constraint monitoring_checks_uplink_kind
  check (uplink_site_id is null or kind in ('ping', 'tcp', 'http'));
create index monitoring_checks_uplink_idx on monitoring_checks (uplink_site_id) where uplink_site_id is not null;
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
alter table monitoring_checks drop constraint if exists monitoring_checks_uplink_kind;
alter table monitoring_checks drop column if exists uplink_site_id;
`.execute(db);
}
