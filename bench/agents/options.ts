import path from "node:path";
import { openFileLimit } from "./proc.ts";

// Settings of the agents benchmark, from BENCH_* variables (see README.md).
export const ROOT = path.resolve(import.meta.dirname, "../..");
export const env = (k: string, d: number) => {
  const v = process.env[k];
  if (!v) return d;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${k}: expected a whole number >= 0, got "${v}"`);
  return n;
};
export const AGENTS = env("BENCH_AGENTS", 20_000);
// Every connection is a file descriptor in the gateway process holding it and in the fleet worker that
// opened it, and the hard open-file limit (20,000 in this container) is per process: the agents are
// spread over enough processes on both sides that none holds more than PER_PROCESS sockets.
export const FD_LIMIT = openFileLimit();
export const PER_PROCESS = Math.min(18_000, FD_LIMIT - 600);

function processes(name: string, minimum: number) {
  const needed = Math.max(minimum, Math.ceil(AGENTS / PER_PROCESS));
  const n = env(name, needed);
  if (n < 1) throw new Error(`${name}: expected at least 1`);
  if (Math.ceil(AGENTS / n) > PER_PROCESS) {
    throw new Error(
      `${name}=${n}: ${Math.ceil(AGENTS / n)} sockets per process exceeds ${PER_PROCESS} (open-file limit ${FD_LIMIT}); use at least ${needed}`,
    );
  }
  return n;
}
/** Gateway processes: the first runs `api,gateway` and takes the API calls, the others `gateway`. */
export const GATEWAYS = processes("BENCH_GATEWAYS", 1);
export const WORKERS = processes("BENCH_FLEET_WORKERS", 3);
// PostgreSQL's max_connections (100 here) is shared by every gateway process and other users.
export const DB_POOL_SIZE = env("BENCH_DB_POOL_SIZE", Math.max(4, Math.min(20, Math.floor(60 / GATEWAYS))));
export const NATS_URL = process.env.BENCH_NATS_URL ?? "nats://127.0.0.1:4222";
export const HEARTBEAT_S = env("BENCH_HEARTBEAT_SECONDS", 30);
export const MISSED = env("BENCH_OFFLINE_AFTER_MISSED", 2);
export const STEADY_S = env("BENCH_STEADY_SECONDS", 60);
export const COMMANDS = env("BENCH_COMMANDS", 500);
export const SILENT = env("BENCH_SILENT_AGENTS", 200);
export const RATE = env("BENCH_CONNECT_RATE", 1000);
export const ADDRESSES = Array.from({ length: 8 }, (_, i) => `127.0.0.${i + 2}`);
// The agent's own defaults (apps/agent/src/client.ts DEFAULT_BACKOFF).
export const BACKOFF = {
  baseMs: env("BENCH_BACKOFF_BASE_MS", 5000),
  maxMs: env("BENCH_BACKOFF_MAX_MS", 60_000),
  spreadMs: env("BENCH_RECONNECT_SPREAD_MS", 40_000),
};
export const STEPS = [...new Set([Math.round(AGENTS / 4), Math.round(AGENTS / 2), AGENTS])];
export const ADMIN_URL =
  process.env.BENCH_DATABASE_URL ??
  process.env.TEST_DATABASE_URL ??
  "postgres://postgres@127.0.0.1:5432/postgres";
/** Gateway i listens on PORT + i. */
export const PORT = env("BENCH_PORT", 18_480);
/** File name under bench/results. */
export const OUTPUT = process.env.BENCH_OUTPUT ?? "agents.json";
if (!/^[\w.-]+\.json$/.test(OUTPUT)) throw new Error(`BENCH_OUTPUT: expected a file name ending in .json`);
if (SILENT >= AGENTS) throw new Error(`BENCH_SILENT_AGENTS: must be below BENCH_AGENTS (${AGENTS})`);
export const log = (msg: string) =>
  process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
