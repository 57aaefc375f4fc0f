import { type Kysely, sql } from "kysely";

// The email channel: mailboxes (IMAP in, SMTP out), every message in or out with its raw .eml in the blob
// store, the dedupe keys that make processing exactly-once, templates and per-client sender settings.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
create table email_mailboxes (
  id uuid primary key default gen_random_uuid(),
  address text not null,
  name text not null default '',
  active boolean not null default true,
  imap_host text,
  imap_port integer check (imap_port between 1 and 65535),
  imap_tls text not null default 'implicit' check (imap_tls in ('implicit', 'starttls', 'none')),
  imap_user text,
  -- AES-256-GCM ciphertext (see domains/email/secrets.ts), never the password itself.
  imap_secret text,
  imap_folder text not null default 'INBOX',
  smtp_host text,
  smtp_port integer check (smtp_port between 1 and 65535),
  smtp_tls text not null default 'starttls' check (smtp_tls in ('implicit', 'starttls', 'none')),
  smtp_user text,
  smtp_secret text,
  default_team_id uuid references teams on delete set null,
  default_client_id uuid references clients on delete set null,
  stranger_policy text not null default 'new_ticket' check (stranger_policy in ('new_ticket', 'review')),
  send_acknowledgement boolean not null default true,
  imap_uid_validity bigint,
  imap_last_uid bigint not null default 0,
  -- Which worker process holds this mailbox's IMAP session, until when: one poller per mailbox.
  imap_lease_owner text,
  imap_lease_until timestamptz,
  last_polled_at timestamptz,
  last_error text,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index email_mailboxes_address_key on email_mailboxes (lower(address));

create table email_messages (
  id uuid primary key default gen_random_uuid(),
  direction text not null check (direction in ('inbound', 'outbound')),
  source text not null check (source in ('smtp', 'imap', 'api', 'console', 'system')),
  mailbox_id uuid references email_mailboxes on delete set null,
  status text not null check (status in
    ('received', 'processed', 'duplicate', 'quarantined', 'review', 'unmatched',
     'queued', 'sent', 'failed')),
  status_reason text,
  message_id text,
  in_reply_to text,
  reference_ids text[] not null default '{}',
  subject text,
  from_address text,
  to_addresses text[] not null default '{}',
  cc_addresses text[] not null default '{}',
  envelope_from text,
  envelope_to text[] not null default '{}',
  raw_key text,
  raw_sha256 text,
  size_bytes bigint not null default 0,
  -- Sanitized HTML for the view; an inbound text is its timeline entry's body, an outbound one is here.
  body_html text,
  body_text text,
  is_auto_reply boolean not null default false,
  auto_reply_reason text,
  ticket_id uuid references tickets on delete set null,
  timeline_entry_id uuid references timeline_entries on delete set null,
  contact_id uuid references contacts on delete set null,
  -- For a stranger's reply: the ticket it claimed to answer.
  related_ticket_id uuid references tickets on delete set null,
  attempts integer not null default 0,
  last_error text,
  smtp_response text,
  template text,
  -- The domain event a notification answers: delivered at least once, mailed once.
  source_event_id bigint,
  received_at timestamptz not null default now(),
  processed_at timestamptz,
  sent_at timestamptz
);
create index email_messages_message_id_idx on email_messages (message_id) where message_id is not null;
create index email_messages_status_idx on email_messages (status, received_at)
  where status in ('received', 'quarantined', 'review', 'unmatched', 'queued', 'failed');
create index email_messages_ticket_idx on email_messages (ticket_id, received_at) where ticket_id is not null;
create index email_messages_entry_idx on email_messages (timeline_entry_id) where timeline_entry_id is not null;
-- A public reply is mailed once, however often its event is delivered.
create unique index email_messages_reply_once on email_messages (timeline_entry_id)
  where direction = 'outbound' and template = 'reply';
create unique index email_messages_event_once on email_messages (source_event_id, template)
  where source_event_id is not null;
create index email_messages_sender_idx on email_messages (lower(from_address), received_at)
  where direction = 'inbound';

-- One row per distinct inbound message (Message-ID plus a hash of the content that survives transport):
-- the first insert wins, so the same mail by SMTP and IMAP, or delivered twice, becomes one entry.
create table email_dedupe_keys (
  dedupe_key text primary key,
  email_message_id uuid not null references email_messages on delete cascade,
  created_at timestamptz not null default now()
);

-- Which attachments came from which message, and the Content-ID inline images are cited by.
create table email_attachment_parts (
  attachment_id uuid primary key references attachments on delete cascade,
  email_message_id uuid not null references email_messages on delete cascade,
  content_id text,
  inline boolean not null default false
);
create index email_attachment_parts_message_idx on email_attachment_parts (email_message_id);

create table email_templates (
  id uuid primary key default gen_random_uuid(),
  key text not null check (key in ('acknowledgement', 'reply', 'resolved', 'assigned', 'new_reply')),
  client_id uuid references clients on delete cascade,
  subject text not null,
  body text not null,
  version integer not null default 1,
  updated_at timestamptz not null default now()
);
create unique index email_templates_key on email_templates (key, coalesce(client_id, '00000000-0000-0000-0000-000000000000'));

create table email_client_settings (
  client_id uuid primary key references clients on delete cascade,
  from_address text,
  signature text not null default '',
  updated_at timestamptz not null default now()
);
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
drop table if exists email_client_settings, email_templates, email_attachment_parts, email_dedupe_keys, email_messages,
  email_mailboxes cascade;
`.execute(db);
}
