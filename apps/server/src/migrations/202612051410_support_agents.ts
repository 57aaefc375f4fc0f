import { type Kysely, sql } from "kysely";

// "Control and shell on request" in an attended support session: the caller, after a separate consent,
// runs the one-time support mode of the agent with a short code; it enrolls as a temporary device of the
// ticket's client, bound to the session, and is retired when the session ends.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
-- A support device lives only as long as its support session (null: an ordinary enrolled device).
alter table devices add column support_session_id uuid references support_sessions on delete set null;
create index devices_support_session_idx on devices (support_session_id) where support_session_id is not null;

-- The one-time credential the caller gives the support agent: single use, expiring, bound to one session,
-- stored only as a SHA-256 (the code is 50 random bits, see support/agent-codes.ts).
create table support_agent_codes (
  id uuid primary key default gen_random_uuid(),
  session_id uuid not null references support_sessions on delete cascade,
  client_id uuid not null references clients on delete cascade,
  code_hash text not null unique,
  expires_at timestamptz not null,
  used_at timestamptz,
  used_from text,
  device_id uuid references devices on delete set null,
  created_at timestamptz not null default now()
);
create index support_agent_codes_session_idx on support_agent_codes (session_id);
select sb_client_table('support_agent_codes');

-- The session's record also tells when the support agent connected and when it was removed.
alter table support_session_events drop constraint support_session_events_kind_check;
alter table support_session_events add constraint support_session_events_kind_check
  check (kind in ('minted', 'joined', 'consent', 'consent_request', 'chat', 'file', 'screen', 'ended', 'agent'));
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
delete from support_session_events where kind = 'agent';
alter table support_session_events drop constraint support_session_events_kind_check;
alter table support_session_events add constraint support_session_events_kind_check
  check (kind in ('minted', 'joined', 'consent', 'consent_request', 'chat', 'file', 'screen', 'ended'));
drop table if exists support_agent_codes;
alter table devices drop column if exists support_session_id;
`.execute(db);
}
