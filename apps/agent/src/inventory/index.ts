import { createHash } from "node:crypto";
import os from "node:os";
import { INVENTORY_SECTIONS, type Inventory } from "@switchboard/shared";
import { clip, cpu, dfDisks, network, whoUsers } from "./common.ts";
import { collectDarwin } from "./darwin.ts";
import { collectLinux } from "./linux.ts";
import { collectWindows } from "./windows.ts";

export async function collectInventory(): Promise<Inventory> {
  if (process.platform === "linux") return collectLinux();
  if (process.platform === "win32") return collectWindows();
  if (process.platform === "darwin") return collectDarwin();
  return {
    hostname: clip(os.hostname(), 255),
    os: { platform: "other", name: os.type(), version: os.release(), arch: process.arch },
    hardware: {},
    cpu: cpu(),
    memory: { totalBytes: os.totalmem(), freeBytes: os.freemem() },
    disks: await dfDisks(),
    network: network(),
    users: await whoUsers(),
    uptimeSeconds: Math.floor(os.uptime()),
    software: [],
    updates: null,
  };
}

const sectionHash = (v: unknown) => createHash("sha256").update(JSON.stringify(v)).digest("base64url");

/** Hash over the sections in a fixed order, so the same inventory always hashes the same. */
export function inventoryHash(inv: Inventory): string {
  return sectionHash(INVENTORY_SECTIONS.map((k) => sectionHash(inv[k])));
}

/** The sections that differ, whole. */
export function inventoryChanges(before: Inventory, after: Inventory): Partial<Inventory> {
  const changes: Record<string, unknown> = {};
  for (const k of INVENTORY_SECTIONS) {
    if (sectionHash(before[k]) !== sectionHash(after[k])) changes[k] = after[k];
  }
  return changes as Partial<Inventory>;
}
