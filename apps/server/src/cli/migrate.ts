import type { Command } from "commander";
import type { Database } from "../db/database.ts";
import { migrator } from "../db/migrate.ts";
import { CliError, cliConfig, print, withDatabase } from "./context.ts";
import { progress } from "./progress.ts";

/**
 * Applies pending migrations one at a time so the bar moves per migration; each step takes the
 * migration lock, so a server starting meanwhile waits rather than racing. Returns the names applied.
 */
export async function runMigrations(db: Database, opts: { quiet?: boolean } = {}): Promise<string[]> {
  const m = migrator(db);
  const pending = (await m.getMigrations()).filter((x) => !x.executedAt);
  if (pending.length === 0) return [];
  const bar = progress("migrate", pending.length, opts);
  const applied: string[] = [];
  try {
    for (;;) {
      const result = await m.migrateUp();
      if (result.error) {
        const failed = result.results?.find((r) => r.status === "Error")?.migrationName ?? "?";
        const reason = result.error instanceof Error ? result.error.message : String(result.error);
        throw new CliError(`migration ${failed} failed: ${reason}`);
      }
      const done = (result.results ?? []).filter((r) => r.status === "Success");
      if (done.length === 0) break;
      for (const r of done) {
        applied.push(r.migrationName);
        bar.tick(r.migrationName);
      }
    }
  } finally {
    bar.stop();
  }
  return applied;
}

export function registerMigrate(program: Command) {
  program
    .command("migrate")
    .description("apply pending database migrations, then exit")
    .option("--status", "list migrations and whether each is applied, change nothing")
    .action(async (opts: { status?: boolean }) => {
      const config = cliConfig();
      await withDatabase(config, async ({ db }) => {
        if (opts.status) {
          for (const m of await migrator(db).getMigrations()) {
            print(`${m.executedAt ? "applied" : "pending"}  ${m.name}`);
          }
          return;
        }
        const applied = await runMigrations(db);
        print(applied.length ? `applied ${applied.length} migration(s)` : "database is up to date");
      });
    });
}
