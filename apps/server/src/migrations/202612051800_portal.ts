import { type Kysely, sql } from "kysely";

// The client portal: contacts who may sign in (by a one-time link mailed to them, or a password with an
// optional TOTP code), their sessions and their sign-in links. Every secret is stored hashed (sessions,
// links, passwords) or sealed (the TOTP seed, with the server's secret box). Rows belong to the contact's
// client, so row-level security keeps them with it.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
create table portal_accounts (
  contact_id uuid primary key references contacts on delete cascade,
  client_id uuid not null references clients on delete cascade,
  -- The address the contact signs in with and sign-in links go to.
  email text not null,
  -- Sees every ticket of their company, not only their own.
  company_admin boolean not null default false,
  enabled boolean not null default true,
  password_hash text,
  -- Sealed TOTP seed once confirmed; the pending one while the contact sets it up.
  totp_secret text,
  totp_pending text,
  last_sign_in_at timestamptz,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index portal_accounts_email_key on portal_accounts (lower(email));
create index portal_accounts_client_idx on portal_accounts (client_id);
select sb_client_table('portal_accounts');

create table portal_sessions (
  token_hash text primary key,
  contact_id uuid not null references portal_accounts on delete cascade,
  client_id uuid not null references clients on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  ip text,
  user_agent text
);
create index portal_sessions_contact_idx on portal_sessions (contact_id);
select sb_client_table('portal_sessions');

-- One-time sign-in links. Single purpose (the column says which, and the redeem checks it), expiring,
-- used once; only the SHA-256 of the token is kept.
create table portal_sign_in_links (
  token_hash text primary key,
  contact_id uuid not null references portal_accounts on delete cascade,
  client_id uuid not null references clients on delete cascade,
  purpose text not null check (purpose in ('sign_in')),
  expires_at timestamptz not null,
  used_at timestamptz,
  created_at timestamptz not null default now()
);
create index portal_sign_in_links_contact_idx on portal_sign_in_links (contact_id, created_at desc);
select sb_client_table('portal_sign_in_links');

-- A system mail that carries a credential (a sign-in link, a share link) keeps its text sealed here,
-- not in body_text, and the sender clears it once the message is delivered or has failed for good.
alter table email_messages add column sealed_body text;
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
alter table email_messages drop column if exists sealed_body;
drop table if exists portal_sign_in_links, portal_sessions, portal_accounts;
`.execute(db);
}
