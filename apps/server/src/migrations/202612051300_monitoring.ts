import { type Kysely, sql } from "kysely";

// Monitoring: policies (named sets of checks assigned to the MSP, a client, a site or a device), the last
// state of each check on each device, alerts keyed on (device, check), site incidents that gather the
// offline alerts of one site, and maintenance windows that hold alerts back from tickets.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
create table monitoring_policies (
  id uuid primary key default gen_random_uuid(),
  -- Where the policy applies: every device of the MSP (all null), a client, one of its sites, one device.
  client_id uuid references clients on delete cascade,
  site_id uuid references sites on delete cascade,
  device_id uuid references devices on delete cascade,
  name text not null,
  enabled boolean not null default true,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  version integer not null default 1,
  check ((site_id is null and device_id is null) or client_id is not null)
);
create index monitoring_policies_client_idx on monitoring_policies (client_id);
select sb_client_table('monitoring_policies');

create table monitoring_checks (
  id uuid primary key default gen_random_uuid(),
  policy_id uuid not null references monitoring_policies on delete cascade,
  kind text not null check (kind in ('service', 'process', 'disk', 'cpu', 'memory', 'ping', 'tcp', 'http', 'script')),
  name text not null,
  -- The kind's parameters and thresholds, validated at save by packages/shared CheckConfig.
  config jsonb not null,
  interval_seconds integer not null check (interval_seconds between 5 and 86400),
  severity text not null check (severity in ('critical', 'high', 'medium', 'low')),
  -- Flap suppression: firing after this many failing results in a row, resolved after this many passes.
  fail_after integer not null default 2 check (fail_after between 1 and 100),
  pass_after integer not null default 1 check (pass_after between 1 and 100),
  -- A disabled check of the same kind and name lower down (site, device) switches an inherited one off.
  enabled boolean not null default true,
  -- Tried once when the alert fires: {"kind":"service.restart","name":"..."}.
  remediation jsonb,
  created_at timestamptz not null default now(),
  version integer not null default 1
);
create index monitoring_checks_policy_idx on monitoring_checks (policy_id);
select sb_client_child_table('monitoring_checks', 'policy_id', 'monitoring_policies');

create table monitoring_check_states (
  device_id uuid not null references devices on delete cascade,
  check_id uuid not null references monitoring_checks on delete cascade,
  client_id uuid not null references clients on delete cascade,
  state text not null check (state in ('ok', 'warning', 'critical', 'unknown')),
  output text not null default '',
  metrics jsonb,
  -- Results in a row in this state (as the agent counted them).
  streak integer not null default 1,
  changed_at timestamptz not null default now(),
  reported_at timestamptz not null default now(),
  primary key (device_id, check_id)
);
select sb_client_table('monitoring_check_states');

create table monitoring_incidents (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients on delete cascade,
  site_id uuid references sites on delete cascade,
  kind text not null check (kind in ('site_offline')),
  state text not null default 'open' check (state in ('open', 'resolved')),
  ticket_id uuid references tickets on delete set null,
  opened_at timestamptz not null default now(),
  resolved_at timestamptz
);
-- One open incident per site: concurrent sweeps cannot open a second one.
create unique index monitoring_incidents_open_site_key on monitoring_incidents (site_id, kind) where state = 'open';
select sb_client_table('monitoring_incidents');

create table monitoring_alerts (
  id uuid primary key default gen_random_uuid(),
  number bigint generated always as identity,
  client_id uuid not null references clients on delete cascade,
  site_id uuid references sites on delete set null,
  device_id uuid not null references devices on delete cascade,
  check_id uuid references monitoring_checks on delete set null,
  -- 'offline' for the server's own presence check, else the check's id: the dedupe key with the device.
  check_key text not null,
  kind text not null,
  name text not null,
  severity text not null check (severity in ('critical', 'high', 'medium', 'low')),
  state text not null check (state in ('pending', 'firing', 'resolved')),
  output text not null default '',
  fail_count integer not null default 0,
  -- Times it came back and failed again while open (or soon after resolving): shown, never a new alert.
  flaps integer not null default 0,
  first_failed_at timestamptz not null default now(),
  fired_at timestamptz,
  recovering_since timestamptz,
  resolved_at timestamptz,
  resolution text,
  acknowledged_at timestamptz,
  acknowledged_by_user_id uuid references users on delete set null,
  snoozed_until timestamptz,
  incident_id uuid references monitoring_incidents on delete set null,
  ticket_id uuid references tickets on delete set null,
  remediation_command_id uuid references device_commands on delete set null,
  remediated boolean not null default false,
  updated_at timestamptz not null default now(),
  version integer not null default 1
);
-- Dedupe: a failing check never opens a second alert while one is open.
create unique index monitoring_alerts_open_key on monitoring_alerts (device_id, check_key) where state <> 'resolved';
create index monitoring_alerts_open_idx on monitoring_alerts (state, severity, fired_at) where state <> 'resolved';
create index monitoring_alerts_device_idx on monitoring_alerts (device_id, first_failed_at desc);
create index monitoring_alerts_incident_idx on monitoring_alerts (incident_id) where incident_id is not null;
create index monitoring_alerts_ticket_idx on monitoring_alerts (ticket_id) where ticket_id is not null;
select sb_client_table('monitoring_alerts');

create table monitoring_maintenance (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients on delete cascade,
  site_id uuid references sites on delete cascade,
  device_id uuid references devices on delete cascade,
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  reason text not null default '',
  created_by_user_id uuid references users on delete set null,
  created_at timestamptz not null default now(),
  check (ends_at > starts_at)
);
create index monitoring_maintenance_client_idx on monitoring_maintenance (client_id, ends_at);
select sb_client_table('monitoring_maintenance');

-- Metric history, downsampled to one row per device and hour: {checkId: {"n": samples, metric: sum}},
-- averaged when read. 24 rows a device a day, whatever the number of checks. Kept MONITORING_METRIC_DAYS.
create table monitoring_metrics (
  device_id uuid not null references devices on delete cascade,
  client_id uuid not null references clients on delete cascade,
  hour timestamptz not null,
  sums jsonb not null,
  primary key (device_id, hour)
);
create index monitoring_metrics_hour_idx on monitoring_metrics (hour);
select sb_client_table('monitoring_metrics');

-- How alerts become tickets, per client (or for every client: client_id null): below min_severity an
-- alert opens no ticket; tickets go to the team and assignee named; recovery resolves the ticket or
-- only notes it.
create table monitoring_ticket_rules (
  id uuid primary key default gen_random_uuid(),
  client_id uuid references clients on delete cascade,
  min_severity text not null default 'low' check (min_severity in ('critical', 'high', 'medium', 'low')),
  team_id uuid references teams on delete set null,
  assignee_id uuid references users on delete set null,
  resolve_on_recovery boolean not null default true,
  updated_at timestamptz not null default now()
);
create unique index monitoring_ticket_rules_client_key on monitoring_ticket_rules
  (coalesce(client_id, '00000000-0000-0000-0000-000000000000'));
select sb_client_table('monitoring_ticket_rules');
-- An alert below its rule's severity: it stays an alert, and the sweep does not look for a ticket again.
alter table monitoring_alerts add column no_ticket boolean not null default false;

-- "Email me when monitoring opens a P1 ticket" (admins and dispatchers who see the client).
alter table user_notification_preferences add column monitoring_p1 boolean not null default true;
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table user_notification_preferences drop column if exists monitoring_p1`.execute(db);
  await sql`drop table if exists monitoring_metrics, monitoring_ticket_rules, monitoring_maintenance, monitoring_alerts, monitoring_incidents,
    monitoring_check_states, monitoring_checks, monitoring_policies cascade`.execute(db);
}
