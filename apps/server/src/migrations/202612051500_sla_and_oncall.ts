import { type Kysely, sql } from "kysely";

// SLA: business-hours calendars (zone, weekday hours, holidays), policies with targets per priority on
// a calendar, per-client assignment, and each ticket's computed clock (due times the queues sort on).
// On-call: rotations with a wall-clock hand-over in a named zone, overrides, and pages with their
// escalation level and every delivery attempt (failed ones with the provider's reason).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
create table sla_calendars (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  time_zone text not null,
  always_open boolean not null default false,
  -- [{day: 1-7 (ISO, Monday = 1), start: minute of day, end: minute of day (up to 1440)}]
  hours jsonb not null default '[]',
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index sla_calendars_name_idx on sla_calendars (lower(name));

create table sla_holidays (
  calendar_id uuid not null references sla_calendars on delete cascade,
  date date not null,
  name text not null,
  primary key (calendar_id, date)
);

create table sla_policies (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  calendar_id uuid not null references sla_calendars,
  -- {"1": {"firstResponse": minutes | null, "resolution": minutes | null}, ... "4": ...}
  targets jsonb not null,
  warn_percent integer not null default 75 check (warn_percent between 1 and 99),
  pause_categories text[] not null default '{waiting_client,waiting_third_party}',
  is_default boolean not null default false,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index sla_policies_name_idx on sla_policies (lower(name));
-- One MSP default at most.
create unique index sla_policies_default_idx on sla_policies ((true)) where is_default;

create table client_sla_policies (
  client_id uuid primary key references clients on delete cascade,
  policy_id uuid not null references sla_policies on delete cascade,
  created_at timestamptz not null default now()
);
select sb_client_table('client_sla_policies');

-- The clock of one ticket as last computed from its history (domains/sla/clock.ts), and which of its
-- warnings and breaches have been announced: each is claimed once (notified_at is null -> now()).
create table ticket_slas (
  ticket_id uuid primary key references tickets on delete cascade,
  client_id uuid not null references clients on delete cascade,
  policy_id uuid references sla_policies on delete set null,
  priority integer not null,
  paused boolean not null default false,
  first_response_status text not null,
  first_response_due_at timestamptz,
  first_response_warn_at timestamptz,
  first_response_met_at timestamptz,
  first_response_breached_at timestamptz,
  first_response_warned_at timestamptz,
  first_response_breach_notified_at timestamptz,
  resolution_status text not null,
  resolution_due_at timestamptz,
  resolution_warn_at timestamptz,
  resolution_met_at timestamptz,
  resolution_breached_at timestamptz,
  resolution_warned_at timestamptz,
  resolution_breach_notified_at timestamptz,
  computed_at timestamptz not null default now()
);
select sb_client_table('ticket_slas');
create index ticket_slas_policy_idx on ticket_slas (policy_id);

-- What the queues sort and filter on: the next due instant of an unmet target (past when breached),
-- null when paused or without a policy.
alter table tickets add column sla_due_at timestamptz;
alter table tickets add column sla_state text check (sla_state in ('running', 'paused', 'breached', 'met'));
create index tickets_sla_due_idx on tickets ((coalesce(sla_due_at, 'infinity'::timestamptz)), id)
  where merged_into_id is null;

insert into sla_calendars (name, time_zone, always_open, hours)
select 'Business hours', m.timezone, false,
  '[{"day":1,"start":480,"end":1020},{"day":2,"start":480,"end":1020},{"day":3,"start":480,"end":1020},{"day":4,"start":480,"end":1020},{"day":5,"start":480,"end":1020}]'::jsonb
from (select coalesce((select timezone from msp limit 1), 'UTC') as timezone) m;
insert into sla_calendars (name, time_zone, always_open) values ('24/7', 'UTC', true);

create table oncall_rotations (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  time_zone text not null,
  period text not null check (period in ('daily', 'weekly')),
  -- Minute of the local day the shift changes hands (17:00 = 1020); on a weekly rota the first shift
  -- starts on anchor_date, and every shift after it on the same weekday.
  handover_minute integer not null check (handover_minute between 0 and 1439),
  anchor_date date not null,
  escalate_after_minutes integer not null default 10 check (escalate_after_minutes between 1 and 1440),
  max_rounds integer not null default 2 check (max_rounds between 1 and 10),
  -- The rota that P1s and breaches outside business hours page (one at most); the hours it does not
  -- cover are its calendar's (null: it pages at any hour).
  pages boolean not null default false,
  calendar_id uuid references sla_calendars on delete set null,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index oncall_rotations_name_idx on oncall_rotations (lower(name));
create unique index oncall_rotations_pages_idx on oncall_rotations ((true)) where pages;

create table oncall_members (
  rotation_id uuid not null references oncall_rotations on delete cascade,
  user_id uuid not null references users on delete cascade,
  position integer not null,
  primary key (rotation_id, position),
  unique (rotation_id, user_id)
);

create table oncall_overrides (
  id uuid primary key default gen_random_uuid(),
  rotation_id uuid not null references oncall_rotations on delete cascade,
  user_id uuid not null references users on delete cascade,
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  note text not null default '',
  created_by_user_id uuid references users on delete set null,
  created_at timestamptz not null default now(),
  check (ends_at > starts_at)
);
create index oncall_overrides_time_idx on oncall_overrides (rotation_id, starts_at);

create table pages (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients on delete cascade,
  ticket_id uuid references tickets on delete cascade,
  rotation_id uuid references oncall_rotations on delete set null,
  -- 'p1', 'first_response_breach', 'resolution_breach': a ticket is paged once per reason.
  reason text not null,
  summary text not null,
  status text not null default 'paging' check (status in ('paging', 'acknowledged', 'exhausted')),
  -- Who is paged at each level, fixed when the page starts (the on-call technician, then the rota's next).
  chain uuid[] not null,
  level integer not null default 0,
  max_levels integer not null,
  escalate_after_minutes integer not null,
  acknowledged_at timestamptz,
  acknowledged_by_user_id uuid references users on delete set null,
  acknowledged_via text,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index pages_once_idx on pages (ticket_id, reason);
create index pages_status_idx on pages (status, created_at desc);
select sb_client_table('pages');

create table page_deliveries (
  id uuid primary key default gen_random_uuid(),
  page_id uuid not null references pages on delete cascade,
  user_id uuid references users on delete set null,
  level integer not null,
  channel text not null check (channel in ('sms', 'email')),
  status text not null check (status in ('sent', 'failed', 'skipped')),
  error text,
  provider_id text,
  created_at timestamptz not null default now()
);
create index page_deliveries_page_idx on page_deliveries (page_id, created_at);
select sb_client_child_table('page_deliveries', 'page_id', 'pages');
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
drop table page_deliveries;
drop table pages;
drop table oncall_overrides;
drop table oncall_members;
drop table oncall_rotations;
alter table tickets drop column sla_state;
alter table tickets drop column sla_due_at;
drop table ticket_slas;
drop table client_sla_policies;
drop table sla_policies;
drop table sla_holidays;
drop table sla_calendars;
`.execute(db);
}
