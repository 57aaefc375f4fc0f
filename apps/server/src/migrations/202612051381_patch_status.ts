import { type Kysely, sql } from "kysely";

// Patch status per device, as the agent's periodic summary reports it (missing updates with versions and
// the security flag, reboot pending, last successful install); one row per device, replaced on each report.
// The counts are kept beside the list so a client's rollup is one aggregate over its rows.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
create table patch_status (
  device_id uuid primary key references devices on delete cascade,
  client_id uuid not null references clients on delete cascade,
  source text check (source in ('apt', 'dnf', 'windows_update')),
  -- [{name, current, available, security, severity, releasedAt, firstSeenAt}], at most 2000.
  updates jsonb not null default '[]',
  missing_count integer not null default 0,
  security_count integer not null default 0,
  -- Missing security updates by the OS's rating; the rest of security_count is unrated.
  critical_count integer not null default 0,
  important_count integer not null default 0,
  moderate_count integer not null default 0,
  low_count integer not null default 0,
  oldest_missing_at timestamptz,
  oldest_security_at timestamptz,
  reboot_pending boolean not null default false,
  reboot_since timestamptz,
  last_install_at timestamptz,
  scan_error text,
  collected_at timestamptz not null,
  reported_at timestamptz not null default now()
);
create index patch_status_client_idx on patch_status (client_id);
select sb_client_table('patch_status');
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table patch_status`.execute(db);
}
