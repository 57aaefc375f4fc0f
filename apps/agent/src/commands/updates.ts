import { stat } from "node:fs/promises";
import type { InstallUpdatesCommand, UpdateInstallResult } from "@switchboard/shared";
import { type Output, runProcess } from "./process.ts";

// Installs the updates a technician approved, one package at a time, so each gets its own result: the
// installed version is read before and after (dpkg-query, rpm), which says what really happened whatever
// the package manager printed. Every program gets an argv array (never a shell), a time limit taken from
// what is left of the run's, and bounded output. Windows goes through the Windows Update Agent's COM API.

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
  error?: string;
}

export interface Exec {
  platform: NodeJS.Platform;
  run(
    cmd: string,
    args: string[],
    opts: { timeoutMs: number; env?: NodeJS.ProcessEnv; onOutput?: (o: Output) => void },
  ): Promise<Ran>;
  now(): number;
  exists(file: string): Promise<boolean>;
}

const KEEP = 64 * 1024;

export const realExec: Exec = {
  platform: process.platform,
  now: () => Date.now(),
  exists: (file) =>
    stat(file).then(
      () => true,
      () => false,
    ),
  async run(cmd, args, opts) {
    let stdout = "";
    let stderr = "";
    const r = await runProcess(cmd, args, {
      timeoutMs: opts.timeoutMs,
      outputLimitBytes: 1024 * 1024,
      env: opts.env,
      onOutput: (o) => {
        if (o.stream === "stdout") stdout = (stdout + o.data).slice(-KEEP);
        else stderr = (stderr + o.data).slice(-KEEP);
        opts.onOutput?.(o);
      },
    });
    return { code: r.exitCode, stdout, stderr, timedOut: r.timedOut, error: r.error };
  },
};

/**
 * A second check of what the protocol's schema allows: one argv element that cannot pass for an option
 * (it never starts with a dash), so no `--` is needed (apt-get's parser does not take one).
 */
const SAFE_NAME = /^[A-Za-z0-9][A-Za-z0-9+._~:-]{0,199}$/;
/** One package never holds the run longer than this, whatever the run's own limit. */
const PER_PACKAGE_MS = 30 * 60_000;
const QUERY_MS = 30_000;

export interface InstallOutcome {
  results: UpdateInstallResult[];
  rebootRequired: boolean;
  /** The run could not start at all (no such package manager here): every update is unattempted. */
  error?: string;
  timedOut: boolean;
}

/** The lines that say why (apt's `E:`, dnf's `Error:`), else the last lines of the output. */
export function failureReason(r: Ran): string {
  if (r.timedOut) return "did not finish within its time limit";
  if (r.error && r.code === null) return r.error;
  const lines = `${r.stderr}\n${r.stdout}`
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  const said = lines.filter((l) => /^(E:|Error|error:|Problem|No match)/.test(l));
  const text = (said.length ? said : lines.slice(-3)).join(" ").slice(0, 1500);
  return `exit code ${r.code}${text ? `: ${text}` : ""}`;
}

interface PackageTool {
  name: string;
  /** The installed version (with its state), or null when the package is not installed. */
  version(pkg: string, timeoutMs: number): Promise<string | null>;
  upgrade(pkg: string, timeoutMs: number, onOutput: (o: Output) => void): Promise<Ran>;
  rebootRequired(): Promise<boolean>;
  available(): Promise<string | null>;
}

function aptTool(x: Exec): PackageTool {
  const env = {
    ...process.env,
    DEBIAN_FRONTEND: "noninteractive",
    APT_LISTCHANGES_FRONTEND: "none",
    NEEDRESTART_MODE: "a",
  };
  return {
    name: "apt-get",
    async version(pkg, timeoutMs) {
      // ${Version} and ${Status} are dpkg-query's own format fields, not shell variables: no shell here.
      // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's format, passed literally
      const r = await x.run("dpkg-query", ["-W", "--showformat=${Version} ${Status}", pkg], {
        timeoutMs,
      });
      const out = r.stdout.trim();
      if (r.code !== 0 || !out.endsWith(" installed")) return null;
      return out.split(" ")[0] ?? null;
    },
    upgrade: (pkg, timeoutMs, onOutput) =>
      x.run(
        "apt-get",
        [
          "install",
          "--only-upgrade",
          "-y",
          "-q",
          "-o",
          "Dpkg::Options::=--force-confdef",
          "-o",
          "Dpkg::Options::=--force-confold",
          "-o",
          "DPkg::Lock::Timeout=120",
          pkg,
        ],
        { timeoutMs, env, onOutput },
      ),
    rebootRequired: () => x.exists("/var/run/reboot-required"),
    async available() {
      const r = await x.run("apt-get", ["--version"], { timeoutMs: QUERY_MS });
      return r.code === 0 ? null : `apt-get is not available on this device (${failureReason(r)})`;
    },
  };
}

function dnfTool(x: Exec): PackageTool {
  return {
    name: "dnf",
    async version(pkg, timeoutMs) {
      const r = await x.run("rpm", ["-q", "--qf", "%{EPOCH}:%{VERSION}-%{RELEASE}.%{ARCH}\\n", pkg], {
        timeoutMs,
      });
      if (r.code !== 0) return null;
      // Several lines when several versions are installed (kernels): the set is the version.
      return (
        r.stdout
          .trim()
          .split("\n")
          .map((l) => l.replace(/^\(none\):/, ""))
          .sort()
          .join(", ") || null
      );
    },
    upgrade: (pkg, timeoutMs, onOutput) =>
      x.run("dnf", ["-y", "-q", "upgrade", pkg], { timeoutMs, onOutput }),
    async rebootRequired() {
      // needs-restarting (dnf-utils) exits 1 when a reboot is needed.
      const r = await x.run("needs-restarting", ["-r"], { timeoutMs: QUERY_MS });
      return r.code === 1;
    },
    async available() {
      const r = await x.run("dnf", ["--version"], { timeoutMs: QUERY_MS });
      return r.code === 0 ? null : `dnf is not available on this device (${failureReason(r)})`;
    },
  };
}

async function installPackages(
  tool: PackageTool,
  x: Exec,
  packages: string[],
  deadline: number,
  onOutput: (o: Output) => void,
): Promise<InstallOutcome> {
  const results: UpdateInstallResult[] = [];
  let timedOut = false;
  for (const name of packages) {
    const left = deadline - x.now();
    if (left <= 1000) {
      timedOut = true;
      results.push({ name, status: "failed", error: "not attempted: the run's time limit was reached" });
      continue;
    }
    const from = await tool.version(name, Math.min(QUERY_MS, left));
    if (from === null) {
      results.push({ name, status: "not_applicable", error: "not installed on this device" });
      continue;
    }
    onOutput({ stream: "stdout", data: `== ${name} (installed: ${from})\n` });
    const r = await tool.upgrade(name, Math.min(PER_PACKAGE_MS, deadline - x.now()), onOutput);
    const to = await tool.version(name, QUERY_MS);
    let result: UpdateInstallResult;
    if (to !== null && to !== from && r.code === 0) result = { name, status: "installed", from, to };
    else if (to !== null && to !== from)
      result = { name, status: "failed", from, to, error: `changed to ${to} but ${failureReason(r)}` };
    else if (r.code === 0 && !r.timedOut)
      result = {
        name,
        status: "not_applicable",
        from,
        to: from,
        error: `${tool.name} installed nothing: ${from} is the newest version it offers`,
      };
    else result = { name, status: "failed", from, error: `${tool.name} ${failureReason(r)}` };
    results.push(result);
    onOutput({
      stream: "stdout",
      data: `== ${name}: ${result.status}${result.to && result.to !== from ? ` (${from} -> ${result.to})` : ""}${result.error ? ` — ${result.error}` : ""}\n`,
    });
  }
  return { results, rebootRequired: await tool.rebootRequired().catch(() => false), timedOut };
}

/**
 * The Windows Update Agent API (IUpdateSession): search what is not installed, keep the updates whose
 * KBArticleIDs were asked for, accept their EULAs, download, install, and print one JSON object with a
 * ResultCode per update (OperationResultCode: 2 succeeded, 3 succeeded with errors, 4 failed, 5 aborted)
 * and the installer's RebootRequired. The KB numbers passed the protocol's `KB\d+` check: digits only.
 */
export function windowsInstallScript(kbs: string[]): string {
  const ids = kbs.map((k) => `'${k.replace(/^KB/i, "").replace(/\D/g, "")}'`).join(",");
  return [
    "$ErrorActionPreference = 'Stop';",
    `$ids = @(${ids});`,
    "$session = New-Object -ComObject Microsoft.Update.Session;",
    // Single quotes only: a double quote in a -Command argument does not survive Windows' quoting intact.
    "$found = $session.CreateUpdateSearcher().Search('IsInstalled=0 and IsHidden=0 and Type=''Software''');",
    "$coll = New-Object -ComObject Microsoft.Update.UpdateColl; $kbOf = @();",
    "foreach ($u in $found.Updates) { $hit = @($u.KBArticleIDs | Where-Object { $ids -contains $_ }) | Select-Object -First 1;",
    "  if ($hit -and -not ($kbOf -contains $hit)) { if (-not $u.EulaAccepted) { $u.AcceptEula() }; [void]$coll.Add($u); $kbOf += $hit } }",
    "$out = @{ results = @(); rebootRequired = $false };",
    "if ($coll.Count -gt 0) {",
    "  $dl = $session.CreateUpdateDownloader(); $dl.Updates = $coll; [void]$dl.Download();",
    "  $inst = $session.CreateUpdateInstaller(); $inst.Updates = $coll; $res = $inst.Install();",
    "  $out.rebootRequired = [bool]$res.RebootRequired;",
    "  for ($i = 0; $i -lt $coll.Count; $i++) { $r = $res.GetUpdateResult($i);",
    "    $out.results += @{ kb = 'KB' + $kbOf[$i]; code = [int]$r.ResultCode; hresult = ('0x{0:X8}' -f $r.HResult); reboot = [bool]$r.RebootRequired } } }",
    "$out | ConvertTo-Json -Compress -Depth 4",
  ].join(" ");
}

/** The script's JSON to a result per KB asked for; one Windows Update did not offer is not applicable. */
export function parseWindowsInstall(
  kbs: string[],
  stdout: string,
): { results: UpdateInstallResult[]; rebootRequired: boolean } {
  const parsed = JSON.parse(stdout.trim() || "{}") as {
    results?: unknown;
    rebootRequired?: boolean;
  };
  const rows = (
    Array.isArray(parsed.results) ? parsed.results : parsed.results ? [parsed.results] : []
  ) as Array<{ kb: string; code: number; hresult: string }>;
  const byKb = new Map(rows.map((r) => [String(r.kb).toUpperCase(), r]));
  const results = kbs.map((kb): UpdateInstallResult => {
    const r = byKb.get(kb.toUpperCase());
    if (!r)
      return {
        name: kb,
        status: "not_applicable",
        error: "Windows Update does not offer it (installed already, superseded or hidden)",
      };
    if (r.code === 2) return { name: kb, status: "installed" };
    if (r.code === 3) return { name: kb, status: "installed", error: `succeeded with errors (${r.hresult})` };
    const what = r.code === 5 ? "aborted" : r.code === 4 ? "failed" : `result code ${r.code}`;
    return { name: kb, status: "failed", error: `Windows Update ${what} (HRESULT ${r.hresult})` };
  });
  return { results, rebootRequired: parsed.rebootRequired === true };
}

async function installWindows(
  x: Exec,
  kbs: string[],
  timeoutMs: number,
  onOutput: (o: Output) => void,
): Promise<InstallOutcome> {
  const r = await x.run(
    "powershell.exe",
    ["-NoProfile", "-NonInteractive", "-Command", windowsInstallScript(kbs)],
    { timeoutMs },
  );
  if (r.stderr) onOutput({ stream: "stderr", data: r.stderr });
  if (r.code !== 0 || r.timedOut) {
    const why = `Windows Update ${failureReason(r)}`;
    return {
      results: kbs.map((name) => ({ name, status: "failed", error: why })),
      rebootRequired: false,
      timedOut: r.timedOut,
    };
  }
  try {
    return { ...parseWindowsInstall(kbs, r.stdout), timedOut: false };
  } catch (err) {
    const why = `Windows Update's answer could not be read: ${(err as Error).message}`;
    return {
      results: kbs.map((name) => ({ name, status: "failed", error: why })),
      rebootRequired: false,
      timedOut: false,
    };
  }
}

/** The run: refuses (with the reason) what this OS cannot do, else a result per update asked for. */
export async function installUpdates(
  cmd: InstallUpdatesCommand,
  onOutput: (o: Output) => void,
  x: Exec = realExec,
): Promise<InstallOutcome> {
  const refuse = (error: string): InstallOutcome => ({
    results: [],
    rebootRequired: false,
    error,
    timedOut: false,
  });
  const bad = cmd.packages.find((p) => !SAFE_NAME.test(p));
  if (bad !== undefined) return refuse(`not a package name: ${JSON.stringify(bad.slice(0, 100))}`);
  const deadline = x.now() + cmd.timeoutSeconds * 1000;
  if (cmd.manager === "windows_update") {
    if (x.platform !== "win32") return refuse("Windows Update exists only on Windows");
    return installWindows(x, cmd.packages, cmd.timeoutSeconds * 1000, onOutput);
  }
  if (x.platform === "win32" || x.platform === "darwin")
    return refuse(`${cmd.manager} is not this device's package manager (${x.platform})`);
  const tool = cmd.manager === "apt" ? aptTool(x) : dnfTool(x);
  const missing = await tool.available();
  if (missing) return refuse(missing);
  return installPackages(tool, x, cmd.packages, deadline, onOutput);
}
