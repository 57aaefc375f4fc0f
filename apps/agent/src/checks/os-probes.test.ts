import { appendFileSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CheckConfig } from "@switchboard/shared";
import { afterAll, describe, expect, it } from "vitest";
import {
  backupProbe,
  logProbe,
  missingUpdates,
  parseAptSimulation,
  parseDnfUpdateinfo,
  parseWindowsUpdates,
  type RunResult,
  realSys,
  rebootProbe,
  type Sys,
  updatesProbe,
} from "./os-probes.ts";

// The OS-upkeep checks: against this Debian machine's own apt and journald where they exist, and fakes
// standing in for tools it does not have (dnf, needs-restarting, PowerShell).

const dir = mkdtempSync(path.join(os.tmpdir(), "sb-os-probes-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HOUR = 3_600_000;
function fakeSys(platform: NodeJS.Platform, answers: Record<string, RunResult>, now = Date.now()) {
  const calls: Array<{ cmd: string; args: string[]; timeoutMs: number }> = [];
  const sys: Sys = {
    platform,
    now: () => now,
    run: async (cmd, args, timeoutMs) => {
      calls.push({ cmd, args, timeoutMs });
      return answers[cmd] ?? { code: -1, stdout: "", error: `spawn ${cmd} ENOENT` };
    },
  };
  return { sys, calls };
}
const cfg = <T extends CheckConfig["kind"]>(c: { kind: T } & Record<string, unknown>) =>
  CheckConfig.parse(c) as Extract<CheckConfig, { kind: T }>;

const APT = `NOTE: This is only a simulation!
Reading package lists...
Inst libssl3 [3.0.11-1~deb12u1] (3.0.15-1~deb12u1 Debian-Security:12/stable-security [amd64])
Inst tzdata [2024a-0+deb12u1] (2025b-0+deb12u1 Debian:12.11/stable [all])
Inst openssl [3.0.11-1~deb12u1] (3.0.15-1~deb12u1 Debian-Security:12/stable-security [amd64]) []
Conf libssl3 (3.0.15-1~deb12u1 Debian-Security:12/stable-security [amd64])
`;

describe("updates", () => {
  it("parses apt's simulation: versions and the security origin", () => {
    expect(parseAptSimulation(APT)).toEqual([
      { name: "libssl3", current: "3.0.11-1~deb12u1", available: "3.0.15-1~deb12u1", security: true },
      { name: "tzdata", current: "2024a-0+deb12u1", available: "2025b-0+deb12u1", security: false },
      { name: "openssl", current: "3.0.11-1~deb12u1", available: "3.0.15-1~deb12u1", security: true },
    ]);
  });

  it("parses dnf updateinfo with severities, one entry per package", () => {
    const out = `FEDORA-2025-1a2b3c  Important/Sec.  openssl-libs-1:3.2.4-1.fc41.x86_64
FEDORA-2025-1a2b3c  Important/Sec.  openssl-libs-1:3.2.4-1.fc41.i686
FEDORA-2025-ffee00  bugfix          tzdata-2025b-1.fc41.noarch
RHSA-2025:1234      security/Critical  kernel-5.14.0-503.el9.x86_64`;
    const list = parseDnfUpdateinfo(out);
    expect(list).toHaveLength(3);
    expect(list.find((u) => u.name === "openssl-libs")).toMatchObject({ security: true });
    expect(list.find((u) => u.name === "tzdata")).toMatchObject({ security: false });
    expect(list.find((u) => u.name === "kernel")).toMatchObject({ security: true, severity: "critical" });
  });

  it("parses Windows Update's answer, one update or many", () => {
    const one = parseWindowsUpdates(
      '{"name":"2025-11 Cumulative Update","severity":"Critical","security":true,"released":"2025-11-11T18:00:00.0000000Z"}',
    );
    expect(one).toEqual([
      {
        name: "2025-11 Cumulative Update",
        security: true,
        severity: "critical",
        releasedAt: Date.parse("2025-11-11T18:00:00Z"),
      },
    ]);
    const many = parseWindowsUpdates(
      '[{"name":"Defender","severity":null,"security":false,"released":null},{"name":"B","severity":"Important","security":false}]',
    );
    expect(many.map((u) => u.security)).toEqual([false, true]);
    expect(parseWindowsUpdates("")).toEqual([]);
  });

  it("thresholds: security count critical, total warning, age from the release date", async () => {
    const now = Date.parse("2025-12-05T00:00:00Z");
    const win = fakeSys(
      "win32",
      {
        "powershell.exe": {
          code: 0,
          stdout: JSON.stringify([
            { name: "KB1", severity: "Critical", security: true, released: "2025-11-01T00:00:00Z" },
            { name: "KB2", severity: null, security: false, released: "2025-12-01T00:00:00Z" },
          ]),
        },
      },
      now,
    );
    const critical = await updatesProbe(cfg({ kind: "updates", maxSecurity: 0 }), win.sys);
    expect(critical).toMatchObject({
      state: "critical",
      metrics: { updates_missing: 2, security_missing: 1, oldest_security_days: 34 },
    });
    expect(critical.output).toContain("KB1");
    expect(win.calls[0]!.timeoutMs).toBeLessThanOrEqual(180_000);
    const aged = await updatesProbe(cfg({ kind: "updates", maxSecurity: 5, maxAgeDays: 30 }), win.sys);
    expect(aged).toMatchObject({ state: "critical", output: expect.stringContaining("34 days old") });
    const fresh = await updatesProbe(cfg({ kind: "updates", maxSecurity: 5, maxAgeDays: 60 }), win.sys);
    expect(fresh.state).toBe("ok");
    const many = await updatesProbe(cfg({ kind: "updates", maxSecurity: 5, maxTotal: 1 }), win.sys);
    expect(many).toMatchObject({
      state: "warning",
      output: expect.stringContaining("2 updates missing (over 1)"),
    });
  });

  it("falls back from apt to dnf, and is unknown with both reasons when neither answers", async () => {
    const dnf = fakeSys("linux", {
      "apt-get": { code: -1, stdout: "", error: "spawn apt-get ENOENT" },
      dnf: { code: 0, stdout: "RHSA-2025:1  Important/Sec.  curl-8.5.0-1.el9.x86_64\n" },
    });
    expect(await missingUpdates(dnf.sys)).toMatchObject({
      source: "dnf",
      updates: [{ name: "curl", security: true }],
    });
    expect(dnf.calls.map((c) => c.args.join(" "))).toContain("-q -C updateinfo list --available");
    const none = fakeSys("linux", {});
    const p = await updatesProbe(cfg({ kind: "updates" }), none.sys);
    expect(p.state).toBe("unknown");
    expect(p.output).toMatch(/apt-get: spawn apt-get ENOENT; dnf: spawn dnf ENOENT/);
  });

  it("runs against this machine's apt", async () => {
    const p = await updatesProbe(cfg({ kind: "updates", maxSecurity: 10_000 }));
    expect(p.state, p.output).toBe("ok");
    expect(p.output).toMatch(/updates missing, \d+ security \(apt\)/);
    expect(p.metrics?.updates_missing).toBeGreaterThanOrEqual(0);
  }, 70_000);
});

describe("reboot", () => {
  it("Debian's marker: critical once older than the grace, ok within it", async () => {
    const marker = path.join(dir, "reboot-required");
    writeFileSync(marker, "*** System restart required ***\n");
    const fiveHoursAgo = (Date.now() - 5 * HOUR) / 1000;
    utimesSync(marker, fiveHoursAgo, fiveHoursAgo);
    const sys = fakeSys("linux", {}).sys;
    expect(await rebootProbe(cfg({ kind: "reboot" }), sys, marker)).toMatchObject({
      state: "critical",
      metrics: { reboot_pending: 1, reboot_pending_hours: 5 },
    });
    expect(await rebootProbe(cfg({ kind: "reboot", graceHours: 24 }), sys, marker)).toMatchObject({
      state: "ok",
      output: expect.stringContaining("within the 24 h grace"),
    });
    rmSync(marker);
    expect(await rebootProbe(cfg({ kind: "reboot" }), sys, marker)).toMatchObject({
      state: "ok",
      metrics: { reboot_pending: 0 },
    });
  });

  it("RHEL's needs-restarting and Windows' registry", async () => {
    const marker = path.join(dir, "absent");
    const rhel = fakeSys("linux", { "needs-restarting": { code: 1, stdout: "Reboot is required" } });
    expect((await rebootProbe(cfg({ kind: "reboot" }), rhel.sys, marker)).state).toBe("critical");
    const win = fakeSys("win32", { "powershell.exe": { code: 0, stdout: "updates\r\n" } });
    expect(await rebootProbe(cfg({ kind: "reboot" }), win.sys)).toMatchObject({
      state: "critical",
      output: expect.stringContaining("Windows Update"),
    });
    expect(win.calls[0]!.args.join(" ")).toContain("RebootRequired");
    const clean = fakeSys("win32", { "powershell.exe": { code: 0, stdout: "none\r\n" } });
    expect((await rebootProbe(cfg({ kind: "reboot" }), clean.sys)).state).toBe("ok");
    const broken = fakeSys("win32", {
      "powershell.exe": { code: -1, stdout: "", error: "no answer within 30000 ms" },
    });
    expect(await rebootProbe(cfg({ kind: "reboot" }), broken.sys)).toMatchObject({
      state: "unknown",
      output: expect.stringContaining("no answer within"),
    });
  });
});

describe("log", () => {
  it("a file: its tail first, then only what was written since the previous run", async () => {
    const file = path.join(dir, "app.log");
    writeFileSync(file, "start\nERROR disk full\nok\n");
    const c = cfg({ kind: "log", source: "file", target: file, contains: "error disk" });
    expect(await logProbe(c)).toMatchObject({
      state: "critical",
      metrics: { log_matches: 1 },
      output: expect.stringContaining("last: ERROR disk full"),
    });
    expect(await logProbe(c)).toMatchObject({ state: "ok", metrics: { log_matches: 0 } });
    appendFileSync(file, "Error Disk again\n");
    expect((await logProbe(c)).metrics).toEqual({ log_matches: 1 });
    writeFileSync(file, "error disk after rotation\n");
    expect((await logProbe(c)).metrics).toEqual({ log_matches: 1 });
    const tolerant = cfg({ kind: "log", source: "file", target: file, contains: "error", maxMatches: 5 });
    expect((await logProbe(tolerant)).state).toBe("ok");
    // Another check on the same file reads on its own: both see the next line.
    appendFileSync(file, "error disk once more\n");
    expect((await logProbe(c)).metrics).toEqual({ log_matches: 1 });
    expect((await logProbe(tolerant)).metrics).toEqual({ log_matches: 1 });
  });

  it("plain text: a pattern-looking needle matches literally, and a huge line does not hang", async () => {
    const file = path.join(dir, "big.log");
    writeFileSync(file, `${"a".repeat(200_000)}\n(a+)+$ literal\n`);
    const started = performance.now();
    const p = await logProbe(cfg({ kind: "log", source: "file", target: file, contains: "(a+)+$" }));
    expect(p.metrics).toEqual({ log_matches: 1 });
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it("journald through journalctl, bounded; the event log through Get-WinEvent", async () => {
    const j = fakeSys("linux", { journalctl: { code: 0, stdout: "sshd: Failed password for root\nok\n" } });
    const p = await logProbe(
      cfg({ kind: "log", source: "journal", target: "ssh.service", contains: "failed password" }),
      j.sys,
    );
    expect(p.state).toBe("critical");
    expect(j.calls[0]).toMatchObject({ cmd: "journalctl", timeoutMs: 30_000 });
    expect(j.calls[0]!.args).toEqual(expect.arrayContaining(["--since", "-15min", "-u", "ssh.service"]));
    const w = fakeSys("win32", {
      "powershell.exe": { code: 0, stdout: "The service terminated unexpectedly.\r\n" },
    });
    const e = await logProbe(
      cfg({
        kind: "log",
        source: "eventlog",
        target: "System",
        contains: "terminated unexpectedly",
        windowMinutes: 60,
      }),
      w.sys,
    );
    expect(e.state).toBe("critical");
    expect(w.calls[0]!.args.at(-1)).toContain("LogName = 'System'; StartTime = (Get-Date).AddMinutes(-60)");
    const failed = fakeSys("linux", { journalctl: { code: 1, stdout: "" } });
    expect((await logProbe(cfg({ kind: "log", source: "journal", contains: "x" }), failed.sys)).state).toBe(
      "unknown",
    );
  });

  it("runs against this machine's journald (or says why not)", async () => {
    const p = await logProbe(
      cfg({ kind: "log", source: "journal", contains: "zz-no-such-text-zz" }),
      realSys,
    );
    expect(["ok", "unknown"]).toContain(p.state);
    if (p.state === "ok") expect(p.metrics).toEqual({ log_matches: 0 });
    else expect(p.output).toMatch(/journalctl/);
  }, 40_000);
});

describe("backup", () => {
  it("a file's age against the threshold; a directory's newest entry; a missing one is critical", async () => {
    const file = path.join(dir, "nightly.tar");
    writeFileSync(file, "x");
    const old = (Date.now() - 30 * HOUR) / 1000;
    utimesSync(file, old, old);
    expect(await backupProbe(cfg({ kind: "backup", path: file, maxAgeHours: 26 }))).toMatchObject({
      state: "critical",
      metrics: { backup_age_hours: 30 },
    });
    expect((await backupProbe(cfg({ kind: "backup", path: file, maxAgeHours: 48 }))).state).toBe("ok");
    const backups = path.join(dir, "backups");
    rmSync(backups, { recursive: true, force: true });
    const { mkdirSync } = await import("node:fs");
    mkdirSync(backups);
    expect((await backupProbe(cfg({ kind: "backup", path: backups, maxAgeHours: 26 }))).output).toContain(
      "no backup in the directory",
    );
    writeFileSync(path.join(backups, "old.bak"), "x");
    utimesSync(path.join(backups, "old.bak"), old, old);
    writeFileSync(path.join(backups, "new.bak"), "x");
    expect(await backupProbe(cfg({ kind: "backup", path: backups, maxAgeHours: 26 }))).toMatchObject({
      state: "ok",
      output: expect.stringContaining("new.bak"),
    });
    expect(
      await backupProbe(cfg({ kind: "backup", path: path.join(dir, "none"), maxAgeHours: 1 })),
    ).toMatchObject({
      state: "critical",
      output: expect.stringContaining("no backup found"),
    });
  });
});

describe("validation", () => {
  it("refuses targets with shell syntax, a file check without an absolute path, an eventlog without a log", () => {
    const bad = (c: object) => CheckConfig.safeParse(c).error?.issues[0]?.path.join(".");
    expect(bad({ kind: "log", source: "eventlog", contains: "x" })).toBe("target");
    expect(bad({ kind: "log", source: "file", target: "relative.log", contains: "x" })).toBe("target");
    expect(bad({ kind: "log", source: "eventlog", target: "System'; Remove-Item", contains: "x" })).toBe(
      "target",
    );
    expect(bad({ kind: "backup", path: "/srv/$(reboot)", maxAgeHours: 1 })).toBe("path");
    expect(bad({ kind: "updates", maxSecurity: -1 })).toBe("maxSecurity");
    expect(bad({ kind: "log", source: "journal", contains: "" })).toBe("contains");
    expect(CheckConfig.parse({ kind: "log", source: "journal", contains: "oom" })).toMatchObject({
      maxMatches: 0,
      windowMinutes: 15,
    });
    expect(CheckConfig.parse({ kind: "reboot" })).toEqual({ kind: "reboot", graceHours: 0 });
  });
});
