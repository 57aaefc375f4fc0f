import { CompiledQuery, type Kysely, type Transaction } from "kysely";
import { PgBoss } from "pg-boss";
import { PREPARED } from "../db/database.ts";
import { grantJobSchemaSql } from "../db/roles.ts";

export type Boss = PgBoss;

/**
 * Starts pg-boss as the database owner (it installs and migrates its own schema), then lets the
 * server's scope roles write jobs through our own transactions (db/roles.ts).
 */
export async function startBoss(
  url: string,
  opts: { max?: number; supervise?: boolean; schema?: string; schedule?: boolean } = {},
) {
  const schema = opts.schema ?? "pgboss";
  const boss = new PgBoss({
    connectionString: url,
    schema,
    max: opts.max ?? 4,
    application_name: "switchboard-jobs",
    supervise: opts.supervise ?? true,
    schedule: opts.schedule ?? opts.supervise ?? true,
  });
  boss.on("error", () => {});
  await boss.start();
  await boss.getDb().executeSql(grantJobSchemaSql(schema));
  return boss;
}

/** Lets pg-boss write its job rows inside one of our transactions: the job exists iff the change commits. */
// biome-ignore lint/suspicious/noExplicitAny: accepts a transaction over any schema
export function bossDb(trx: Transaction<any> | Kysely<any>) {
  return {
    async executeSql(text: string, values?: unknown[]) {
      // pg-boss's send and insert statements have a fixed text: prepared once per connection.
      const res = await trx.executeQuery(CompiledQuery.raw(PREPARED + text, values ?? []));
      return { rows: res.rows as unknown[] };
    },
  };
}
