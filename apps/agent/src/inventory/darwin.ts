import os from "node:os";
import type { Inventory } from "@switchboard/shared";
import { clip, cpu, dfDisks, network, tryRun, whoUsers } from "./common.ts";

async function profiler(type: string): Promise<Record<string, unknown>[]> {
  const out = await tryRun("system_profiler", [type, "-json"], 120_000);
  if (!out) return [];
  try {
    return ((JSON.parse(out) as Record<string, unknown>)[type] as Record<string, unknown>[]) ?? [];
  } catch {
    return [];
  }
}

async function updates(): Promise<Inventory["updates"]> {
  const out = await tryRun("softwareupdate", ["-l"], 120_000);
  if (out === null) return null;
  const items = out
    .split("\n")
    .filter((l) => l.trim().startsWith("* Label:"))
    .map((l) => ({ name: clip(l.replace(/^\s*\* Label:\s*/, "")) }));
  return { source: "softwareupdate", count: items.length, items: items.slice(0, 2000) };
}

export async function collectDarwin(): Promise<Inventory> {
  const [version, hw, apps, disks, users, upd] = await Promise.all([
    tryRun("sw_vers", ["-productVersion"]),
    profiler("SPHardwareDataType"),
    profiler("SPApplicationsDataType"),
    dfDisks(),
    whoUsers(),
    updates(),
  ]);
  const h = hw[0] ?? {};
  return {
    hostname: clip(os.hostname(), 255),
    os: {
      platform: "darwin",
      name: "macOS",
      version: clip(version ?? os.release()),
      kernel: os.release(),
      arch: process.arch,
    },
    hardware: {
      manufacturer: "Apple",
      model: clip(String(h.machine_model ?? h.machine_name ?? "")) || undefined,
      serial: clip(String(h.serial_number ?? "")) || undefined,
    },
    cpu: cpu(),
    memory: { totalBytes: os.totalmem(), freeBytes: os.freemem() },
    disks,
    network: network(),
    users,
    uptimeSeconds: Math.floor(os.uptime()),
    software: apps.slice(0, 20_000).map((a) => ({
      name: clip(String(a._name ?? "")),
      version: clip(String(a.version ?? ""), 200),
      publisher: clip(String(a.obtained_from ?? "")) || undefined,
    })),
    updates: upd,
  };
}
