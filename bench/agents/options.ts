import path from "node:path";
import { openFileLimit } from "./proc.ts";

// Settings of the agents benchmark, from BENCH_* variables (see README.md).
export const ROOT = path.resolve(import.meta.dirname, "../..");
export const env = (k: string, d: number) => (process.env[k] ? Number(process.env[k]) : d);
export const REQUESTED = env("BENCH_AGENTS", 20_000);
// Every connection is a file descriptor in the server process: the hard limit caps one process.
export const FD_LIMIT = openFileLimit();
export const AGENTS = Math.min(REQUESTED, FD_LIMIT - 600);
export const HEARTBEAT_S = env("BENCH_HEARTBEAT_SECONDS", 30);
export const MISSED = env("BENCH_OFFLINE_AFTER_MISSED", 2);
export const WORKERS = env("BENCH_FLEET_WORKERS", 3);
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
export const PORT = env("BENCH_PORT", 18_480);
export const log = (msg: string) =>
  process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
