import { execFile } from "node:child_process";
import { open, readdir, stat } from "node:fs/promises";
import path from "node:path";
import type { CheckConfig, CheckState } from "@switchboard/shared";
import type { Probe } from "./probes.ts";

// Checks that ask the operating system about its own upkeep: a pending reboot, missing updates, a log
// pattern, a backup's freshness. Every subprocess has a time limit and a bounded output; the OS tools are
// reached through `Sys` so tests can stand in for the ones this machine does not have.

type Config<K extends CheckConfig["kind"]> = Extract<CheckConfig, { kind: K }>;

export interface RunResult {
  /** Exit code; -1 when the tool could not be started or was killed at its time limit. */
  code: number;
  stdout: string;
  error?: string;
}

export interface Sys {
  platform: NodeJS.Platform;
  run(cmd: string, args: string[], timeoutMs: number): Promise<RunResult>;
  now(): number;
}

export const realSys: Sys = {
  platform: process.platform,
  now: () => Date.now(),
  run: (cmd, args, timeoutMs) =>
    new Promise((resolve) => {
      execFile(
        cmd,
        args,
        { timeout: timeoutMs, maxBuffer: 8 * 1024 * 1024, windowsHide: true, killSignal: "SIGKILL" },
        (err, stdout) => {
          const raw = (err as { code?: unknown } | null)?.code;
          const code = err ? (typeof raw === "number" ? raw : -1) : 0;
          const killed = err && (err as { killed?: boolean }).killed;
          resolve({
            code: killed ? -1 : code,
            stdout: String(stdout),
            error: killed ? `no answer within ${timeoutMs} ms` : code === -1 ? err?.message : undefined,
          });
        },
      );
    }),
};

const powershell = (sys: Sys, script: string, timeoutMs: number) =>
  sys.run("powershell.exe", ["-NoProfile", "-NonInteractive", "-Command", script], timeoutMs);

const hours = (ms: number) => Math.round((ms / 3_600_000) * 10) / 10;

// ---------------------------------------------------------------------------------------------- reboot

export interface RebootStatus {
  pending: boolean;
  /** When the need arose, where the OS says (Debian's marker file); else when this agent first saw it. */
  since: number | null;
  reason: string;
}

const WINDOWS_REBOOT = [
  "$k = @('HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\Component Based Servicing\\RebootPending',",
  "'HKLM:\\SOFTWARE\\Microsoft\\Windows\\CurrentVersion\\WindowsUpdate\\Auto Update\\RebootRequired');",
  "$p = @($k | Where-Object { Test-Path $_ }).Count -gt 0;",
  "$r = (Get-ItemProperty 'HKLM:\\SYSTEM\\CurrentControlSet\\Control\\Session Manager' -Name PendingFileRenameOperations -ErrorAction SilentlyContinue) -ne $null;",
  "if ($p) { 'updates' } elseif ($r) { 'file-rename' } else { 'none' }",
].join(" ");

let rebootFirstSeen: number | null = null;

/** Is a reboot pending: Debian's /var/run/reboot-required, RHEL's needs-restarting, Windows' registry. */
export async function rebootStatus(
  sys: Sys = realSys,
  markerFile = "/var/run/reboot-required",
): Promise<RebootStatus> {
  let pending = false;
  let since: number | null = null;
  let reason = "";
  if (sys.platform === "win32") {
    const r = await powershell(sys, WINDOWS_REBOOT, 30_000);
    if (r.code !== 0) throw new Error(`the registry could not be read: ${r.error ?? `exit code ${r.code}`}`);
    const said = r.stdout.trim();
    pending = said === "updates" || said === "file-rename";
    reason = said === "updates" ? "Windows Update" : "pending file renames";
  } else {
    try {
      const st = await stat(markerFile);
      pending = true;
      since = st.mtimeMs;
      reason = markerFile;
    } catch {
      // No marker: Debian and Ubuntu need no reboot; RHEL-likes answer through needs-restarting.
      const r = await sys.run("needs-restarting", ["-r"], 30_000);
      if (r.code === 1) {
        pending = true;
        reason = "needs-restarting";
      }
    }
  }
  if (!pending) rebootFirstSeen = null;
  else if (since === null) since = rebootFirstSeen ??= sys.now();
  return { pending, since, reason };
}

export async function rebootProbe(
  c: Config<"reboot">,
  sys: Sys = realSys,
  markerFile?: string,
): Promise<Probe> {
  let s: RebootStatus;
  try {
    s = await rebootStatus(sys, markerFile);
  } catch (err) {
    return { state: "unknown", output: (err as Error).message };
  }
  if (!s.pending) return { state: "ok", output: "no reboot pending", metrics: { reboot_pending: 0 } };
  const age = s.since === null ? 0 : sys.now() - s.since;
  const metrics = { reboot_pending: 1, reboot_pending_hours: hours(age) };
  const text = `a reboot is pending (${s.reason}) for ${hours(age)} h`;
  return age >= c.graceHours * 3_600_000
    ? { state: "critical", output: text, metrics }
    : { state: "ok", output: `${text}, within the ${c.graceHours} h grace`, metrics };
}

// --------------------------------------------------------------------------------------------- updates

export interface MissingUpdate {
  name: string;
  current?: string;
  available?: string;
  security: boolean;
  /** Severity where the OS says (dnf, Windows MSRC): critical, important, moderate, low. */
  severity?: string;
  /** Release date where the OS says (Windows), ms since the epoch. */
  releasedAt?: number;
}

export interface UpdatesStatus {
  source: "apt" | "dnf" | "windows_update";
  updates: MissingUpdate[];
}

/** `apt-get -s upgrade`: `Inst name [current] (available origin [arch])`; security from the origin. */
export function parseAptSimulation(out: string): MissingUpdate[] {
  const list: MissingUpdate[] = [];
  for (const line of out.split("\n")) {
    const m = line.match(/^Inst (\S+)(?: \[([^\]]*)\])? \((\S+) ([^[)]*)/);
    if (!m) continue;
    const origin = m[4]!;
    list.push({
      name: m[1]!,
      current: m[2] || undefined,
      available: m[3],
      security: /-security|Debian-Security|\bsecurity\b/i.test(origin),
    });
  }
  return list;
}

/** `dnf updateinfo list --available`: `ADVISORY  type[/Severity]  package-version.arch` per line. */
export function parseDnfUpdateinfo(out: string): MissingUpdate[] {
  const byName = new Map<string, MissingUpdate>();
  for (const line of out.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 3 || !/^[A-Z0-9]+-/i.test(f[0]!)) continue;
    const [type, severity] = f[1]!.split("/");
    const nevra = f[2]!;
    const m = nevra.match(/^(.+)-([^-]+-[^-]+)\.([^.]+)$/);
    const name = m ? m[1]! : nevra;
    const security = /^(sec|security)$/i.test(type ?? "") || /Sec\./.test(f[1]!);
    const prev = byName.get(name);
    const entry: MissingUpdate = {
      name,
      available: m?.[2],
      security: security || (prev?.security ?? false),
      severity: severity?.toLowerCase().replace(/\.$/, "") || prev?.severity,
    };
    byName.set(name, entry);
  }
  return [...byName.values()];
}

const WINDOWS_UPDATES = [
  "$s = New-Object -ComObject Microsoft.Update.Session;",
  "$r = $s.CreateUpdateSearcher().Search('IsInstalled=0 and IsHidden=0 and Type=''Software''');",
  "@($r.Updates | ForEach-Object { [pscustomobject]@{ name = $_.Title; severity = $_.MsrcSeverity;",
  "security = @($_.Categories | Where-Object { $_.Name -eq 'Security Updates' }).Count -gt 0;",
  "released = $_.LastDeploymentChangeTime.ToUniversalTime().ToString('o') } }) | ConvertTo-Json -Compress",
].join(" ");

export function parseWindowsUpdates(out: string): MissingUpdate[] {
  const text = out.trim();
  if (!text) return [];
  const parsed = JSON.parse(text) as unknown;
  const rows = (Array.isArray(parsed) ? parsed : [parsed]) as Array<Record<string, unknown>>;
  return rows.map((r) => {
    const released = typeof r.released === "string" ? Date.parse(r.released) : Number.NaN;
    return {
      name: String(r.name ?? "").slice(0, 500),
      security: r.security === true || (typeof r.severity === "string" && r.severity !== ""),
      severity: typeof r.severity === "string" && r.severity ? r.severity.toLowerCase() : undefined,
      releasedAt: Number.isFinite(released) ? released : undefined,
    };
  });
}

/** Missing updates from the package manager's cached lists: no network, no lock taken. */
export async function missingUpdates(sys: Sys = realSys): Promise<UpdatesStatus> {
  if (sys.platform === "win32") {
    const r = await powershell(sys, WINDOWS_UPDATES, 180_000);
    if (r.code !== 0) throw new Error(`Windows Update did not answer: ${r.error ?? `exit code ${r.code}`}`);
    return { source: "windows_update", updates: parseWindowsUpdates(r.stdout) };
  }
  const apt = await sys.run("apt-get", ["-s", "-o", "Debug::NoLocking=1", "upgrade"], 60_000);
  if (apt.code === 0) return { source: "apt", updates: parseAptSimulation(apt.stdout) };
  const dnf = await sys.run("dnf", ["-q", "-C", "updateinfo", "list", "--available"], 120_000);
  if (dnf.code === 0) return { source: "dnf", updates: parseDnfUpdateinfo(dnf.stdout) };
  throw new Error(
    `no package manager answered (apt-get: ${apt.error ?? `exit ${apt.code}`}; dnf: ${dnf.error ?? `exit ${dnf.code}`})`,
  );
}

/** When this agent first saw each update missing: the age where the OS gives no release date. */
const firstSeen = new Map<string, number>();

export function updatesVerdict(c: Config<"updates">, status: UpdatesStatus, now: number): Probe {
  const seen = new Set<string>();
  let oldestSecurity = 0;
  for (const u of status.updates) {
    const key = `${u.name}@${u.available ?? ""}`;
    seen.add(key);
    if (!firstSeen.has(key)) firstSeen.set(key, now);
    if (!u.security) continue;
    const since = u.releasedAt ?? firstSeen.get(key)!;
    oldestSecurity = Math.max(oldestSecurity, now - since);
  }
  for (const key of firstSeen.keys()) if (!seen.has(key)) firstSeen.delete(key);
  const security = status.updates.filter((u) => u.security).length;
  const total = status.updates.length;
  const ageDays = Math.floor(oldestSecurity / 86_400_000);
  const metrics = { updates_missing: total, security_missing: security, oldest_security_days: ageDays };
  const problems: string[] = [];
  let state: CheckState = "ok";
  if (security > c.maxSecurity) {
    state = "critical";
    problems.push(`${security} security updates missing (over ${c.maxSecurity})`);
  }
  if (c.maxAgeDays !== undefined && security > 0 && ageDays >= c.maxAgeDays) {
    state = "critical";
    problems.push(`the oldest missing security update is ${ageDays} days old`);
  }
  if (c.maxTotal !== undefined && total > c.maxTotal) {
    if (state === "ok") state = "warning";
    problems.push(`${total} updates missing (over ${c.maxTotal})`);
  }
  const names = status.updates
    .filter((u) => u.security)
    .slice(0, 10)
    .map((u) => u.name);
  const summary = `${total} updates missing, ${security} security (${status.source})`;
  return {
    state,
    output:
      (problems.length ? `${problems.join("; ")}. ${summary}` : summary) +
      (names.length ? `: ${names.join(", ")}${security > names.length ? ", ..." : ""}` : ""),
    metrics,
  };
}

export async function updatesProbe(c: Config<"updates">, sys: Sys = realSys): Promise<Probe> {
  try {
    return updatesVerdict(c, await missingUpdates(sys), sys.now());
  } catch (err) {
    return { state: "unknown", output: (err as Error).message.slice(0, 4000) };
  }
}

// ------------------------------------------------------------------------------------------------- log

/** Bytes a file check reads per run at most, and on its first run (the file's tail). */
const FILE_READ_LIMIT = 4 * 1024 * 1024;
const FILE_FIRST_TAIL = 256 * 1024;
/** Where each file check stopped reading, per check (two checks on one file each see every line). */
const fileOffsets = new Map<string, number>();

async function readNew(file: string, checkKey: string): Promise<string> {
  const fh = await open(file, "r");
  try {
    const size = (await fh.stat()).size;
    let from = fileOffsets.get(checkKey);
    // First run: the tail; a file shorter than where we were was rotated or truncated: from the start.
    if (from === undefined) from = Math.max(0, size - FILE_FIRST_TAIL);
    else if (from > size) from = 0;
    from = Math.max(from, size - FILE_READ_LIMIT);
    const buf = Buffer.alloc(size - from);
    if (buf.length) await fh.read(buf, 0, buf.length, from);
    fileOffsets.set(checkKey, size);
    return buf.toString("utf8");
  } finally {
    await fh.close();
  }
}

const psQuote = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Lines of the window (or, for a file, written since the previous run), newest last. */
async function logLines(c: Config<"log">, sys: Sys): Promise<string[]> {
  if (c.source === "file") return (await readNew(c.target!, JSON.stringify(c))).split("\n");
  if (c.source === "eventlog") {
    if (sys.platform !== "win32") throw new Error("the Windows event log exists only on Windows");
    const script =
      `Get-WinEvent -FilterHashtable @{ LogName = ${psQuote(c.target!)}; ` +
      `StartTime = (Get-Date).AddMinutes(-${c.windowMinutes}) } -MaxEvents 5000 -ErrorAction SilentlyContinue | ` +
      `ForEach-Object { ($_.Message -replace '\\r?\\n', ' ') }`;
    const r = await powershell(sys, script, 60_000);
    if (r.code !== 0) throw new Error(`Get-WinEvent failed: ${r.error ?? `exit code ${r.code}`}`);
    return r.stdout.split("\n");
  }
  const args = ["--no-pager", "-q", "-o", "cat", "--since", `-${c.windowMinutes}min`, "-n", "20000"];
  if (c.target) args.push("-u", c.target);
  const r = await sys.run("journalctl", args, 30_000);
  if (r.code !== 0) throw new Error(`journalctl failed: ${r.error ?? `exit code ${r.code}`}`);
  return r.stdout.split("\n");
}

/** Plain-text match without case: a pattern cannot hang the agent, however long the line. */
export async function logProbe(c: Config<"log">, sys: Sys = realSys): Promise<Probe> {
  let lines: string[];
  try {
    lines = await logLines(c, sys);
  } catch (err) {
    return { state: "unknown", output: `${c.target ?? "journal"}: ${(err as Error).message}`.slice(0, 4000) };
  }
  const needle = c.contains.toLowerCase();
  const hits = lines.filter((l) => l.toLowerCase().includes(needle));
  const where = c.source === "file" ? "since the last run" : `in the last ${c.windowMinutes} min`;
  const label = c.target ?? "the journal";
  const metrics = { log_matches: hits.length };
  if (hits.length <= c.maxMatches)
    return { state: "ok", output: `${label}: ${hits.length} lines with "${c.contains}" ${where}`, metrics };
  return {
    state: "critical",
    output:
      `${label}: ${hits.length} lines with "${c.contains}" ${where} (over ${c.maxMatches}); last: ${hits.at(-1)!.trim()}`.slice(
        0,
        4000,
      ),
    metrics,
  };
}

// ---------------------------------------------------------------------------------------------- backup

/** A backup's age: the file's modification time, or the newest entry directly inside a directory. */
export async function backupProbe(c: Config<"backup">, sys: Sys = realSys): Promise<Probe> {
  let newest: number;
  let what = c.path;
  try {
    const st = await stat(c.path);
    newest = st.mtimeMs;
    if (st.isDirectory()) {
      newest = 0;
      const entries = (await readdir(c.path)).slice(0, 10_000);
      for (const e of entries) {
        try {
          const m = (await stat(path.join(c.path, e))).mtimeMs;
          if (m > newest) {
            newest = m;
            what = path.join(c.path, e);
          }
        } catch {
          // removed meanwhile
        }
      }
      if (!newest) return { state: "critical", output: `${c.path}: no backup in the directory` };
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      state: "critical",
      output: code === "ENOENT" ? `${c.path}: no backup found` : `${c.path}: ${(err as Error).message}`,
    };
  }
  const age = hours(sys.now() - newest);
  const metrics = { backup_age_hours: age };
  return age > c.maxAgeHours
    ? { state: "critical", output: `${what} is ${age} h old (over ${c.maxAgeHours} h)`, metrics }
    : { state: "ok", output: `${what} is ${age} h old`, metrics };
}
