// The processes the fleet connects to: GATEWAYS Switchboard servers sharing one database and NATS (the
// first runs `api,gateway` and takes the API calls, the others `gateway`), or as many bare ws servers for
// the baseline. Memory and CPU are summed over them.
import { type ChildProcess, fork, spawn } from "node:child_process";
import { tmpdir } from "node:os";
import path from "node:path";
import { DB_POOL_SIZE, GATEWAYS, HEARTBEAT_S, MISSED, NATS_URL, PORT, ROOT } from "./options.ts";
import { cpuSeconds, rssBytes, sleep } from "./proc.ts";

export const DATA_DIR = path.join(tmpdir(), `sb-bench-agents-${process.pid}`);

/** What a benchmark other than agents' adds to the servers (bench/monitoring). */
export interface ServerOptions {
  /** Extra environment for every server process (settings of config.ts). */
  env?: Record<string, string>;
  /** Also start one process with the `worker` role (on the port after the gateways'), kept apart. */
  worker?: boolean;
}

export class Gateways {
  readonly procs: ChildProcess[];
  readonly ports: number[];
  /** The `worker` process when asked for (not among procs: its CPU is counted apart). */
  worker: ChildProcess | null = null;

  constructor(procs: ChildProcess[], ports: number[]) {
    this.procs = procs;
    this.ports = ports;
  }

  get pids() {
    return this.procs.map((p) => p.pid!);
  }

  urls() {
    return this.ports.map((p) => `ws://127.0.0.1:${p}/agent/ws`);
  }

  /** Resident memory of each process, bytes. */
  rss() {
    return this.pids.map(rssBytes);
  }

  cpuSeconds() {
    return this.pids.reduce((sum, pid) => sum + cpuSeconds(pid), 0);
  }

  /** SIGTERM to every process at once (as a rolling-free deploy would), resolved when all have exited. */
  async stop() {
    await Promise.all(
      this.procs.map((p) =>
        p.exitCode !== null || p.signalCode !== null
          ? null
          : new Promise((r) => {
              p.once("exit", r);
              p.kill("SIGTERM");
            }),
      ),
    );
  }

  kill() {
    for (const p of [...this.procs, ...(this.worker ? [this.worker] : [])])
      if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  }
}

function spawnServer(url: string, i: number, opts: ServerOptions = {}, roles?: string) {
  // BENCH_SERVER_NODE_ARGS: extra node flags for the servers, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const extra = process.env.BENCH_SERVER_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  return spawn(process.execPath, [...extra, path.join(ROOT, "apps/server/src/main.ts")], {
    env: {
      ...process.env,
      DATABASE_URL: url,
      DB_POOL_SIZE: String(DB_POOL_SIZE),
      PORT: String(PORT + i),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      SWITCHBOARD_ROLES: roles ?? (i === 0 ? "api,gateway" : "gateway"),
      // One process needs no routing: the hub's map is enough, as in a single-process install.
      NATS_URL: GATEWAYS > 1 ? NATS_URL : "",
      // One data dir for all, as processes of one install share it (blobs, the mailbox key).
      SWITCHBOARD_DATA_DIR: DATA_DIR,
      AGENT_HEARTBEAT_SECONDS: String(HEARTBEAT_S),
      AGENT_OFFLINE_AFTER_MISSED: String(MISSED),
      // Eight loopback addresses stand in for thousands of sites: the per-address limit does not apply.
      AGENT_CONNECTS_PER_ADDRESS_PER_MINUTE: "100000000",
      ...opts.env,
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
}

async function ready(port: number, child: ChildProcess) {
  for (let i = 0; i < 900; i++) {
    if (child.exitCode !== null) throw new Error(`gateway on port ${port} exited with ${child.exitCode}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return;
    } catch {}
    await sleep(100);
  }
  throw new Error(`gateway on port ${port} did not become ready in 90 s`);
}

/** Starts every Switchboard gateway process and resolves when each answers /readyz. */
export async function startSwitchboard(url: string, opts: ServerOptions = {}) {
  const procs = Array.from({ length: GATEWAYS }, (_, i) => spawnServer(url, i, opts));
  const ports = procs.map((_, i) => PORT + i);
  const g = new Gateways(procs, ports);
  try {
    await Promise.all(procs.map((p, i) => ready(ports[i]!, p)));
    // After the gateways: three processes setting up the job queue's schema at once on a fresh database
    // collide ("tuple concurrently updated").
    if (opts.worker) {
      g.worker = spawnServer(url, GATEWAYS, opts, "worker");
      await ready(PORT + GATEWAYS, g.worker);
    }
  } catch (err) {
    g.kill();
    throw err;
  }
  return g;
}

/** GATEWAYS bare ws servers (bare-server.ts) on free ports. */
export async function startBare() {
  const procs = Array.from({ length: GATEWAYS }, () =>
    fork(path.join(import.meta.dirname, "bare-server.ts"), [], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    }),
  );
  const ports = await Promise.all(
    procs.map(
      (p) => new Promise<number>((resolve) => p.once("message", (m: { port: number }) => resolve(m.port))),
    ),
  );
  return new Gateways(procs, ports);
}
