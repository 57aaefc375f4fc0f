import { InstallUpdatesCommand } from "@switchboard/shared";
import { describe, expect, it } from "vitest";
import { type Exec, installUpdates, parseWindowsInstall, type Ran, windowsInstallScript } from "./updates.ts";

// The dnf and Windows Update paths and the refusals, with the OS tools stood in for (this machine has
// neither dnf nor Windows): what each is asked, in which order, and how its answers become results.
// The apt path runs in the real agent executable against stand-in tools in
// apps/server/src/domains/monitoring/agent-patch-install.test.ts.

const ok = (stdout = ""): Ran => ({ code: 0, stdout, stderr: "", timedOut: false });
const fail = (code: number, stderr: string): Ran => ({ code, stdout: "", stderr, timedOut: false });

function fakeExec(platform: NodeJS.Platform, answer: (cmd: string, args: string[]) => Ran) {
  const calls: string[][] = [];
  const exec: Exec = {
    platform,
    now: () => Date.now(),
    exists: async () => false,
    run: async (cmd, args) => {
      calls.push([cmd, ...args]);
      return answer(cmd, args);
    },
  };
  return { exec, calls };
}

const command = (manager: string, packages: string[]) =>
  InstallUpdatesCommand.parse({ kind: "updates.install", manager, packages });

describe("update installs", () => {
  it("dnf: upgrades one package at a time and compares rpm -q before and after", async () => {
    const installed: Record<string, string> = {
      bash: "(none):5.1.8-6.el9.x86_64",
      "kernel-core": "(none):5.14.0-1.el9.x86_64",
    };
    const { exec, calls } = fakeExec("linux", (cmd, args) => {
      const pkg = args.at(-1)!;
      if (cmd === "dnf" && args[0] === "--version") return ok("4.14.0");
      if (cmd === "rpm")
        return installed[pkg] ? ok(`${installed[pkg]}\n`) : fail(1, `package ${pkg} is not installed`);
      if (cmd === "dnf" && pkg === "bash") {
        installed.bash = "(none):5.1.8-9.el9.x86_64";
        return ok();
      }
      if (cmd === "dnf") return fail(1, "Error: GPG check FAILED");
      if (cmd === "needs-restarting") return fail(1, "Reboot is required");
      return fail(127, "unknown");
    });
    const out = await installUpdates(command("dnf", ["bash", "kernel-core", "nano"]), () => {}, exec);
    expect(out.results).toEqual([
      { name: "bash", status: "installed", from: "5.1.8-6.el9.x86_64", to: "5.1.8-9.el9.x86_64" },
      {
        name: "kernel-core",
        status: "failed",
        from: "5.14.0-1.el9.x86_64",
        error: "dnf exit code 1: Error: GPG check FAILED",
      },
      { name: "nano", status: "not_applicable", error: "not installed on this device" },
    ]);
    expect(out.rebootRequired).toBe(true);
    expect(calls).toContainEqual(["dnf", "-y", "-q", "upgrade", "bash"]);
    expect(calls.filter((c) => c[0] === "dnf" && c[3] === "upgrade").map((c) => c.at(-1))).toEqual([
      "bash",
      "kernel-core",
    ]);
  });

  it("refuses, saying why, where the package manager is not there or not this OS's", async () => {
    const none = fakeExec("linux", () => ({
      code: null,
      stdout: "",
      stderr: "",
      timedOut: false,
      error: "spawn apt-get ENOENT",
    }));
    expect((await installUpdates(command("apt", ["openssl"]), () => {}, none.exec)).error).toBe(
      "apt-get is not available on this device (spawn apt-get ENOENT)",
    );
    const mac = fakeExec("darwin", () => ok());
    expect((await installUpdates(command("apt", ["openssl"]), () => {}, mac.exec)).error).toMatch(
      /not this device's package manager/,
    );
    expect(mac.calls).toEqual([]);
    const linux = fakeExec("linux", () => ok());
    expect((await installUpdates(command("windows_update", ["KB5040000"]), () => {}, linux.exec)).error).toBe(
      "Windows Update exists only on Windows",
    );
  });

  it("validates names before anything runs: no shell syntax, no options", () => {
    for (const bad of ["openssl; rm -rf /", "-oAPT::Get=1", "a b", "$(id)", "x`id`", "a|b"])
      expect(
        InstallUpdatesCommand.safeParse({ kind: "updates.install", manager: "apt", packages: [bad] }).success,
      ).toBe(false);
    expect(
      InstallUpdatesCommand.safeParse({
        kind: "updates.install",
        manager: "windows_update",
        packages: ["openssl"],
      }).success,
    ).toBe(false);
  });

  it("Windows: searches the KB ids through the COM API and reads a ResultCode per update", async () => {
    const script = windowsInstallScript(["KB5040000", "KB5040001", "KB5039999"]);
    expect(script).toContain("$ids = @('5040000','5040001','5039999')");
    expect(script).toContain("Microsoft.Update.Session");
    expect(script).toContain("$inst.Install()");
    expect(script).not.toContain('"');
    const answer = JSON.stringify({
      rebootRequired: true,
      results: [
        { kb: "KB5040000", code: 2, hresult: "0x00000000", reboot: true },
        { kb: "KB5040001", code: 4, hresult: "0x80240022", reboot: false },
      ],
    });
    const { exec, calls } = fakeExec("win32", () => ok(answer));
    const out = await installUpdates(
      command("windows_update", ["KB5040000", "KB5040001", "KB5039999"]),
      () => {},
      exec,
    );
    expect(calls[0]!.slice(0, 4)).toEqual(["powershell.exe", "-NoProfile", "-NonInteractive", "-Command"]);
    expect(out.rebootRequired).toBe(true);
    expect(out.results).toEqual([
      { name: "KB5040000", status: "installed" },
      { name: "KB5040001", status: "failed", error: "Windows Update failed (HRESULT 0x80240022)" },
      {
        name: "KB5039999",
        status: "not_applicable",
        error: "Windows Update does not offer it (installed already, superseded or hidden)",
      },
    ]);
    // One result comes back as an object, not an array, when PowerShell has a single one.
    expect(
      parseWindowsInstall(
        ["KB1234567"],
        JSON.stringify({ rebootRequired: false, results: { kb: "KB1234567", code: 3, hresult: "0x1" } }),
      ).results,
    ).toEqual([{ name: "KB1234567", status: "installed", error: "succeeded with errors (0x1)" }]);
  });
});
