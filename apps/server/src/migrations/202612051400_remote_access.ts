import { type Kysely, sql } from "kysely";

// Remote access: per-client policy, remote sessions on devices (shells, file transfers), and attended
// support sessions joined with a 6-digit code.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
-- Who may open a shell or move files on a client's devices, and whether the person at the machine must
-- consent first. No row: the defaults below.
create table remote_policies (
  client_id uuid primary key references clients on delete cascade,
  shell_roles text[] not null default '{admin,technician}',
  file_roles text[] not null default '{admin,technician}',
  require_consent boolean not null default false,
  idle_timeout_seconds integer not null default 900 check (idle_timeout_seconds between 60 and 86400),
  version integer not null default 1,
  updated_at timestamptz not null default now(),
  updated_by_user_id uuid references users on delete set null
);
select sb_client_table('remote_policies');

-- Attended support sessions: a code minted on a ticket by a technician, joined by a caller on /join.
create table support_sessions (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients on delete cascade,
  ticket_id uuid not null references tickets on delete cascade,
  technician_user_id uuid not null references users,
  technician_name text not null,
  -- SHA-256 of the 6 digits: unique among the codes still waiting (the live ones).
  code_hash text not null,
  code_expires_at timestamptz not null,
  status text not null default 'waiting'
    check (status in ('waiting', 'joined', 'active', 'ended', 'expired', 'cancelled')),
  -- The caller's bearer for this session only (SHA-256), issued when the code is entered.
  caller_token_hash text unique,
  caller_address text,
  joined_at timestamptz,
  consented_at timestamptz,
  ended_at timestamptz,
  ended_by text check (ended_by in ('technician', 'caller', 'system')),
  end_reason text,
  timeline_entry_id uuid references timeline_entries on delete set null,
  created_at timestamptz not null default now()
);
create unique index support_sessions_live_code on support_sessions (code_hash) where status = 'waiting';
create index support_sessions_ticket_idx on support_sessions (ticket_id, created_at desc);
select sb_client_table('support_sessions');

-- The session's record, in order: who did what, each consent, the chat, the files.
create table support_session_events (
  id bigserial primary key,
  session_id uuid not null references support_sessions on delete cascade,
  client_id uuid not null references clients on delete cascade,
  kind text not null check (kind in ('minted', 'joined', 'consent', 'consent_request', 'chat', 'file',
                                     'screen', 'ended')),
  actor text not null check (actor in ('technician', 'caller', 'system')),
  body text not null default '',
  data jsonb,
  created_at timestamptz not null default now()
);
create index support_session_events_session_idx on support_session_events (session_id, id);
select sb_client_table('support_session_events');

-- Every code entered on /join, for the per-address and global limits and the flood view. Not a client's
-- data: a wrong code belongs to nobody.
create table support_join_attempts (
  id bigserial primary key,
  created_at timestamptz not null default now(),
  address text not null,
  ok boolean not null,
  throttled boolean not null default false,
  -- Codes live at the moment of the attempt: what a wrong guess could have hit.
  live_codes integer not null
);
create index support_join_attempts_time_idx on support_join_attempts (created_at);

-- Remote sessions on a device: a shell (recorded as asciicast) or a file moved to or from it.
create table remote_sessions (
  id uuid primary key,
  client_id uuid not null references clients on delete cascade,
  device_id uuid not null references devices on delete cascade,
  ticket_id uuid references tickets on delete set null,
  support_session_id uuid references support_sessions on delete set null,
  kind text not null check (kind in ('shell', 'file_upload', 'file_download')),
  status text not null default 'requested'
    check (status in ('requested', 'opening', 'open', 'closed', 'failed')),
  requested_by_user_id uuid references users on delete set null,
  requested_by_label text not null,
  path text,
  cols integer,
  rows integer,
  bytes_in bigint not null default 0,
  bytes_out bigint not null default 0,
  -- The recording of a shell, or the file moved: a blob, and an attachment when there is a ticket.
  blob_key text,
  blob_name text,
  blob_size bigint,
  blob_sha256 text,
  blob_truncated boolean not null default false,
  attachment_id uuid references attachments on delete set null,
  close_reason text,
  last_error text,
  created_at timestamptz not null default now(),
  started_at timestamptz,
  ended_at timestamptz,
  -- Kept fresh by the process holding the session; a row left open by a process that died is swept.
  heartbeat_at timestamptz not null default now()
);
create index remote_sessions_device_idx on remote_sessions (device_id, created_at desc);
create index remote_sessions_ticket_idx on remote_sessions (ticket_id) where ticket_id is not null;
create index remote_sessions_live_idx on remote_sessions (heartbeat_at) where status in ('requested', 'opening', 'open');
select sb_client_table('remote_sessions');
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
drop table if exists remote_sessions, support_join_attempts, support_session_events, support_sessions,
  remote_policies cascade;
`.execute(db);
}
