import { type Kysely, sql } from "kysely";

// Recurring maintenance windows ("every Sunday 02:00-04:00 at the library"): a series with a five-field
// cron for its start, a duration and the time zone it is read in (the site's, fixed at save). Its
// occurrences are written ahead as ordinary windows (series_id set, one per start), so every check that
// asks "is this device in maintenance now" stays the one indexed query it was.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
create table monitoring_maintenance_series (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients on delete cascade,
  site_id uuid references sites on delete cascade,
  device_id uuid references devices on delete cascade,
  cron text not null,
  duration_minutes integer not null check (duration_minutes between 5 and 10080),
  time_zone text not null,
  -- The last local day a window may start on (null: until ended by hand).
  until date,
  reason text not null default '',
  created_by_user_id uuid references users on delete set null,
  created_at timestamptz not null default now(),
  -- Occurrences are written up to here (null: none yet); the sweep extends it.
  materialized_until timestamptz
);
create index monitoring_maintenance_series_client_idx on monitoring_maintenance_series (client_id);
create index monitoring_maintenance_series_due_idx on monitoring_maintenance_series (materialized_until nulls first);
select sb_client_table('monitoring_maintenance_series');

alter table monitoring_maintenance add column series_id uuid references monitoring_maintenance_series on delete cascade;
create unique index monitoring_maintenance_occurrence_key on monitoring_maintenance (series_id, starts_at)
  where series_id is not null;
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
delete from monitoring_maintenance where series_id is not null;
alter table monitoring_maintenance drop column if exists series_id;
drop table if exists monitoring_maintenance_series;
`.execute(db);
}
