import { type Kysely, sql } from "kysely";

// Appointments: a technician's time with a client (remote or on site), booked directly by dispatch or
// chosen by the client from proposed times through a signed link; ICS invites go out by email.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
create table appointments (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients on delete cascade,
  ticket_id uuid references tickets on delete set null,
  technician_id uuid not null references users,
  contact_id uuid references contacts on delete set null,
  site_id uuid references sites on delete set null,
  kind text not null check (kind in ('remote', 'onsite')),
  title text not null,
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  status text not null default 'confirmed' check (status in ('confirmed', 'cancelled', 'completed')),
  -- The invite's identity and revision (RFC 5545 UID and SEQUENCE): updates and cancellations replace
  -- the event in the attendees' calendars instead of adding another.
  ical_uid text not null unique,
  sequence integer not null default 0,
  -- The sequence whose reminder went out: a retried reminder job mails nothing twice.
  reminded_sequence integer,
  notes text not null default '',
  -- The agent install: an enrollment token made for this visit, and the device once it enrolled.
  install_os text check (install_os in ('windows', 'macos', 'linux')),
  enrollment_token_id uuid references enrollment_tokens on delete set null,
  device_id uuid references devices on delete set null,
  created_by_user_id uuid references users on delete set null,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  check (ends_at > starts_at)
);
create index appointments_technician_idx on appointments (technician_id, starts_at) where status = 'confirmed';
create index appointments_time_idx on appointments (starts_at);
create index appointments_ticket_idx on appointments (ticket_id) where ticket_id is not null;
create index appointments_token_idx on appointments (enrollment_token_id) where enrollment_token_id is not null;
select sb_client_table('appointments');

-- Times offered to a contact, who picks one by a signed link (the token is stored as a hash; it works
-- once, until it expires).
create table appointment_proposals (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients on delete cascade,
  ticket_id uuid not null references tickets on delete cascade,
  contact_id uuid not null references contacts on delete cascade,
  technician_id uuid not null references users,
  kind text not null check (kind in ('remote', 'onsite')),
  title text not null,
  install_os text check (install_os in ('windows', 'macos', 'linux')),
  token_hash text not null unique,
  expires_at timestamptz not null,
  status text not null default 'open' check (status in ('open', 'booked', 'cancelled')),
  appointment_id uuid references appointments on delete set null,
  created_by_user_id uuid references users on delete set null,
  created_at timestamptz not null default now()
);
create index appointment_proposals_ticket_idx on appointment_proposals (ticket_id);
select sb_client_table('appointment_proposals');

create table appointment_proposal_slots (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients on delete cascade,
  proposal_id uuid not null references appointment_proposals on delete cascade,
  starts_at timestamptz not null,
  ends_at timestamptz not null,
  check (ends_at > starts_at)
);
create index appointment_proposal_slots_idx on appointment_proposal_slots (proposal_id, starts_at);
select sb_client_table('appointment_proposal_slots');

-- Invites travel as email with a text/calendar part (REQUEST or CANCEL).
alter table email_messages add column ical_method text check (ical_method in ('REQUEST', 'CANCEL'));
alter table email_messages add column ical_content text;
alter table email_templates drop constraint email_templates_key_check;
alter table email_templates add constraint email_templates_key_check check (key in
  ('acknowledgement', 'reply', 'resolved', 'assigned', 'new_reply',
   'appointment_proposal', 'appointment_invite', 'appointment_cancelled', 'appointment_reminder'));
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
alter table email_messages drop column if exists ical_method;
alter table email_messages drop column if exists ical_content;
drop table if exists appointment_proposal_slots;
drop table if exists appointment_proposals;
drop table if exists appointments;
`.execute(db);
}
