import { promises as fs } from "node:fs";
import path from "node:path";
import type { Kysely } from "kysely";
import { FileMigrationProvider, type MigrationResultSet, Migrator } from "kysely/migration";

// biome-ignore lint/suspicious/noExplicitAny: migrations run before (and against any version of) the app schema
type AnyKysely = Kysely<any>;

const MIGRATIONS_DIR = path.join(import.meta.dirname, "..", "migrations");

export function migrator(db: AnyKysely) {
  return new Migrator({
    db,
    provider: new FileMigrationProvider({ fs, path, migrationFolder: MIGRATIONS_DIR }),
    migrationTableName: "schema_migrations",
    migrationLockTableName: "schema_migrations_lock",
    // Domains are built on parallel branches, each with its own timestamp range: a database that already
    // has a later branch's migrations still takes an earlier-named one that lands after it. Migrations
    // only add their own domain's objects, so the order between branches does not matter.
    allowUnorderedMigrations: true,
  });
}

/** Applies every pending migration; throws with the failing migration's name. */
export async function migrateToLatest(db: AnyKysely): Promise<string[]> {
  const result: MigrationResultSet = await migrator(db).migrateToLatest();
  if (result.error) {
    const failed = result.results?.find((r) => r.status === "Error");
    const err = result.error instanceof Error ? result.error : new Error(String(result.error));
    throw new Error(`migration ${failed?.migrationName ?? "?"} failed: ${err.message}`, { cause: err });
  }
  return (result.results ?? []).filter((r) => r.status === "Success").map((r) => r.migrationName);
}

/** True when every migration on disk has been applied (readiness). */
export async function migrationsPending(db: AnyKysely): Promise<number> {
  const all = await migrator(db).getMigrations();
  return all.filter((m) => !m.executedAt).length;
}
