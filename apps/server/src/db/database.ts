import { createHash } from "node:crypto";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { DB } from "./schema.ts";
import { currentScope, type ScopeRoles, SET_SCOPE_SQL, scopeStatement } from "./scope.ts";

// int8 (bigint) columns hold ticket numbers and sequence ids: all far below 2^53, so numbers are safe.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));
// A `date` is a calendar day, not an instant: kept as its "YYYY-MM-DD" text. pg's default turns it into
// a Date at local midnight, which moves with the process's TZ.
pg.types.setTypeParser(1082, (v) => v);

export type Database = Kysely<DB>;

/**
 * Put at the very start of a statement's text, this marks it as a named prepared statement: each pooled
 * connection parses it once and PostgreSQL may then reuse its plan, instead of parsing and planning it on
 * every call (for the email routing query, planning cost more than running it). Only for hot statements
 * of a fixed shape: every distinct text stays prepared on every connection for the connection's life.
 */
export const PREPARED = "/*prepared*/";

const statementNames = new Map<string, string>();
function statementName(text: string) {
  let name = statementNames.get(text);
  if (!name) {
    name = `sb_${createHash("sha1").update(text).digest("hex").slice(0, 20)}`;
    statementNames.set(text, name);
  }
  return name;
}

type ScopedClient = pg.PoolClient & { sbScopeKey?: string };

/**
 * Wraps a pooled connection's `query`: statements marked PREPARED go as named prepared statements, and,
 * when `roles` is given, the connection is put under the current scope (db/scope.ts) before a statement
 * whose scope differs from the one the connection last had. The switch is one extra statement, sent only
 * on a change; pg sends it ahead of the statement on the same connection.
 *
 * The scope is set at session level and remembered per connection. A rollback undoes a setting made
 * inside the rolled-back transaction, so after a rollback, a SET/RESET of our own, or a failed switch,
 * the connection's scope is forgotten and set again before its next statement.
 */
function wrapClient(client: ScopedClient, roles?: ScopeRoles) {
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<unknown> | undefined;
  client.query = ((text: unknown, values?: unknown, callback?: unknown) => {
    if (roles) {
      const { key, values: scopeValues } = scopeStatement(currentScope(), roles, client.sbScopeKey);
      if (client.sbScopeKey !== key) {
        client.sbScopeKey = key;
        query(SET_SCOPE_SQL, scopeValues)?.catch(() => {
          client.sbScopeKey = undefined;
        });
      }
      // After a rollback, or a statement that changes settings itself, the scope is set again next time.
      if (typeof text === "string" && /^\s*(rollback|reset|set)\b/i.test(text)) client.sbScopeKey = undefined;
    }
    return typeof text === "string" && text.startsWith(PREPARED)
      ? query({ name: statementName(text), text, values }, callback)
      : query(text, values, callback);
  }) as typeof client.query;
}

export interface DatabaseHandle {
  db: Database;
  pool: pg.Pool;
  url: string;
  close(): Promise<void>;
}

export function connectDatabase(
  url: string,
  opts: {
    max?: number;
    applicationName?: string;
    /** Row-level security: put every statement under the current scope's role (db/scope.ts). */
    scopeRoles?: ScopeRoles;
  } = {},
) {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 20,
    application_name: opts.applicationName ?? "switchboard",
    idleTimeoutMillis: 30_000,
  });
  // An idle client's error (server restart) must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  pool.on("connect", (client) => wrapClient(client, opts.scopeRoles));
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    pool,
    url,
    close: () => db.destroy(),
  } satisfies DatabaseHandle;
}
