import { type Kysely, sql } from "kysely";

// A check firing on many devices at once (a storm) looks for the ticket of the same check's firing
// alerts at the same client once per device, under that check's lock: this index makes it a lookup
// instead of a scan of every firing alert.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
create index monitoring_alerts_firing_check_idx on monitoring_alerts (check_id, client_id, fired_at)
  where state = 'firing';
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists monitoring_alerts_firing_check_idx;`.execute(db);
}
