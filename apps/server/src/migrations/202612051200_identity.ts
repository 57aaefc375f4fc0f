import { type Kysely, sql } from "kysely";

// Caller verification and directory resets (issue 9): a client's policy and directory, a contact's
// methods and directory account, verifications made of challenges (one per factor tried), and the
// resets run through the agent on the client's domain controller.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
create table identity_policies (
  client_id uuid primary key references clients on delete cascade,
  methods text[] not null default '{sms,email,totp,manager}',
  factors integer not null default 1 check (factors between 1 and 3),
  -- VIP contacts and admin accounts: two factors, or one that is a manager's approval.
  privileged_factors integer not null default 2 check (privileged_factors between 1 and 3),
  manager_satisfies_privileged boolean not null default true,
  validity_minutes integer not null default 10 check (validity_minutes between 1 and 120),
  -- The client's directory: the device whose agent runs resets, and what it is.
  directory_device_id uuid references devices on delete set null,
  directory_kind text check (directory_kind in ('active_directory', 'samba')),
  version integer not null default 1,
  updated_at timestamptz not null default now(),
  updated_by_user_id uuid references users on delete set null
);
select sb_client_table('identity_policies');

create table identity_contacts (
  contact_id uuid primary key references contacts on delete cascade,
  client_id uuid not null references clients on delete cascade,
  sms_number text check (sms_number ~ '^\\+[1-9][0-9]{6,14}$'),
  email text,
  -- The TOTP seed the contact enrolled, sealed (AES-256-GCM, bound to the contact); pending until the
  -- contact proves it with a first code.
  totp_enc text,
  totp_confirmed_at timestamptz,
  -- The last TOTP time step accepted: a code is never accepted twice, even in a new verification.
  totp_last_step bigint,
  approver boolean not null default false,
  admin_account boolean not null default false,
  directory_account text,
  -- When and how the account was linked: typed by a technician, or found in the directory by the
  -- contact's own address. A typed link made after a verification started does not count for it.
  directory_account_source text check (directory_account_source in ('typed', 'discovered')),
  directory_account_set_at timestamptz,
  version integer not null default 1,
  updated_at timestamptz not null default now()
);
create index identity_contacts_client_idx on identity_contacts (client_id);
select sb_client_table('identity_contacts');

create table identity_verifications (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients on delete cascade,
  contact_id uuid not null references contacts on delete cascade,
  ticket_id uuid references tickets on delete set null,
  started_by_user_id uuid references users on delete set null,
  started_by_label text not null,
  status text not null default 'pending' check (status in ('pending', 'verified', 'failed', 'expired', 'cancelled')),
  privileged boolean not null,
  factors_required integer not null,
  manager_satisfies boolean not null,
  validity_minutes integer not null,
  reason text,
  created_at timestamptz not null default now(),
  -- A pending verification is abandoned after this; a verified one is fresh until valid_until.
  expires_at timestamptz not null,
  verified_at timestamptz,
  valid_until timestamptz
);
create index identity_verifications_contact_idx on identity_verifications (contact_id, created_at desc);
create index identity_verifications_ticket_idx on identity_verifications (ticket_id) where ticket_id is not null;
select sb_client_table('identity_verifications');

create table identity_challenges (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients on delete cascade,
  verification_id uuid not null references identity_verifications on delete cascade,
  method text not null check (method in ('sms', 'email', 'totp', 'manager', 'reverse')),
  status text not null default 'sent' check (status in ('sent', 'passed', 'failed', 'expired', 'send_failed', 'denied')),
  -- HMAC-SHA256 of the code under the identity key, bound to the challenge id: never the code.
  code_hmac text,
  attempts integer not null default 0,
  max_attempts integer not null default 5,
  destination text not null default '',
  approver_contact_id uuid references contacts on delete set null,
  provider_id text,
  last_error text,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null,
  decided_at timestamptz
);
create index identity_challenges_verification_idx on identity_challenges (verification_id, created_at);
select sb_client_table('identity_challenges');

create table identity_actions (
  id uuid primary key default gen_random_uuid(),
  client_id uuid not null references clients on delete cascade,
  contact_id uuid not null references contacts on delete cascade,
  verification_id uuid references identity_verifications on delete set null,
  ticket_id uuid references tickets on delete set null,
  action text not null check (action in ('reset_password', 'unlock', 'force_change', 'discover')),
  account text not null,
  must_change boolean not null default false,
  device_id uuid references devices on delete set null,
  command_id uuid references device_commands on delete set null,
  status text not null default 'running' check (status in ('running', 'succeeded', 'failed')),
  error text,
  result jsonb,
  requested_by_user_id uuid references users on delete set null,
  requested_by_label text not null,
  created_at timestamptz not null default now(),
  finished_at timestamptz
);
create index identity_actions_contact_idx on identity_actions (contact_id, created_at desc);
create index identity_actions_client_idx on identity_actions (client_id, created_at desc);
select sb_client_table('identity_actions');
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table identity_actions, identity_challenges, identity_verifications, identity_contacts, identity_policies`.execute(
    db,
  );
}
