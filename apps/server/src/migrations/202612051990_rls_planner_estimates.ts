import { type Kysely, sql } from "kysely";

// Row-level security the planner can plan around. A scoped policy of the form
// `client_id = any (sb_client_ids())` is estimated as if the list held ten clients, and PostgreSQL
// multiplies that with the service layer's own `client_id = any ($1)`: a technician limited to 25 of 500
// clients got ~250 rows estimated for 5,000 real ones, so the queue sorted every one of them (550 ms)
// instead of walking the priority index (2 ms). Wrapped in coalesce() the policy is estimated as "half
// the rows" and no longer skews the plan: the service layer's exact filter drives it, the policy still
// removes every foreign row (NULL counts as not visible, as before). WITH CHECK keeps the plain form.
// bench:rls measures both; the numbers are in bench/README.md.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
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
  execute format('create policy sb_scoped on %s to %I using (coalesce(%I = any (sb_client_ids()), false)) with check (%s%I = any (sb_client_ids()))',
    tbl, current_database() || '_scoped', col,
    case when nullable then format('%I is null or ', col) else '' end, col);
end $f$;

do $$
declare
  p record;
  col text;
begin
  for p in select schemaname, tablename, qual from pg_policies
           where policyname = 'sb_scoped' and schemaname = 'public' loop
    col := substring(p.qual from '^\\(?(\\w+) = ANY \\(sb_client_ids\\(\\)\\)\\)?$');
    if col is not null then
      perform sb_client_table(format('%I.%I', p.schemaname, p.tablename)::regclass, col::name);
    end if;
  end loop;
end $$;
`.execute(db);
}

export async function down(): Promise<void> {}
