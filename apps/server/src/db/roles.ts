import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import type { Database } from "./database.ts";
import { type ScopeRoles, scopeRolesFor } from "./scope.ts";

/** Thrown when the database cannot give the server a role that row-level security applies to. */
export class RoleSetupError extends Error {}

/**
 * Makes sure the server has a login role that row-level security applies to, and returns how to
 * connect as it. Runs as the owner (the migration role), after the migrations, on every start:
 *
 * - With `appUrl` (DATABASE_APP_URL), the operator made the login role: it is checked (not a superuser,
 *   cannot bypass RLS, owns no table) and granted the two scope roles.
 * - Otherwise `<db>_app` is created (LOGIN, NOINHERIT) with a generated password kept in the owner-only
 *   schema `sb_private`, so every process on the database connects the same way. The URL is the owner's
 *   with the user and password replaced.
 */
export async function provisionAppRole(
  owner: Database,
  ownerUrl: string,
  opts: { appUrl?: string } = {},
): Promise<{ url: string; roles: ScopeRoles; login: string }> {
  return owner.transaction().execute(async (trx) => {
    // Several processes may start at once: one provisions, the others wait and find it done.
    await sql`select pg_advisory_xact_lock(hashtext('switchboard.app_role'))`.execute(trx);
    const { rows } = await sql<{ db: string }>`select current_database() as db`.execute(trx);
    const names = scopeRolesFor(rows[0]!.db);
    const roles: ScopeRoles = { all: names.all, scoped: names.scoped };
    const existing = await sql<{ rolname: string }>`
      select rolname from pg_roles where rolname in (${names.all}, ${names.scoped})`.execute(trx);
    if (existing.rows.length !== 2) {
      throw new RoleSetupError(
        `the roles ${names.all} and ${names.scoped} are missing: run the migrations (switchboard migrate) first`,
      );
    }

    let url: string;
    let login: string;
    if (opts.appUrl) {
      login = decodeURIComponent(new URL(opts.appUrl).username);
      await assertSafeLogin(trx, login);
      url = opts.appUrl;
    } else {
      login = names.login;
      const password = await appPassword(trx);
      const exists = await sql`select 1 from pg_roles where rolname = ${login}`.execute(trx);
      const verb = exists.rows.length ? "alter" : "create";
      // Role statements take no bind parameters: the name and password are quoted by format().
      const stmt = await sql<{ s: string }>`
        select format('%s role %I with login noinherit nosuperuser nocreatedb nocreaterole nobypassrls password %L',
          ${verb}::text, ${login}::text, ${password}::text) as s`.execute(trx);
      await sql.raw(stmt.rows[0]!.s).execute(trx);
      const u = new URL(ownerUrl);
      u.username = encodeURIComponent(login);
      u.password = encodeURIComponent(password);
      url = u.toString();
    }
    const grant = await sql<{ s: string; c: string }>`
      select format('grant %I, %I to %I', ${roles.all}::text, ${roles.scoped}::text, ${login}::text) as s,
             format('grant connect on database %I to %I', current_database(), ${login}::text) as c`.execute(
      trx,
    );
    await sql.raw(grant.rows[0]!.s).execute(trx);
    await sql.raw(grant.rows[0]!.c).execute(trx);
    return { url, roles, login };
  });
}

/** The generated password of `<db>_app`, created once and readable only by the owner. */
async function appPassword(trx: Database) {
  await sql`
    create schema if not exists sb_private;
    revoke all on schema sb_private from public;
    create table if not exists sb_private.app_login (
      id smallint primary key default 1 check (id = 1),
      password text not null
    );`.execute(trx);
  const found = await sql<{ password: string }>`select password from sb_private.app_login`.execute(trx);
  if (found.rows[0]) return found.rows[0].password;
  const password = randomBytes(24).toString("base64url");
  await sql`insert into sb_private.app_login (password) values (${password})`.execute(trx);
  return password;
}

/** An operator-made login role must be one that row-level security holds. */
async function assertSafeLogin(trx: Database, login: string) {
  const { rows } = await sql<{ rolsuper: boolean; rolbypassrls: boolean; owns: boolean }>`
    select r.rolsuper, r.rolbypassrls,
      exists (select 1 from pg_class c join pg_namespace n on n.oid = c.relnamespace
              where n.nspname = 'public' and c.relowner = r.oid) as owns
    from pg_roles r where r.rolname = ${login}`.execute(trx);
  const r = rows[0];
  if (!r) throw new RoleSetupError(`DATABASE_APP_URL: the role ${login} does not exist`);
  if (r.rolsuper || r.rolbypassrls || r.owns) {
    throw new RoleSetupError(
      `DATABASE_APP_URL: the role ${login} ${r.rolsuper ? "is a superuser" : r.rolbypassrls ? "can bypass row-level security" : "owns Switchboard's tables"}; give it a role that row-level security applies to`,
    );
  }
}

/**
 * Jobs are inserted in the transaction of the change that makes them (bossDb), so the scope roles write
 * pg-boss's tables too. pg-boss itself runs as the owner (lib/jobs.ts runs this after it installed its
 * schema); default privileges cover the tables it creates later (a queue's partition).
 */
export function grantJobSchemaSql(schema: string) {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`unexpected pg-boss schema name ${schema}`);
  return `
do $$
declare
  r text;
  stmt text;
begin
  foreach r in array array[current_database() || '_all', current_database() || '_scoped'] loop
    continue when not exists (select 1 from pg_roles where rolname = r);
    foreach stmt in array array[
      'grant usage on schema ${schema} to %I',
      'grant select, insert, update, delete on all tables in schema ${schema} to %I',
      'grant usage, select on all sequences in schema ${schema} to %I',
      'grant execute on all functions in schema ${schema} to %I',
      'alter default privileges in schema ${schema} grant select, insert, update, delete on tables to %I',
      'alter default privileges in schema ${schema} grant usage, select on sequences to %I',
      'alter default privileges in schema ${schema} grant execute on functions to %I'
    ] loop
      execute format(stmt, r);
    end loop;
  end loop;
end $$;`;
}
