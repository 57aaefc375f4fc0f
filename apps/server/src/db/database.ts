import { Kysely, PostgresDialect } from "kysely";
import pg from "pg";
import type { DB } from "./schema.ts";

// int8 (bigint) columns hold ticket numbers and sequence ids: all far below 2^53, so numbers are safe.
pg.types.setTypeParser(20, (v) => Number.parseInt(v, 10));

export type Database = Kysely<DB>;

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
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    pool,
    url,
    close: () => db.destroy(),
  } satisfies DatabaseHandle;
}
