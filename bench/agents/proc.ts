import { readdirSync, readFileSync } from "node:fs";
import { loadavg } from "node:os";

/** Resident memory of a process, bytes (Linux /proc). */
export function rssBytes(pid: number): number {
  const m = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB/m);
  return m ? Number(m[1]) * 1024 : 0;
}

export { cpuSeconds } from "../lib/proc.ts";

/** The soft limit on open files of this process (the server and each fleet worker inherit it). */
export function openFileLimit(): number {
  const m = readFileSync("/proc/self/limits", "utf8").match(/^Max open files\s+(\d+)/m);
  return m ? Number(m[1]) : 1024;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The 1, 5 and 15 minute load averages: the machine is shared, so every run records them. */
export function loadAverage(): number[] {
  return loadavg().map((x) => Math.round(x * 100) / 100);
}

/** The local NATS server's process, to read its memory (null when it is not on this machine). */
export function natsServerPid(): number | null {
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readFileSync(`/proc/${d}/comm`, "utf8").trim() === "nats-server") return Number(d);
    } catch {}
  }
  return null;
}
