import { type Kysely, sql } from "kysely";

// The core model: people (users, teams), clients (sites, contacts), tickets and their timeline,
// and the cross-cutting tables (sessions, tokens, audit, outbox, idempotency).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
create extension if not exists pg_trgm;

create table msp (
  id smallint primary key default 1 check (id = 1),
  name text not null,
  timezone text not null default 'UTC',
  created_at timestamptz not null default now()
);

create table users (
  id uuid primary key default gen_random_uuid(),
  email text not null,
  name text not null,
  role text not null check (role in ('admin', 'dispatcher', 'technician', 'readonly')),
  password_hash text,
  active boolean not null default true,
  all_clients boolean not null default true,
  timezone text not null default 'UTC',
  phone text,
  last_seen_changes_at timestamptz,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index users_email_key on users (lower(email));

create table teams (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  description text not null default '',
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index teams_name_key on teams (lower(name));

create table team_members (
  team_id uuid not null references teams on delete cascade,
  user_id uuid not null references users on delete cascade,
  primary key (team_id, user_id)
);
create index team_members_user_idx on team_members (user_id);

create table clients (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  email_domains text[] not null default '{}',
  phone text,
  website text,
  notes text not null default '',
  active boolean not null default true,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index clients_name_key on clients (lower(name));
create index clients_name_trgm on clients using gin (name gin_trgm_ops);
create index clients_domains_idx on clients using gin (email_domains);

-- A user with all_clients = false sees only the clients listed here.
create table user_clients (
  user_id uuid not null references users on delete cascade,
  client_id uuid not null references clients on delete cascade,
  primary key (user_id, client_id)
);

create table sites (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients on delete cascade,
  name text not null,
  address_line1 text,
  address_line2 text,
  city text,
  region text,
  postal_code text,
  country text,
  timezone text not null default 'UTC',
  phone text,
  notes text not null default '',
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index sites_client_idx on sites (client_id);

create table contacts (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients on delete cascade,
  site_id uuid references sites on delete set null,
  first_name text not null,
  last_name text not null default '',
  title text,
  emails text[] not null default '{}',
  phones jsonb not null default '[]',
  -- The digits of every phone number, space separated: the trigram index finds "(555) 123-4567",
  -- "555.123.4567" and "+1 555 123 4567" alike.
  phone_digits text not null default '',
  vip boolean not null default false,
  notes text not null default '',
  active boolean not null default true,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index contacts_client_idx on contacts (client_id);
create index contacts_emails_idx on contacts using gin (emails);
create index contacts_name_trgm on contacts using gin ((first_name || ' ' || last_name) gin_trgm_ops);
create index contacts_phone_trgm on contacts using gin (phone_digits gin_trgm_ops);

create table ticket_statuses (
  id uuid primary key default gen_random_uuid(),
  name text not null,
  category text not null check (category in
    ('new', 'open', 'in_progress', 'waiting_client', 'waiting_third_party', 'scheduled', 'resolved', 'closed')),
  builtin boolean not null default false,
  sort_order integer not null default 100,
  created_at timestamptz not null default now()
);
create unique index ticket_statuses_name_key on ticket_statuses (lower(name));
-- Built-in statuses have fixed ids (the code names them: domains/tickets/queries.ts BUILTIN_STATUS).
insert into ticket_statuses (id, name, category, builtin, sort_order) values
  ('00000000-0000-4000-8000-000000000001', 'New', 'new', true, 10),
  ('00000000-0000-4000-8000-000000000002', 'Open', 'open', true, 20),
  ('00000000-0000-4000-8000-000000000003', 'In progress', 'in_progress', true, 30),
  ('00000000-0000-4000-8000-000000000004', 'Waiting on client', 'waiting_client', true, 40),
  ('00000000-0000-4000-8000-000000000005', 'Waiting on third party', 'waiting_third_party', true, 50),
  ('00000000-0000-4000-8000-000000000006', 'Scheduled', 'scheduled', true, 60),
  ('00000000-0000-4000-8000-000000000007', 'Resolved', 'resolved', true, 70),
  ('00000000-0000-4000-8000-000000000008', 'Closed', 'closed', true, 80);

create sequence ticket_number_seq start with 1000;

create table tickets (
  id uuid primary key default gen_random_uuid(),
  number bigint not null default nextval('ticket_number_seq'),
  subject text not null,
  description text not null default '',
  client_id uuid not null references clients,
  site_id uuid references sites on delete set null,
  contact_id uuid references contacts on delete set null,
  type text not null check (type in
    ('incident', 'service_request', 'problem', 'alert', 'project_task', 'maintenance')),
  source text not null check (source in ('phone', 'email', 'portal', 'monitoring', 'api', 'walk_in')),
  priority smallint not null check (priority between 1 and 4),
  status_id uuid not null references ticket_statuses,
  status_category text not null,
  is_open boolean generated always as (status_category not in ('resolved', 'closed')) stored,
  team_id uuid references teams on delete set null,
  assignee_id uuid references users on delete set null,
  tags text[] not null default '{}',
  follow_up_at timestamptz,
  parent_id uuid references tickets on delete set null,
  merged_into_id uuid references tickets,
  created_by_user_id uuid references users on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  last_activity_at timestamptz not null default now(),
  status_changed_at timestamptz not null default now(),
  resolved_at timestamptz,
  closed_at timestamptz,
  version integer not null default 1,
  -- Subject (weight A) and description (B) at create; each timeline entry's text is appended (C),
  -- so one GIN index answers searches across a ticket and its whole timeline.
  search_vector tsvector not null default ''
);
create unique index tickets_number_key on tickets (number);
create index tickets_open_priority_idx on tickets (priority, created_at, id) where is_open;
create index tickets_open_assignee_idx on tickets (assignee_id, priority, created_at, id) where is_open;
-- The unassigned queue of "my teams" (plus team-less tickets): walked in priority order and filtered by
-- team, which stays cheap because a technician's teams hold a good share of the unassigned tickets.
create index tickets_open_unassigned_idx on tickets (priority, created_at, id) where is_open and assignee_id is null;
create index tickets_open_client_idx on tickets (client_id, priority, created_at, id) where is_open;
create index tickets_client_created_idx on tickets (client_id, created_at desc);
create index tickets_waiting_idx on tickets (status_category, status_changed_at)
  where status_category in ('waiting_client', 'waiting_third_party');
create index tickets_follow_up_idx on tickets (follow_up_at) where is_open and follow_up_at is not null;
create index tickets_resolved_idx on tickets (resolved_at) where resolved_at is not null;
create index tickets_contact_idx on tickets (contact_id, created_at desc);
create index tickets_parent_idx on tickets (parent_id) where parent_id is not null;
create index tickets_tags_idx on tickets using gin (tags);
-- Recent activity first: the "activity" sort, and word searches whose words are common, where walking
-- the newest tickets finds enough matches sooner than collecting every match from the GIN index.
create index tickets_activity_idx on tickets (last_activity_at desc, id desc);
create index tickets_search_idx on tickets using gin (search_vector);

create table ticket_contacts (
  ticket_id uuid not null references tickets on delete cascade,
  contact_id uuid not null references contacts on delete cascade,
  primary key (ticket_id, contact_id)
);
create index ticket_contacts_contact_idx on ticket_contacts (contact_id);

create table timeline_entries (
  id uuid primary key default gen_random_uuid(),
  seq bigint generated always as identity,
  ticket_id uuid not null references tickets on delete cascade,
  kind text not null check (kind in ('reply', 'note', 'call', 'event', 'email')),
  visibility text not null check (visibility in ('public', 'internal')),
  author_user_id uuid references users on delete set null,
  author_contact_id uuid references contacts on delete set null,
  body text not null default '',
  call_direction text check (call_direction in ('inbound', 'outbound')),
  call_number text,
  call_duration_seconds integer check (call_duration_seconds >= 0),
  event jsonb,
  created_at timestamptz not null default now()
);
create unique index timeline_entries_seq_key on timeline_entries (seq);
create index timeline_ticket_seq_idx on timeline_entries (ticket_id, seq desc);
create index timeline_call_contact_idx on timeline_entries (author_contact_id, seq desc) where kind = 'call';

create table attachments (
  id uuid primary key default gen_random_uuid(),
  ticket_id uuid not null references tickets on delete cascade,
  timeline_entry_id uuid references timeline_entries on delete set null,
  filename text not null,
  content_type text not null,
  size_bytes bigint not null,
  sha256 text not null,
  storage_key text not null,
  created_by_user_id uuid references users on delete set null,
  created_at timestamptz not null default now()
);
create index attachments_ticket_idx on attachments (ticket_id);

create table sessions (
  token_hash text primary key,
  user_id uuid not null references users on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  ip text,
  user_agent text
);
create index sessions_user_idx on sessions (user_id);

create table api_tokens (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users on delete cascade,
  name text not null,
  token_hash text not null unique,
  prefix text not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz,
  last_used_at timestamptz,
  revoked_at timestamptz
);
create index api_tokens_user_idx on api_tokens (user_id);

create table login_attempts (
  id bigint generated always as identity primary key,
  account text not null,
  ip text not null,
  succeeded boolean not null,
  at timestamptz not null default now()
);
create index login_attempts_account_idx on login_attempts (account, at) where not succeeded;
create index login_attempts_ip_idx on login_attempts (ip, at) where not succeeded;

create table idempotency_keys (
  user_id uuid not null references users on delete cascade,
  key text not null,
  request_hash text not null,
  status_code integer,
  response jsonb,
  created_at timestamptz not null default now(),
  primary key (user_id, key)
);
create index idempotency_keys_created_idx on idempotency_keys (created_at);

create table audit_log (
  id bigint generated always as identity primary key,
  at timestamptz not null default now(),
  actor_user_id uuid references users on delete set null,
  actor_label text not null,
  action text not null,
  entity_type text not null,
  entity_id text not null,
  client_id uuid,
  before jsonb,
  after jsonb,
  ip text,
  request_id text
);
create index audit_log_entity_idx on audit_log (entity_type, entity_id, id desc);
create index audit_log_actor_idx on audit_log (actor_user_id, id desc);

-- The outbox: a row per domain event, written in the transaction that made the change. Readers poll
-- it by id (domains/events/live.ts); no NOTIFY here, as that would serialise every writing commit.
create table domain_events (
  id bigint generated always as identity primary key,
  type text not null,
  client_id uuid,
  ticket_id uuid,
  actor_user_id uuid,
  payload jsonb not null default '{}',
  created_at timestamptz not null default now(),
  dispatched_at timestamptz
);
create index domain_events_pending_idx on domain_events (id) where dispatched_at is null;
create index domain_events_ticket_idx on domain_events (ticket_id, id) where ticket_id is not null;
create index domain_events_created_idx on domain_events (created_at);

create table saved_views (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users on delete cascade,
  name text not null,
  filters jsonb not null,
  created_at timestamptz not null default now()
);
create index saved_views_user_idx on saved_views (user_id);
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
drop table if exists saved_views, domain_events, audit_log, idempotency_keys, login_attempts, api_tokens,
  sessions, attachments, timeline_entries, ticket_contacts, tickets, ticket_statuses, contacts, sites,
  user_clients, clients, team_members, teams, users, msp cascade;
drop sequence if exists ticket_number_seq;
`.execute(db);
}
