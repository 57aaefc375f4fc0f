import { type Kysely, sql } from "kysely";

// Time, contracts, block hours and invoices: what an MSP bills. Time in integer minutes, money in
// integer minor units (cents), never floats. Every table holds one client's data and is under RLS.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
-- What a client's contract covers and how its time is charged. Lines are per kind:
--   managed_device / managed_user: a monthly price per active device (agents) / active contact;
--   fixed: a monthly price;
--   hourly: the rate for time of a work type (null: any), with its rounding and after-hours multiplier;
--   block: prepaid hours (the blocks themselves are in block_hours) drawn for time of a work type.
create table contracts (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients on delete cascade,
  name text not null,
  currency text not null default 'USD' check (currency ~ '^[A-Z]{3}$'),
  starts_on date not null,
  ends_on date,
  active boolean not null default true,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (ends_on is null or ends_on >= starts_on)
);
create index contracts_client_idx on contracts (client_id);
select sb_client_table('contracts');

create table contract_lines (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients on delete cascade,
  contract_id uuid not null references contracts on delete cascade,
  kind text not null check (kind in ('managed_device', 'managed_user', 'fixed', 'hourly', 'block')),
  description text not null,
  work_type text check (work_type in ('remote', 'onsite', 'project', 'after_hours')),
  unit_price_minor bigint not null default 0 check (unit_price_minor >= 0),
  rate_minor bigint not null default 0 check (rate_minor >= 0),
  -- Per entry: billed = max(minimum, raw rounded up to the increment). Raw minutes are kept.
  rounding_minimum_minutes integer not null default 0 check (rounding_minimum_minutes between 0 and 1440),
  rounding_increment_minutes integer not null default 1 check (rounding_increment_minutes between 1 and 240),
  -- Time marked after hours is charged at rate * multiplier / 100.
  after_hours_multiplier_pct integer not null default 100 check (after_hours_multiplier_pct between 100 and 500),
  position integer not null default 0
);
create index contract_lines_contract_idx on contract_lines (contract_id);
select sb_client_table('contract_lines');

create table block_hours (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients on delete cascade,
  contract_id uuid not null references contracts on delete cascade,
  purchased_minutes integer not null check (purchased_minutes > 0),
  price_minor bigint not null default 0 check (price_minor >= 0),
  purchased_on date not null,
  expires_on date not null,
  note text not null default '',
  created_at timestamptz not null default now(),
  check (expires_on >= purchased_on)
);
create index block_hours_client_idx on block_hours (client_id, expires_on);
select sb_client_table('block_hours');

create table invoices (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients on delete cascade,
  number bigint generated always as identity (start with 1001) unique,
  period_start date not null,
  period_end date not null,
  status text not null default 'draft' check (status in ('draft', 'approved')),
  currency text not null,
  total_minor bigint not null default 0,
  issued_on date,
  approved_by_user_id uuid references users on delete set null,
  approved_at timestamptz,
  created_at timestamptz not null default now(),
  version integer not null default 1,
  check (period_end >= period_start)
);
create unique index invoices_period_idx on invoices (client_id, period_start);
select sb_client_table('invoices');

create table invoice_lines (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients on delete cascade,
  invoice_id uuid not null references invoices on delete cascade,
  position integer not null,
  kind text not null check (kind in ('managed_device', 'managed_user', 'fixed', 'hourly', 'block', 'block_purchase')),
  description text not null,
  quantity numeric(14, 2) not null,
  unit text not null check (unit in ('hours', 'devices', 'users', 'months', 'blocks')),
  unit_price_minor bigint not null,
  amount_minor bigint not null,
  -- Billed minutes of the time behind the line (hourly and block lines).
  minutes integer
);
create index invoice_lines_invoice_idx on invoice_lines (invoice_id, position);
select sb_client_table('invoice_lines');

-- Who worked how long, on what. A running timer has started_at and no ended_at (one per technician).
-- Once its timesheet is approved or it is on an invoice, an entry cannot change: a correction is a
-- reversal (an entry of negative minutes pointing at it) plus a new entry.
create table time_entries (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients on delete cascade,
  ticket_id uuid references tickets on delete set null,
  project_task_id uuid,
  user_id uuid not null references users,
  work_type text not null check (work_type in ('remote', 'onsite', 'project', 'after_hours')),
  billable boolean not null default true,
  started_at timestamptz not null,
  ended_at timestamptz,
  minutes integer,
  note text not null default '',
  reverses_entry_id uuid references time_entries,
  invoice_id uuid references invoices on delete set null,
  billed_minutes integer,
  billed_amount_minor bigint,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (ended_at is null or ended_at >= started_at),
  check ((ended_at is null) = (minutes is null))
);
create unique index time_entries_running_idx on time_entries (user_id) where ended_at is null;
create index time_entries_user_idx on time_entries (user_id, started_at);
create index time_entries_ticket_idx on time_entries (ticket_id) where ticket_id is not null;
create index time_entries_unbilled_idx on time_entries (client_id, started_at) where invoice_id is null;
create unique index time_entries_reversal_idx on time_entries (reverses_entry_id) where reverses_entry_id is not null;
select sb_client_table('time_entries');

-- Minutes drawn from a block (negative), written by the billing run; the balance is the purchase plus
-- the sum of draws. First-expiring-first: a run draws from the block that expires soonest.
create table block_ledger (
  id bigint generated always as identity primary key,
  client_id uuid not null references clients on delete cascade,
  block_id uuid not null references block_hours on delete cascade,
  invoice_id uuid references invoices on delete cascade,
  time_entry_id uuid references time_entries on delete set null,
  minutes integer not null,
  at timestamptz not null default now()
);
create index block_ledger_block_idx on block_ledger (block_id);
create index block_ledger_invoice_idx on block_ledger (invoice_id);
select sb_client_table('block_ledger');

-- A technician's week of time: submitted, then approved (which locks its entries).
create table timesheets (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users on delete cascade,
  week_start date not null,
  status text not null default 'open' check (status in ('open', 'submitted', 'approved', 'rejected')),
  submitted_at timestamptz,
  decided_by_user_id uuid references users on delete set null,
  decided_at timestamptz,
  decision_note text not null default '',
  version integer not null default 1,
  unique (user_id, week_start),
  check (extract(isodow from week_start) = 1)
);
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
drop table if exists timesheets;
drop table if exists block_ledger;
drop table if exists time_entries;
drop table if exists invoice_lines;
drop table if exists invoices;
drop table if exists block_hours;
drop table if exists contract_lines;
drop table if exists contracts;
`.execute(db);
}
