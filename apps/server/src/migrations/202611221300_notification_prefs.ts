import { type Kysely, sql } from "kysely";

// Which notification emails each technician gets. No row means the defaults (every email on), so
// existing users keep today's behaviour and the table only holds the people who changed something.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
create table user_notification_preferences (
  user_id uuid primary key references users on delete cascade,
  -- "Assigned to you" mail.
  assigned boolean not null default true,
  -- "New reply" mail when the customer writes on a ticket assigned to me.
  new_reply boolean not null default true,
  updated_at timestamptz not null default now()
);
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists user_notification_preferences`.execute(db);
}
