import { type Kysely, sql } from "kysely";

// An outgoing message whose delivery failure notice (DSN) came back is `bounced`, with the reason the
// remote server gave, distinct from `failed` (our relay refused it or never took it).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
alter table email_messages drop constraint email_messages_status_check;
alter table email_messages add constraint email_messages_status_check check (status in
  ('received', 'processed', 'duplicate', 'quarantined', 'review', 'unmatched',
   'queued', 'sent', 'failed', 'bounced'));
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
update email_messages set status = 'failed' where status = 'bounced';
alter table email_messages drop constraint email_messages_status_check;
alter table email_messages add constraint email_messages_status_check check (status in
  ('received', 'processed', 'duplicate', 'quarantined', 'review', 'unmatched',
   'queued', 'sent', 'failed'));
`.execute(db);
}
