import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CheckResultsFrame, type PatchReport } from "@switchboard/shared";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { silentLog } from "../log.ts";
import type { RunResult, Sys } from "./os-probes.ts";
import { fitted, lastAptInstall, lastDnfInstall, PATCH_REPORT_MAX_BYTES, scanPatches } from "./patch.ts";
import { CheckRunner } from "./runner.ts";

// The patch status the agent reports: what it reads from the OS, and how it rides on the summary.

const dir = mkdtempSync(path.join(os.tmpdir(), "sb-patch-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const APT_HISTORY = `
Start-Date: 2025-11-02  06:25:01
Commandline: apt-get -y upgrade
Upgrade: libssl3:amd64 (3.0.11-1~deb12u1, 3.0.11-1~deb12u2)
End-Date: 2025-11-02  06:25:09

Start-Date: 2025-11-20  06:25:01
Commandline: apt-get -y upgrade
Upgrade: tzdata:amd64 (2024a-0+deb12u1, 2025b-0+deb12u1)
Error: Sub-process /usr/bin/dpkg returned an error code (1)
End-Date: 2025-11-20  06:25:04

Start-Date: 2025-11-21  09:00:00
Commandline: apt-get remove nano
Remove: nano:amd64 (7.2-1)
End-Date: 2025-11-21  09:00:02
`;

function fakeSys(platform: NodeJS.Platform, answers: Record<string, RunResult>): Sys {
  return {
    platform,
    now: () => Date.parse("2025-12-05T12:00:00Z"),
    run: async (cmd) => answers[cmd] ?? { code: -1, stdout: "", error: `spawn ${cmd} ENOENT` },
  };
}

describe("patch scan", () => {
  it("the last successful install from apt's and dnf's history", () => {
    // The failed run and the removal do not count.
    expect(lastAptInstall(APT_HISTORY)).toBe(Date.parse("2025-11-02T06:25:09"));
    expect(lastAptInstall("")).toBeNull();
    const dnf = `ID     | Command line             | Date and time    | Action(s)      | Altered
-------------------------------------------------------------------------------
    12 | remove nano              | 2025-11-21 09:00 | Removed        |    1
    11 | upgrade -y               | 2025-11-14 06:30 | Upgrade        |   23`;
    expect(lastDnfInstall(dnf)).toBe(Date.parse("2025-11-14T06:30"));
  });

  it("missing updates with versions and the security flag, reboot and history, valid for the frame", async () => {
    const history = path.join(dir, "history.log");
    writeFileSync(history, APT_HISTORY);
    const marker = path.join(dir, "reboot-required");
    writeFileSync(marker, "");
    const sys = fakeSys("linux", {
      "apt-get": {
        code: 0,
        stdout:
          "Inst libssl3 [3.0.11-1~deb12u2] (3.0.15-1~deb12u1 Debian-Security:12/stable-security [amd64])\n" +
          "Inst tzdata [2024a-0+deb12u1] (2025b-0+deb12u1 Debian:12.11/stable [all])\n",
      },
    });
    const report = await scanPatches(sys, { rebootMarker: marker, aptHistory: history });
    expect(report).toMatchObject({
      source: "apt",
      rebootPending: true,
      lastInstallAt: new Date(Date.parse("2025-11-02T06:25:09")).toISOString(),
      updates: [
        { name: "libssl3", current: "3.0.11-1~deb12u2", available: "3.0.15-1~deb12u1", security: true },
        { name: "tzdata", security: false },
      ],
    });
    expect(report.error).toBeUndefined();
    expect(
      CheckResultsFrame.safeParse({ type: "check.results", summary: true, results: [], patch: report })
        .success,
    ).toBe(true);
  });

  it("a failed scan says why, and still says whether a reboot is pending", async () => {
    const report = await scanPatches(fakeSys("linux", { "needs-restarting": { code: 1, stdout: "" } }), {
      rebootMarker: path.join(dir, "none"),
      aptHistory: path.join(dir, "none"),
    });
    expect(report).toMatchObject({ source: null, updates: [], rebootPending: true });
    expect(report.error).toMatch(/no package manager answered/);
  });
});

describe("report size", () => {
  it("keeps the report under the frame budget, security updates first", () => {
    const many = Array.from({ length: 5000 }, (_, i) => ({
      name: `package-with-a-long-name-${i}-${"x".repeat(150)}`,
      available: "1.0",
      security: i % 10 === 0,
    }));
    const kept = fitted(many);
    expect(kept.length).toBeLessThan(5000);
    expect(JSON.stringify(kept).length).toBeLessThanOrEqual(PATCH_REPORT_MAX_BYTES);
    expect(kept.slice(0, 500).every((u) => u.security)).toBe(true);
    expect(fitted(many.slice(0, 3))).toHaveLength(3);
  });
});

describe("the runner carries the scan on its next summary", () => {
  let runner: CheckRunner | null = null;
  afterEach(() => {
    runner?.stop();
    vi.useRealTimers();
  });

  it("once per scan, even with no checks, then nothing until the next scan", async () => {
    vi.useFakeTimers();
    const sent: Array<{ summary: boolean; results: unknown[]; patch?: PatchReport }> = [];
    let scans = 0;
    const report: PatchReport = {
      source: "apt",
      updates: [{ name: "openssl", security: true }],
      rebootPending: false,
      rebootSince: null,
      lastInstallAt: null,
      collectedAt: new Date().toISOString(),
    };
    runner = new CheckRunner({
      send: (f) => sent.push(f as (typeof sent)[number]),
      log: silentLog,
      patchScan: async () => {
        scans++;
        return report;
      },
      patchFirstMs: 1000,
      patchIntervalMs: 60_000,
    });
    runner.apply({
      v: 1,
      deviceId: randomUUID(),
      issuedAt: new Date().toISOString(),
      summarySeconds: 10,
      checks: [],
    });
    await vi.advanceTimersByTimeAsync(1000);
    expect(scans).toBe(1);
    await vi.advanceTimersByTimeAsync(9000);
    expect(sent).toEqual([{ type: "check.results", summary: true, results: [], patch: report }]);
    await vi.advanceTimersByTimeAsync(40_000);
    expect(sent).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(20_000);
    expect(scans).toBe(2);
    expect(sent).toHaveLength(2);
  });
});
