import { readFile } from "node:fs/promises";
import type { PatchReport } from "@switchboard/shared";
import { type MissingUpdate, missingUpdates, realSys, rebootStatus, type Sys } from "./os-probes.ts";

// The device's patch status for the server's Patch section: missing updates (versions, security flag,
// rating), reboot pending, and when updates were last installed. Scanned every few hours by the check
// runner and carried by its next periodic summary.

/** The last `End-Date` of an apt run that installed or upgraded something, without an error. */
export function lastAptInstall(history: string): number | null {
  let last: number | null = null;
  for (const entry of history.split(/\n\s*\n/)) {
    if (!/^(Upgrade|Install):/m.test(entry) || /^Error:/m.test(entry)) continue;
    const m = entry.match(/^End-Date:\s*(\d{4}-\d{2}-\d{2})\s+(\d{2}:\d{2}:\d{2})/m);
    if (!m) continue;
    const at = Date.parse(`${m[1]}T${m[2]}`);
    if (Number.isFinite(at) && (last === null || at > last)) last = at;
  }
  return last;
}

/** `dnf history list`: `ID | Command | Date and time | Action(s) | Altered`, newest first. */
export function lastDnfInstall(out: string): number | null {
  for (const line of out.split("\n")) {
    const f = line.split("|").map((x) => x.trim());
    if (f.length < 4 || !/^\d+$/.test(f[0]!) || !/(Upgrade|Install|Update)/i.test(f[3]!)) continue;
    const at = Date.parse(f[2]!.replace(" ", "T"));
    if (Number.isFinite(at)) return at;
  }
  return null;
}

const WINDOWS_LAST_INSTALL =
  "$h = (New-Object -ComObject Microsoft.Update.Session).CreateUpdateSearcher();" +
  " $n = $h.GetTotalHistoryCount(); if ($n -gt 0) { @($h.QueryHistory(0, [Math]::Min($n, 200)) |" +
  " Where-Object { $_.Operation -eq 1 -and $_.ResultCode -eq 2 } | Select-Object -First 1 |" +
  " ForEach-Object { $_.Date.ToUniversalTime().ToString('o') }) }";

async function lastInstall(sys: Sys, aptHistory: string): Promise<number | null> {
  if (sys.platform === "win32") {
    const r = await sys.run(
      "powershell.exe",
      ["-NoProfile", "-NonInteractive", "-Command", WINDOWS_LAST_INSTALL],
      60_000,
    );
    const at = Date.parse(r.stdout.trim());
    return r.code === 0 && Number.isFinite(at) ? at : null;
  }
  try {
    return lastAptInstall(await readFile(aptHistory, "utf8"));
  } catch {
    const r = await sys.run("dnf", ["-q", "-C", "history", "list"], 30_000);
    return r.code === 0 ? lastDnfInstall(r.stdout) : null;
  }
}

/** The summary frame must stay well under the gateway's message limit: security updates first, then cut. */
export const PATCH_REPORT_MAX_BYTES = 512 * 1024;
export function fitted(updates: MissingUpdate[]): MissingUpdate[] {
  const sorted = [...updates].sort((a, b) => Number(b.security) - Number(a.security));
  const out: MissingUpdate[] = [];
  let bytes = 0;
  for (const u of sorted) {
    bytes += JSON.stringify(u).length + 40;
    if (out.length >= 2000 || bytes > PATCH_REPORT_MAX_BYTES) break;
    out.push(u);
  }
  return out;
}

const isoOrNull = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** One scan; a failure is reported with its reason (the server keeps the previous list). */
export async function scanPatches(
  sys: Sys = realSys,
  paths = { rebootMarker: "/var/run/reboot-required", aptHistory: "/var/log/apt/history.log" },
): Promise<PatchReport> {
  const collectedAt = new Date(sys.now()).toISOString();
  const reboot = await rebootStatus(sys, paths.rebootMarker).catch(() => null);
  const base = {
    rebootPending: reboot?.pending ?? false,
    rebootSince: reboot?.pending ? isoOrNull(reboot.since) : null,
    collectedAt,
  };
  try {
    const [status, installed] = await Promise.all([missingUpdates(sys), lastInstall(sys, paths.aptHistory)]);
    return {
      ...base,
      source: status.source,
      updates: fitted(status.updates).map((u) => ({
        name: u.name.slice(0, 500),
        current: u.current?.slice(0, 200),
        available: u.available?.slice(0, 200),
        security: u.security,
        severity: u.severity?.slice(0, 30),
        releasedAt: u.releasedAt !== undefined ? new Date(u.releasedAt).toISOString() : undefined,
      })),
      lastInstallAt: isoOrNull(installed),
    };
  } catch (err) {
    return {
      ...base,
      source: null,
      updates: [],
      lastInstallAt: null,
      error: (err as Error).message.slice(0, 1000),
    };
  }
}
