import { CompiledQuery, type Kysely, type Transaction } from "kysely";
import { PgBoss } from "pg-boss";
import { PREPARED } from "../db/database.ts";

export type Boss = PgBoss;

export async function startBoss(url: string, opts: { max?: number; supervise?: boolean } = {}) {
  const boss = new PgBoss({
    connectionString: url,
    schema: "pgboss",
    max: opts.max ?? 4,
    application_name: "switchboard-jobs",
    supervise: opts.supervise ?? true,
    schedule: opts.supervise ?? true,
  });
  boss.on("error", () => {});
  await boss.start();
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
