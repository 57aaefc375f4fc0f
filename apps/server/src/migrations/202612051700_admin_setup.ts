import { type Kysely, sql } from "kysely";

// What the console's admin screens need beyond the core model:
// - user_invites: one-time "set your password" links. Only the SHA-256 of the token is stored; a link
//   is single-use (used_at) and expires. The send outcome lives on the row, so an invite whose mail
//   failed says so where the admin made it (and "Resend" mints a new link).
// - contacts.merged_into_id: a merged duplicate stays as a pointer to its survivor, so old links and
//   references land on the right person.
// - email_settings: the MSP-wide outbound relay and default From address, set in the console (the
//   relay password sealed like mailbox passwords). One row at most.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
create table user_invites (
  id uuid primary key default gen_random_uuid(),
  user_id uuid not null references users on delete cascade,
  token_hash text not null unique,
  expires_at timestamptz not null,
  used_at timestamptz,
  revoked_at timestamptz,
  sent_at timestamptz,
  last_error text,
  created_by_user_id uuid references users on delete set null,
  created_at timestamptz not null default now()
);
create index user_invites_user_idx on user_invites (user_id, created_at desc);

alter table contacts add column merged_into_id uuid references contacts on delete set null;
create index contacts_merged_into_idx on contacts (merged_into_id) where merged_into_id is not null;

create table email_settings (
  id boolean primary key default true check (id),
  relay_host text,
  relay_port integer check (relay_port between 1 and 65535),
  relay_tls text not null default 'starttls' check (relay_tls in ('implicit', 'starttls', 'none')),
  relay_user text,
  relay_secret text,
  default_from_address text,
  version integer not null default 1,
  updated_at timestamptz not null default now()
);
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
drop table if exists email_settings;
drop index if exists contacts_merged_into_idx;
alter table contacts drop column if exists merged_into_id;
drop table if exists user_invites;
`.execute(db);
}
