import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { alive } from "../lib/process.ts";

export const ROOT = path.resolve(import.meta.dirname, "..", "..", "..", "..");
const CLI = path.join(ROOT, "apps", "server", "src", "cli.ts");

export interface Spawned {
  child: ChildProcess;
  /** Everything the process wrote, stdout and stderr interleaved. */
  output(): string;
  /** Resolves with the exit code (or signal name). */
  exited: Promise<number | string>;
}

/**
 * Runs a real server the way an operator does: `node apps/server/src/cli.ts start` (or `npm start`, which
 * runs the same line through npm and a shell). Only loopback; the caller picks PORT and the data dir.
 */
export function spawnServer(env: Record<string, string>, opts: { viaNpm?: boolean } = {}): Spawned {
  const base: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: "info" };
  // `npm start` from the repo (npm on the PATH runs the script with the repo's Node); otherwise this Node.
  const child = opts.viaNpm
    ? spawn("npm", ["start", "--", "--no-build-web"], {
        cwd: ROOT,
        env: { ...base, HOST: "127.0.0.1", ...env },
      })
    : spawn(process.execPath, [CLI, "start", "--no-build-web"], {
        cwd: ROOT,
        env: { ...base, HOST: "127.0.0.1", ...env },
      });
  let out = "";
  child.stdout?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    out += c.toString();
  });
  const exited = new Promise<number | string>((resolve) =>
    child.once("exit", (code, signal) => resolve(code ?? signal ?? "?")),
  );
  return { child, output: () => out, exited };
}

/** Polls GET /readyz until it answers 200; bounded. Returns the milliseconds it took. */
export async function waitReady(port: number, ms = 60_000, child?: ChildProcess): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < ms) {
    if (child && child.exitCode !== null) throw new Error(`the server exited (${child.exitCode})`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return Date.now() - started;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no server ready on ${port} after ${ms} ms`);
}

/** The running postmaster of a cluster directory: pid and port from its postmaster.pid. */
export function postmasterOf(clusterDir: string): { pid: number; port: number } | null {
  try {
    const lines = readFileSync(path.join(clusterDir, "postmaster.pid"), "utf8").split("\n");
    return { pid: Number(lines[0]), port: Number(lines[3]) };
  } catch {
    return null;
  }
}

/** The pid the server logged itself with (pino's `pid` field on "Switchboard is ready"). */
export function serverPid(output: string): number | null {
  for (const line of output.split("\n")) {
    if (!line.includes("Switchboard is ready")) continue;
    try {
      return (JSON.parse(line) as { pid: number }).pid;
    } catch {}
  }
  return null;
}

/** Waits (bounded) until none of `pids` is alive; returns those still alive. */
export async function waitGone(pids: number[], ms: number): Promise<number[]> {
  const deadline = Date.now() + ms;
  let left = pids.filter(alive);
  while (left.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    left = left.filter(alive);
  }
  return left;
}

/** Stops what a test started, whatever state it is in: SIGTERM, then SIGKILL after `ms`. */
export async function stopSpawned(s: Spawned, ms = 20_000) {
  if (s.child.exitCode !== null || s.child.signalCode !== null) return;
  s.child.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const done = await Promise.race([
    s.exited.then(() => true),
    new Promise((r) => {
      timer = setTimeout(r, ms, false);
    }),
  ]);
  clearTimeout(timer);
  if (!done) s.child.kill("SIGKILL");
}
