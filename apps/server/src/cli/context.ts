import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { sql } from "kysely";
import { type Config, ConfigError, loadConfig } from "../config.ts";
import { connectDatabase, type Database } from "../db/database.ts";
import { embeddedUrl } from "../db/embedded.ts";
import { openDatabase } from "../server.ts";

/** A failure the operator can act on: printed as one line, no stack, then exit with `exitCode`. */
export class CliError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.exitCode = exitCode;
  }
}

/** The configuration, or a CliError naming each bad variable on one line. */
export function cliConfig(env: NodeJS.ProcessEnv = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      const problems = err.message
        .split("\n")
        .slice(1)
        .map((l) => l.trim())
        .filter(Boolean);
      throw new CliError(`invalid configuration: ${problems.join("; ")}`, 2);
    }
    throw err;
  }
}

export interface CliDatabase {
  db: Database;
  url: string;
  /** How the database was reached, for status output. */
  mode: "external" | "embedded (running server)" | "embedded";
}

/**
 * The port of an embedded cluster that a running `switchboard start` owns, read from its
 * postmaster.pid (line 4). A second postmaster cannot open the same directory, so CLI commands
 * connect to the running one instead of starting their own.
 */
export function runningEmbeddedPort(dataDir: string): number | null {
  const pidFile = path.join(dataDir, "postgres", "postmaster.pid");
  if (!existsSync(pidFile)) return null;
  const lines = readFileSync(pidFile, "utf8").split("\n");
  const pid = Number.parseInt(lines[0] ?? "", 10);
  const port = Number.parseInt(lines[3] ?? "", 10);
  if (!Number.isFinite(pid) || !Number.isFinite(port)) return null;
  try {
    process.kill(pid, 0);
    return port;
  } catch {
    return null; // stale file left by a crash: postgres cleans it up on its next start
  }
}

export function describeConnectError(err: unknown, config: Config): string {
  const e = err as NodeJS.ErrnoException & { code?: string };
  const where = config.DATABASE_URL ? "DATABASE_URL" : `the embedded PostgreSQL in ${config.dataDir}`;
  if (e.code === "ECONNREFUSED") return `cannot reach the database (${where}): connection refused`;
  if (e.code === "ENOTFOUND") return `cannot reach the database (${where}): unknown host`;
  if (e.code === "28P01" || e.code === "28000") return `the database refused the credentials in ${where}`;
  if (e.code === "3D000") return `the database named in ${where} does not exist`;
  return `cannot open the database (${where}): ${String(e?.message ?? e).split("\n")[0]}`;
}

/**
 * Runs `fn` with a connection to the configured database: DATABASE_URL, the embedded cluster of a
 * running server, or the embedded cluster started (and stopped again) for this command alone.
 */
export async function withDatabase<T>(config: Config, fn: (cdb: CliDatabase) => Promise<T>): Promise<T> {
  if (!config.DATABASE_URL) {
    const port = runningEmbeddedPort(config.dataDir);
    if (port !== null) {
      const url = embeddedUrl(port);
      const handle = connectDatabase(url, { max: 4, applicationName: "switchboard-cli" });
      try {
        await ping(handle.db, config);
        return await fn({ db: handle.db, url, mode: "embedded (running server)" });
      } finally {
        await handle.close();
      }
    }
  }
  let database: Awaited<ReturnType<typeof openDatabase>>;
  try {
    database = await openDatabase({ ...config, DB_POOL_SIZE: 4 });
  } catch (err) {
    throw new CliError(describeConnectError(err, config));
  }
  try {
    await ping(database.db, config);
    return await fn({
      db: database.db,
      url: database.url,
      mode: database.embedded ? "embedded" : "external",
    });
  } finally {
    await database.close();
  }
}

async function ping(db: Database, config: Config) {
  try {
    await sql`select 1`.execute(db);
  } catch (err) {
    throw new CliError(describeConnectError(err, config));
  }
}

/** True until `switchboard migrate` (or a start) has created the tables. */
export async function schemaMissing(db: Database): Promise<boolean> {
  const { rows } = await sql<{ t: string | null }>`select to_regclass('public.tickets')::text as t`.execute(
    db,
  );
  return rows[0]?.t == null;
}

export async function requireSchema(db: Database) {
  if (await schemaMissing(db)) {
    throw new CliError("the database has no Switchboard tables yet: run `switchboard migrate` first");
  }
}

export const print = (line = "") => process.stdout.write(`${line}\n`);
