import { type Kysely, sql } from "kysely";

// Row-level security: PostgreSQL itself keeps one client's rows from an actor limited to other clients,
// as a second wall behind the service layer's checks.
//
// Three roles per database (role names are cluster-wide, so they carry the database's name):
// - <db>_all     NOLOGIN: the policies let every row through (system work, staff who see every client);
// - <db>_scoped  NOLOGIN: the policies let through only rows whose client is in the `sb.client_ids`
//                setting (client-limited staff; anonymous requests, with an empty list);
// - <db>_app     LOGIN, NOINHERIT, created at start (db/roles.ts): the server's connections. It has no
//                privileges of its own, so a statement runs only after the connection took one of the two
//                roles above (db/scope.ts), and it owns nothing, so it cannot turn RLS off.
// The owner (the migration role, DATABASE_URL's user) owns the tables and is not used by requests.
//
// A table that holds a client's data calls `select sb_client_table('<table>')` in the migration that
// creates it (with `client_id uuid not null`), or sb_client_child_table for rows reached through a parent.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
do $$
declare
  r text;
begin
  foreach r in array array[current_database() || '_all', current_database() || '_scoped'] loop
    if not exists (select 1 from pg_roles where rolname = r) then
      execute format('create role %I nologin noinherit', r);
    end if;
    execute format('grant usage on schema public to %I', r);
    execute format('grant select, insert, update, delete on all tables in schema public to %I', r);
    execute format('grant usage, select, update on all sequences in schema public to %I', r);
    execute format('grant execute on all functions in schema public to %I', r);
    execute format('alter default privileges in schema public grant select, insert, update, delete on tables to %I', r);
    execute format('alter default privileges in schema public grant usage, select, update on sequences to %I', r);
  end loop;
end $$;

-- The clients of the current scope; empty when the setting is missing (fail closed).
create or replace function sb_client_ids() returns uuid[]
  language sql stable parallel safe
  as $f$ select coalesce(nullif(current_setting('sb.client_ids', true), '')::uuid[], '{}'::uuid[]) $f$;

-- RLS on a table with a client column: <db>_all sees every row, <db>_scoped the rows of its clients.
-- A nullable client column (the audit log, the outbox) holds MSP-wide rows too: <db>_scoped may write
-- those (a limited technician's own settings change is audited) but never reads them.
create or replace function sb_client_table(tbl regclass, col name default 'client_id') returns void
  language plpgsql as $f$
declare
  nullable boolean;
begin
  select not a.attnotnull into nullable from pg_attribute a where a.attrelid = tbl and a.attname = col;
  if nullable is null then
    raise exception 'sb_client_table: % has no column %', tbl, col;
  end if;
  execute format('alter table %s enable row level security', tbl);
  execute format('drop policy if exists sb_all on %s', tbl);
  execute format('create policy sb_all on %s to %I using (true) with check (true)', tbl,
    current_database() || '_all');
  execute format('drop policy if exists sb_scoped on %s', tbl);
  execute format('create policy sb_scoped on %s to %I using (%I = any (sb_client_ids())) with check (%s%I = any (sb_client_ids()))',
    tbl, current_database() || '_scoped', col,
    case when nullable then format('%I is null or ', col) else '' end, col);
end $f$;

-- RLS on a table whose rows belong to a client through a parent row (a timeline entry through its
-- ticket): visible to <db>_scoped when the parent is (the parent's own policy decides).
create or replace function sb_client_child_table(tbl regclass, col name, parent regclass, parent_col name default 'id')
  returns void language plpgsql as $f$
begin
  execute format('alter table %s enable row level security', tbl);
  execute format('drop policy if exists sb_all on %s', tbl);
  execute format('create policy sb_all on %s to %I using (true) with check (true)', tbl,
    current_database() || '_all');
  execute format('drop policy if exists sb_scoped on %s', tbl);
  -- The child's column is qualified by its table: unqualified, a parent column of the same name wins.
  execute format('create policy sb_scoped on %s to %I using (exists (select 1 from %s p where p.%I = %s.%I)) with check (exists (select 1 from %s p where p.%I = %s.%I))',
    tbl, current_database() || '_scoped', parent, parent_col, tbl, col, parent, parent_col, tbl, col);
end $f$;

select sb_client_table('clients', 'id');
select sb_client_table('sites');
select sb_client_table('contacts');
select sb_client_table('tickets');
select sb_client_child_table('ticket_contacts', 'ticket_id', 'tickets');
select sb_client_child_table('timeline_entries', 'ticket_id', 'tickets');
select sb_client_child_table('attachments', 'ticket_id', 'tickets');
select sb_client_table('audit_log');
select sb_client_table('domain_events');
select sb_client_table('enrollment_tokens');
select sb_client_table('devices');
select sb_client_table('device_commands');
select sb_client_child_table('email_messages', 'ticket_id', 'tickets');
select sb_client_child_table('email_attachment_parts', 'attachment_id', 'attachments');
select sb_client_table('email_client_settings');
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
do $$
declare
  t regclass;
begin
  for t in select c.oid::regclass from pg_class c join pg_namespace n on n.oid = c.relnamespace
           where n.nspname = 'public' and c.relrowsecurity loop
    execute format('drop policy if exists sb_all on %s', t);
    execute format('drop policy if exists sb_scoped on %s', t);
    execute format('alter table %s disable row level security', t);
  end loop;
end $$;
drop function if exists sb_client_child_table(regclass, name, regclass, name);
drop function if exists sb_client_table(regclass, name);
drop function if exists sb_client_ids();
`.execute(db);
}
