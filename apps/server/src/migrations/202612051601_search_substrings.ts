import { type Kysely, sql } from "kysely";

// Substring search on contacts' email addresses and clients' email domains ("dental" finds the client at
// riverbenddental.example): a trigram index over the array joined into one string. array_to_string is
// only STABLE, so an IMMUTABLE wrapper makes it indexable (a text[] joins the same way every time).
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
create or replace function sb_text_list(text[]) returns text
  language sql immutable parallel safe as $$ select array_to_string($1, ' ') $$;
create index contacts_emails_trgm on contacts using gin (sb_text_list(emails) gin_trgm_ops);
create index clients_domains_trgm on clients using gin (sb_text_list(email_domains) gin_trgm_ops);
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
drop index if exists clients_domains_trgm;
drop index if exists contacts_emails_trgm;
drop function if exists sb_text_list(text[]);
`.execute(db);
}
