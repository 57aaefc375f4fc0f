import { type Kysely, sql } from "kysely";

// Knowledge-base articles: sanitised HTML (body_html) with its text (body_text) for search and for
// "insert into reply". client_id null: the article is for every client (or, internal, the MSP's own);
// otherwise it concerns one client. Public articles are shown in that client's portal.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
create table kb_articles (
  id uuid primary key default gen_random_uuid(),
  client_id uuid references clients on delete cascade,
  title text not null,
  body_html text not null default '',
  body_text text not null default '',
  visibility text not null check (visibility in ('internal', 'public')),
  source_ticket_id uuid references tickets on delete set null,
  created_by_user_id uuid references users on delete set null,
  updated_by_user_id uuid references users on delete set null,
  version integer not null default 1,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now(),
  search_vector tsvector generated always as (
    setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', left(body_text, 200000)), 'B')
  ) stored
);
create index kb_articles_search_idx on kb_articles using gin (search_vector);
create index kb_articles_updated_idx on kb_articles (updated_at desc);
create index kb_articles_client_idx on kb_articles (client_id);

-- Row-level security: an article of no client (for everyone) is visible to every scope; one client's
-- article only to scopes that see that client. (sb_client_table hides null-client rows from scoped roles,
-- which suits the audit log but not articles meant for every client.)
do $$
begin
  alter table kb_articles enable row level security;
  execute format('create policy sb_all on kb_articles to %I using (true) with check (true)',
    current_database() || '_all');
  execute format('create policy sb_scoped on kb_articles to %I using (client_id is null or client_id = any (sb_client_ids())) with check (client_id is null or client_id = any (sb_client_ids()))',
    current_database() || '_scoped');
end $$;

-- Images (and other files) of an article, stored by SHA-256 in the blob store.
create table kb_files (
  id uuid primary key default gen_random_uuid(),
  article_id uuid not null references kb_articles on delete cascade,
  filename text not null,
  content_type text not null,
  size_bytes bigint not null,
  sha256 text not null,
  storage_key text not null,
  created_by_user_id uuid references users on delete set null,
  created_at timestamptz not null default now()
);
create index kb_files_article_idx on kb_files (article_id);
select sb_client_child_table('kb_files', 'article_id', 'kb_articles');
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop table if exists kb_files, kb_articles`.execute(db);
}
