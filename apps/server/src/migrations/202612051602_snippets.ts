import { type Kysely, sql } from "kysely";

// Canned responses for the composer. Not client data (no client_id, no row-level security): a snippet
// is the MSP's wording, shared (owner_user_id null) or one technician's own.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
create table snippets (
  id uuid primary key default gen_random_uuid(),
  title text not null,
  body text not null,
  owner_user_id uuid references users on delete cascade,
  created_by_user_id uuid references users on delete set null,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index snippets_owner_idx on snippets (owner_user_id, lower(title));
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists snippets`.execute(db);
}
