import { type Kysely, sql } from "kysely";

// Approving and installing updates through the agent. A run is one signed `updates.install` command
// with a row per update (what was asked, and what the agent says happened); its state follows the
// command: queued -> running -> done / partial / failed. The agent's per-update results land on the
// command row (like a service list) and are copied onto the run's items when it is settled. A client
// may have security updates approved automatically and installed at scan time or in a nightly window.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
alter table device_commands add column update_results jsonb, add column reboot_required boolean;

create table patch_install_runs (
  id uuid primary key default gen_random_uuid(),
  device_id uuid not null references devices on delete cascade,
  client_id uuid not null references clients on delete cascade,
  command_id uuid references device_commands on delete set null,
  source text not null check (source in ('apt', 'dnf', 'windows_update')),
  trigger text not null check (trigger in ('manual', 'auto')),
  status text not null default 'queued' check (status in ('queued', 'running', 'done', 'failed', 'partial')),
  reboot_required boolean,
  error text,
  retry_of uuid references patch_install_runs on delete set null,
  requested_by_user_id uuid references users on delete set null,
  requested_by_label text not null,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  finished_at timestamptz
);
create index patch_install_runs_device_idx on patch_install_runs (device_id, created_at desc);
create index patch_install_runs_command_idx on patch_install_runs (command_id);
create index patch_install_runs_open_idx on patch_install_runs (created_at) where status in ('queued', 'running');
select sb_client_table('patch_install_runs');

create table patch_install_items (
  run_id uuid not null references patch_install_runs on delete cascade,
  client_id uuid not null references clients on delete cascade,
  position integer not null,
  -- The update as the patch status listed it, and what the agent installs (the package, the KB id).
  name text not null,
  target text not null,
  security boolean not null,
  severity text,
  status text not null default 'pending' check (status in ('pending', 'installed', 'failed', 'not_applicable')),
  version_from text,
  version_to text,
  error text,
  primary key (run_id, position)
);
select sb_client_table('patch_install_items');

create table patch_settings (
  client_id uuid primary key references clients on delete cascade,
  auto_install_security boolean not null default false,
  -- Auto-approved updates install only inside this window of each device's site time zone (minutes of
  -- the day; end before start wraps past midnight); none: at scan time.
  install_window_start smallint check (install_window_start between 0 and 1439),
  install_window_end smallint check (install_window_end between 0 and 1439),
  check ((install_window_start is null) = (install_window_end is null)),
  check (install_window_start is distinct from install_window_end or install_window_start is null),
  updated_at timestamptz not null default now(),
  updated_by_label text not null
);
select sb_client_table('patch_settings');
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
drop table patch_settings, patch_install_items, patch_install_runs;
alter table device_commands drop column update_results, drop column reboot_required;
`.execute(db);
}
