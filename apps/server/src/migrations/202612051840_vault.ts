import { type Kysely, sql } from "kysely";

// The password vault. Envelope encryption: each client (and the MSP itself, client_id null) has a data
// key, AES-256, stored only wrapped by a key-encryption key that never enters the database
// (SWITCHBOARD_VAULT_KEK or a KMS-style provider); entries are sealed with their client's data key.
// Rotation: a new data key becomes active and entries are re-sealed in batches while the old key still
// opens what it sealed; a new KEK re-wraps the data keys. Neither stops reads.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
create table vault_data_keys (
  id uuid primary key default gen_random_uuid(),
  client_id uuid references clients on delete cascade,
  kek_id text not null,
  wrapped_key text not null,
  active boolean not null default true,
  created_at timestamptz not null default now(),
  retired_at timestamptz
);
create unique index vault_data_keys_active_key on vault_data_keys
  (coalesce(client_id, '00000000-0000-0000-0000-000000000000')) where active;
create index vault_data_keys_kek_idx on vault_data_keys (kek_id);
select sb_client_table('vault_data_keys');

create table vault_entries (
  id uuid primary key default gen_random_uuid(),
  client_id uuid references clients on delete cascade,
  title text not null,
  username text not null default '',
  url text not null default '',
  -- Sealed with data_key_id's key: the password, the TOTP seed, secret notes.
  secret_enc text,
  totp_enc text,
  notes_enc text,
  data_key_id uuid not null references vault_data_keys,
  -- Only admins may reveal a restricted entry.
  restricted boolean not null default false,
  version integer not null default 1,
  created_by_user_id uuid references users on delete set null,
  updated_by_user_id uuid references users on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  archived_at timestamptz
);
create index vault_entries_client_idx on vault_entries (client_id, title);
create index vault_entries_data_key_idx on vault_entries (data_key_id);
select sb_client_table('vault_entries');

-- A re-entered password opens reveals for a few minutes, for that credential (session or token) only.
create table vault_step_ups (
  credential_hash text primary key,
  user_id uuid not null references users on delete cascade,
  until timestamptz not null
);
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists vault_step_ups, vault_entries, vault_data_keys`.execute(db);
}
