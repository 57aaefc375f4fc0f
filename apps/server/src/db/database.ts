import { createHash } from "node:crypto";
import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { DB } from "./schema.ts";

// int8 (bigint) columns hold ticket numbers and sequence ids: all far below 2^53, so numbers are safe.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));

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

/** Routes marked statements (see PREPARED) through pg's named prepared statements. */
function prepareMarked(client: pg.PoolClient) {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  client.query = ((text: unknown, values?: unknown, callback?: unknown) =>
    typeof text === "string" && text.startsWith(PREPARED)
      ? query({ name: statementName(text), text, values }, callback)
      : query(text, values, callback)) as typeof client.query;
}

export interface DatabaseHandle {
  db: Database;
  pool: pg.Pool;
  url: string;
  close(): Promise<void>;
}

export function connectDatabase(url: string, opts: { max?: number; applicationName?: string } = {}) {
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.max ?? 20,
    application_name: opts.applicationName ?? "switchboard",
    idleTimeoutMillis: 30_000,
  });
  // An idle client's error (server restart) must not crash the process; the pool replaces it.
  pool.on("error", () => {});
  pool.on("connect", prepareMarked);
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    pool,
    url,
    close: () => db.destroy(),
  } satisfies DatabaseHandle;
}
