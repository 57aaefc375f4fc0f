import { type Kysely, sql } from "kysely";

// Agents: enrollment tokens, devices (one per enrolled machine, with its public key and inventory), the
// commands sent to them, and the server's own signing key.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
-- One row: the Ed25519 key every process signs commands with. The private key is PKCS#8 PEM, encrypted
-- with AGENT_SIGNING_KEY_PASSPHRASE when that is set.
create table agent_signing_key (
  id smallint primary key default 1 check (id = 1),
  public_key text not null,
  private_key_pem text not null,
  encrypted boolean not null,
  created_at timestamptz not null default now()
);

create table enrollment_tokens (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients on delete cascade,
  site_id uuid references sites on delete set null,
  label text not null default '',
  token_hash text not null unique,
  prefix text not null,
  max_uses integer not null check (max_uses > 0),
  uses integer not null default 0 check (uses >= 0),
  expires_at timestamptz not null,
  revoked_at timestamptz,
  created_by_user_id uuid references users on delete set null,
  created_at timestamptz not null default now()
);
create index enrollment_tokens_client_idx on enrollment_tokens (client_id, created_at desc);

create table devices (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients on delete cascade,
  site_id uuid references sites on delete set null,
  hostname text not null,
  platform text not null,
  arch text not null,
  os_name text not null,
  os_version text not null,
  agent_version text not null,
  public_key text not null,
  enrollment_token_id uuid references enrollment_tokens on delete set null,
  online boolean not null default false,
  gateway_id text,
  last_seen_at timestamptz,
  last_address text,
  inventory jsonb,
  inventory_hash text,
  inventory_updated_at timestamptz,
  enrolled_at timestamptz not null default now(),
  retired_at timestamptz,
  version integer not null default 1
);
create index devices_client_idx on devices (client_id, hostname, id);
create index devices_site_idx on devices (site_id, hostname, id) where site_id is not null;
-- The offline sweep looks only at devices believed online.
create index devices_online_seen_idx on devices (last_seen_at) where online;

create table device_commands (
  id uuid primary key default gen_random_uuid(),
  device_id uuid not null references devices on delete cascade,
  client_id uuid not null,
  ticket_id uuid references tickets on delete set null,
  kind text not null,
  command jsonb not null,
  -- The signed envelope exactly as delivered: a queued command is re-sent byte for byte on reconnect.
  payload text not null,
  signature text not null,
  status text not null default 'queued' check (status in
    ('queued', 'sent', 'running', 'succeeded', 'failed', 'timed_out', 'refused', 'expired')),
  requested_by_user_id uuid references users on delete set null,
  requested_by_label text not null,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  sent_at timestamptz,
  started_at timestamptz,
  finished_at timestamptz,
  exit_code integer,
  stdout text not null default '',
  stderr text not null default '',
  truncated boolean not null default false,
  error text,
  services jsonb
);
create index device_commands_device_idx on device_commands (device_id, created_at desc);
create index device_commands_queued_idx on device_commands (device_id, created_at) where status = 'queued';
-- The housekeeping sweep looks only at commands still in flight.
create index device_commands_in_flight_idx on device_commands (expires_at) where status in ('queued', 'sent', 'running');
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists device_commands, devices, enrollment_tokens, agent_signing_key cascade`.execute(
    db,
  );
}
