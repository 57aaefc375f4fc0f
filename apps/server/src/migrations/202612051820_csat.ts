import { type Kysely, sql } from "kysely";

// Customer satisfaction: one rating per ticket (good / okay / bad, with an optional comment), given
// through the signed link in the resolution email. The technician is the ticket's assignee when rated.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
create table csat_ratings (
  ticket_id uuid primary key references tickets on delete cascade,
  client_id uuid not null references clients on delete cascade,
  contact_id uuid references contacts on delete set null,
  technician_id uuid references users on delete set null,
  rating text not null check (rating in ('good', 'okay', 'bad')),
  comment text not null default '',
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index csat_ratings_created_idx on csat_ratings (created_at);
create index csat_ratings_client_idx on csat_ratings (client_id, created_at);
select sb_client_table('csat_ratings');

-- MSP-wide: what a bad rating does.
create table csat_settings (
  id smallint primary key default 1 check (id = 1),
  bad_action text not null default 'reopen' check (bad_action in ('reopen', 'alert')),
  version integer not null default 1,
  updated_at timestamptz not null default now()
);
insert into csat_settings default values;
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists csat_settings, csat_ratings`.execute(db);
}
