import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import os from "node:os";
import type { Inventory } from "@switchboard/shared";

/** stdout of a program, or null when it is missing, fails or takes too long: inventory is best effort. */
export function tryRun(
  cmd: string,
  args: string[],
  timeoutMs = 30_000,
  okCodes = [0],
): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024, windowsHide: true },
      (err, stdout) => {
        const code = err ? (err as { code?: unknown }).code : 0;
        resolve(typeof code === "number" && okCodes.includes(code) ? String(stdout) : null);
      },
    );
  });
}

export function tryRead(file: string): string | null {
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return null;
  }
}

export function cpu(): Inventory["cpu"] {
  const cpus = os.cpus();
  return {
    model: (cpus[0]?.model ?? "unknown").trim().slice(0, 300),
    cores: cpus.length,
    speedMhz: cpus[0]?.speed ?? 0,
  };
}

export function network(): Inventory["network"] {
  return Object.entries(os.networkInterfaces())
    .filter(([, addrs]) => addrs?.length)
    .slice(0, 128)
    .map(([name, addrs]) => ({
      name,
      mac: addrs?.[0]?.mac ?? "",
      addresses: (addrs ?? []).slice(0, 64).map((a) => ({
        address: a.address,
        family: a.family === "IPv6" ? ("IPv6" as const) : ("IPv4" as const),
        cidr: a.cidr,
      })),
    }));
}

export const clip = (s: string | null | undefined, max = 300) => (s ?? "").trim().slice(0, max);

/** Logged-in users from `who` (POSIX). */
export async function whoUsers(): Promise<string[]> {
  const out = await tryRun("who", [], 5000);
  if (!out) return [];
  return [
    ...new Set(
      out
        .split("\n")
        .map((l) => l.split(/\s+/)[0] ?? "")
        .filter(Boolean),
    ),
  ].slice(0, 200);
}

/** Filesystems from `df` in POSIX output (KiB blocks), skipping pseudo filesystems. */
export async function dfDisks(): Promise<Inventory["disks"]> {
  const out = await tryRun("df", ["-kP"], 10_000);
  if (!out) return [];
  return out
    .split("\n")
    .slice(1)
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 6 && f[0]!.startsWith("/"))
    .slice(0, 256)
    .map((f) => ({
      mount: clip(f.slice(5).join(" "), 500),
      totalBytes: Number(f[1]) * 1024,
      freeBytes: Number(f[3]) * 1024,
    }));
}
