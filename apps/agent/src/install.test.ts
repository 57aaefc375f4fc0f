import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type Host, installService, stayStopped, uninstallService } from "./install.ts";
import { WRAPPER_RUNTIME_CONFIG, winswXml } from "./service-files.ts";
import { isRetired } from "./state.ts";

// The Windows Service Control Manager is not on this machine: a fake host records the tools the agent
// would run (and what was on disk at each step) while the files it writes go to a temporary folder.
function fakeWindows(env: NodeJS.ProcessEnv = {}, serviceExists = false) {
  const calls: Array<{ cmd: string; args: string[]; xmlPresent: boolean }> = [];
  const messages: string[] = [];
  let dir = "";
  let exists = serviceExists;
  const host: Host = {
    platform: "win32",
    env,
    log: (m) => messages.push(m),
    run: (file, args) => {
      const cmd = [path.basename(file), ...args].join(" ");
      calls.push({ cmd, args, xmlPresent: existsSync(path.join(dir, "switchboard-agent-service.xml")) });
      if (cmd === "switchboard-agent-service.exe uninstall") exists = false;
      if (cmd === "switchboard-agent-service.exe install") exists = true;
      if (cmd.startsWith("sc.exe query") && !exists) throw new Error("sc.exe query failed: 1060");
      if (cmd.startsWith("net.exe stop") || cmd.startsWith("schtasks.exe")) throw new Error("not found");
      return "";
    },
  };
  const folder = (d: string) => {
    dir = d;
  };
  return { host, calls, messages, folder };
}

const made: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), "sb-agent-install-"));
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

function agentFolder() {
  const dir = tempDir();
  const exe = path.join(dir, "switchboard-agent.exe");
  writeFileSync(exe, "");
  return { dir, exe, wrapper: path.join(dir, "switchboard-agent-service.exe") };
}

describe("installing the Windows service", () => {
  it("writes WinSW's configuration beside it, replaces any old service, then installs and starts it", () => {
    const { dir, exe, wrapper } = agentFolder();
    writeFileSync(wrapper, "");
    const w = fakeWindows({}, true);
    w.folder(dir);
    installService(exe, "C:\\ProgramData\\Switchboard", w.host);

    expect(readFileSync(path.join(dir, "switchboard-agent-service.xml"), "utf8")).toBe(
      winswXml(exe, "C:\\ProgramData\\Switchboard"),
    );
    expect(readFileSync(`${wrapper}.config`, "utf8")).toBe(WRAPPER_RUNTIME_CONFIG);
    expect(readFileSync(path.join(dir, "switchboard-agent-service.LICENSE.txt"), "utf8")).toContain(
      "Permission is hereby granted",
    );
    const cmds = w.calls.map((c) => c.cmd);
    expect(cmds).toEqual([
      "net.exe stop SwitchboardAgent",
      "switchboard-agent-service.exe uninstall",
      "schtasks.exe /Delete /F /TN Switchboard Agent",
      "sc.exe query SwitchboardAgent",
      "switchboard-agent-service.exe install",
      "switchboard-agent-service.exe start",
    ]);
    // WinSW cannot run, not even to uninstall, before its .xml exists.
    for (const c of w.calls.filter((c) => c.cmd.startsWith("switchboard-agent-service.exe")))
      expect(c.xmlPresent, c.cmd).toBe(true);
    expect(w.messages.join("\n")).toContain("installed the Windows service SwitchboardAgent");
  });

  it("refuses, naming the missing file, when the wrapper was not downloaded", () => {
    const { exe, wrapper } = agentFolder();
    const w = fakeWindows();
    expect(() => installService(exe, "C:\\ProgramData\\Switchboard", w.host)).toThrow(
      `${wrapper} is missing`,
    );
    expect(w.calls).toEqual([]);
  });

  it("uninstalls: stops the service, removes it and the files beside the wrapper, keeps the state", () => {
    const { dir, exe, wrapper } = agentFolder();
    writeFileSync(wrapper, "");
    const w = fakeWindows({}, true);
    w.folder(dir);
    installService(exe, "C:\\ProgramData\\Switchboard", w.host);
    w.calls.length = 0;
    uninstallService(exe, "C:\\ProgramData\\Switchboard", w.host);
    expect(w.calls.map((c) => c.cmd).slice(0, 2)).toEqual([
      "net.exe stop SwitchboardAgent",
      "switchboard-agent-service.exe uninstall",
    ]);
    expect(existsSync(path.join(dir, "switchboard-agent-service.xml"))).toBe(false);
    expect(existsSync(`${wrapper}.config`)).toBe(false);
    expect(existsSync(path.join(dir, "switchboard-agent-service.LICENSE.txt"))).toBe(false);
    expect(existsSync(wrapper)).toBe(true);
    expect(w.messages.at(-1)).toContain("kept C:\\ProgramData\\Switchboard");
  });
});

describe("after the server retired the device", () => {
  it("leaves a marker that later runs and launchd see", () => {
    const stateDir = tempDir();
    const host: Host = { platform: "linux", env: {}, log: () => {}, run: () => "" };
    expect(isRetired(stateDir)).toBe(false);
    stayStopped(stateDir, host);
    expect(isRetired(stateDir)).toBe(true);
  });

  it("under the Windows wrapper, disables the service and clears its restart-on-failure actions", () => {
    const stateDir = tempDir();
    const w = fakeWindows({ SWITCHBOARD_AGENT_WINDOWS_SERVICE: "SwitchboardAgent" });
    stayStopped(stateDir, w.host);
    expect(w.calls.map((c) => [path.basename(c.cmd.split(" ")[0]!), ...c.args])).toEqual([
      ["sc.exe", "config", "SwitchboardAgent", "start=", "disabled"],
      ["sc.exe", "failure", "SwitchboardAgent", "reset=", "0", "actions=", ""],
    ]);
    expect(isRetired(stateDir)).toBe(true);
  });

  it("run by hand on Windows (no wrapper), touches no service", () => {
    const w = fakeWindows();
    stayStopped(tempDir(), w.host);
    expect(w.calls).toEqual([]);
  });
});
