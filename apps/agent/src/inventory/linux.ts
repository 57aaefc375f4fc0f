import os from "node:os";
import type { Inventory } from "@switchboard/shared";
import { clip, cpu, dfDisks, network, tryRead, tryRun, whoUsers } from "./common.ts";

function osRelease(): { name: string; version: string } {
  const text = tryRead("/etc/os-release") ?? "";
  const field = (k: string) => text.match(new RegExp(`^${k}="?([^"\\n]*)"?$`, "m"))?.[1];
  return {
    name: clip(field("NAME") ?? "Linux"),
    version: clip(field("VERSION") ?? field("VERSION_ID") ?? os.release()),
  };
}

function memory(): Inventory["memory"] {
  const info = tryRead("/proc/meminfo") ?? "";
  const avail = info.match(/^MemAvailable:\s+(\d+) kB/m)?.[1];
  return { totalBytes: os.totalmem(), freeBytes: avail ? Number(avail) * 1024 : os.freemem() };
}

async function software(): Promise<Inventory["software"]> {
  const dpkg = await tryRun("dpkg-query", [
    "-W",
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query format string
    "-f=${db:Status-Abbrev}\t${Package}\t${Version}\t${Maintainer}\n",
  ]);
  if (dpkg !== null) {
    return dpkg
      .split("\n")
      .map((l) => l.split("\t"))
      .filter((f) => f.length >= 3 && f[0]!.startsWith("ii"))
      .slice(0, 20_000)
      .map((f) => ({ name: clip(f[1]), version: clip(f[2], 200), publisher: clip(f[3]) || undefined }));
  }
  const rpm = await tryRun("rpm", ["-qa", "--qf", "%{NAME}\t%{VERSION}-%{RELEASE}\t%{VENDOR}\n"]);
  if (rpm !== null) {
    return rpm
      .split("\n")
      .map((l) => l.split("\t"))
      .filter((f) => f.length >= 2 && f[0])
      .slice(0, 20_000)
      .map((f) => ({ name: clip(f[0]), version: clip(f[1], 200), publisher: clip(f[2]) || undefined }));
  }
  return [];
}

/** Pending updates from the package manager's cached lists: no network, no lock taken. */
async function updates(): Promise<Inventory["updates"]> {
  const apt = await tryRun("apt-get", ["-s", "-o", "Debug::NoLocking=1", "upgrade"], 60_000);
  if (apt !== null) {
    const items = apt
      .split("\n")
      .filter((l) => l.startsWith("Inst "))
      .map((l) => {
        const m = l.match(/^Inst (\S+)(?: \[[^\]]*\])? \((\S+)/);
        return { name: clip(m?.[1] ?? l.slice(5)), version: m?.[2] ? clip(m[2], 200) : undefined };
      });
    return { source: "apt", count: items.length, items: items.slice(0, 2000) };
  }
  // dnf exits 100 when updates are available.
  const dnf = await tryRun("dnf", ["-q", "-C", "check-update"], 60_000, [0, 100]);
  if (dnf !== null) {
    const items = dnf
      .split("\n")
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length === 3 && f[0]!.includes("."))
      .map((f) => ({ name: clip(f[0]), version: clip(f[1], 200) }));
    return { source: "dnf", count: items.length, items: items.slice(0, 2000) };
  }
  return null;
}

export async function collectLinux(): Promise<Inventory> {
  const rel = osRelease();
  const [disks, users, sw, upd] = await Promise.all([dfDisks(), whoUsers(), software(), updates()]);
  return {
    hostname: clip(os.hostname(), 255),
    os: { platform: "linux", name: rel.name, version: rel.version, kernel: os.release(), arch: process.arch },
    hardware: {
      manufacturer: clip(tryRead("/sys/class/dmi/id/sys_vendor")) || undefined,
      model: clip(tryRead("/sys/class/dmi/id/product_name")) || undefined,
      serial: clip(tryRead("/sys/class/dmi/id/product_serial")) || undefined,
    },
    cpu: cpu(),
    memory: memory(),
    disks,
    network: network(),
    users,
    uptimeSeconds: Math.floor(os.uptime()),
    software: sw,
    updates: upd,
  };
}
