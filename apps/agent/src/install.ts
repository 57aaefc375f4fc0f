import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import {
  LAUNCHD_LABEL,
  LAUNCHD_PLIST,
  launchdPlist,
  SERVICE_ENV,
  SYSTEMD_UNIT,
  systemdUnit,
  WINDOWS_SERVICE_ID,
  WRAPPER_EXE,
  WRAPPER_RUNTIME_CONFIG,
  winswXml,
} from "./service-files.ts";
import { retiredFile } from "./state.ts";
import { WINSW_LICENSE } from "./winsw-license.ts";

/** Runs a system tool and returns its stdout; throws with the tool's own output when it fails. */
export type Run = (file: string, args: string[]) => string;

/** What the service functions act on: the real machine in main.ts, a recording fake in tests. */
export interface Host {
  platform: NodeJS.Platform;
  env: NodeJS.ProcessEnv;
  run: Run;
  log: (msg: string) => void;
}

export const runTool: Run = (file, args) => {
  try {
    return execFileSync(file, args, { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    const out = `${e.stderr ?? ""}${e.stdout ?? ""}`.trim() || e.message;
    throw new Error(`${path.basename(file)} ${args.join(" ")} failed: ${out}`);
  }
};

export const systemHost = (log: (msg: string) => void): Host => ({
  platform: process.platform,
  env: process.env,
  run: runTool,
  log,
});

function attempt(host: Host, file: string, args: string[]) {
  try {
    host.run(file, args);
    return true;
  } catch {
    return false;
  }
}

/** Registers the agent with the OS service manager and (re)starts it; safe to run again. */
export function installService(exe: string, stateDir: string, host: Host) {
  if (host.platform === "linux") {
    writeFileSync(SYSTEMD_UNIT, systemdUnit(exe, stateDir), { mode: 0o644 });
    host.run("systemctl", ["daemon-reload"]);
    host.run("systemctl", ["enable", "switchboard-agent.service"]);
    // restart, not start: a re-install must replace a running agent with the new binary and state.
    host.run("systemctl", ["restart", "switchboard-agent.service"]);
    host.log(`installed ${SYSTEMD_UNIT} and started it`);
  } else if (host.platform === "darwin") {
    attempt(host, "launchctl", ["bootout", `system/${LAUNCHD_LABEL}`]);
    mkdirSync(path.dirname(LAUNCHD_PLIST), { recursive: true });
    writeFileSync(LAUNCHD_PLIST, launchdPlist(exe, stateDir), { mode: 0o644 });
    host.run("launchctl", ["bootstrap", "system", LAUNCHD_PLIST]);
    host.log(`installed ${LAUNCHD_PLIST} and loaded it`);
  } else if (host.platform === "win32") {
    installWindowsService(exe, stateDir, host);
  } else {
    throw new Error(`no service manager support for ${host.platform}`);
  }
}

/**
 * A Node single executable cannot answer the Service Control Manager, so WinSW (shipped beside the
 * agent as switchboard-agent-service.exe) is the service and runs the agent as its child.
 */
function installWindowsService(exe: string, stateDir: string, host: Host) {
  const wrapper = path.join(path.dirname(exe), WRAPPER_EXE);
  if (!existsSync(wrapper))
    throw new Error(
      `${wrapper} is missing: download it beside the agent from <server>/agent/download/windows-service`,
    );
  // WinSW finds its configuration by its own name, and cannot even uninstall without it.
  writeFileSync(wrapper.replace(/\.exe$/i, ".xml"), winswXml(exe, stateDir));
  writeFileSync(`${wrapper}.config`, WRAPPER_RUNTIME_CONFIG);
  writeFileSync(wrapper.replace(/\.exe$/i, ".LICENSE.txt"), WINSW_LICENSE);
  removeWindowsService(host, wrapper);
  host.run(wrapper, ["install"]);
  host.run(wrapper, ["start"]);
  host.log(`installed the Windows service ${WINDOWS_SERVICE_ID} (${wrapper}) and started it`);
}

/** Stops and deletes the service if it exists, and the startup task that agents before WinSW made. */
function removeWindowsService(host: Host, wrapper: string) {
  // net stop waits until the service has stopped (sc stop only asks); it fails when none runs.
  attempt(host, "net.exe", ["stop", WINDOWS_SERVICE_ID]);
  // Best effort: on a first install there is nothing to remove, and the loop below waits for the rest.
  if (!existsSync(wrapper.replace(/\.exe$/i, ".xml")) || !attempt(host, wrapper, ["uninstall"]))
    attempt(host, "sc.exe", ["delete", WINDOWS_SERVICE_ID]);
  attempt(host, "schtasks.exe", ["/Delete", "/F", "/TN", "Switchboard Agent"]);
  // A deleted service lingers while something (the Services console) holds a handle to it; wait a
  // bounded while so the install that follows does not find it "already existing".
  for (let i = 0; i < 20 && attempt(host, "sc.exe", ["query", WINDOWS_SERVICE_ID]); i++)
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
}

/** Stops the agent and removes it from the service manager; the state directory (its key) stays. */
export function uninstallService(exe: string, stateDir: string, host: Host) {
  if (host.platform === "linux") {
    if (existsSync(SYSTEMD_UNIT)) {
      attempt(host, "systemctl", ["disable", "--now", "switchboard-agent.service"]);
      rmSync(SYSTEMD_UNIT);
      host.run("systemctl", ["daemon-reload"]);
      host.log(`stopped the agent and removed ${SYSTEMD_UNIT}`);
    } else host.log(`no ${SYSTEMD_UNIT}: nothing to remove`);
  } else if (host.platform === "darwin") {
    attempt(host, "launchctl", ["bootout", `system/${LAUNCHD_LABEL}`]);
    rmSync(LAUNCHD_PLIST, { force: true });
    host.log(`unloaded and removed ${LAUNCHD_PLIST}`);
  } else if (host.platform === "win32") {
    const wrapper = path.join(path.dirname(exe), WRAPPER_EXE);
    removeWindowsService(host, wrapper);
    rmSync(wrapper.replace(/\.exe$/i, ".xml"), { force: true });
    rmSync(`${wrapper}.config`, { force: true });
    rmSync(wrapper.replace(/\.exe$/i, ".LICENSE.txt"), { force: true });
    host.log(`removed the Windows service ${WINDOWS_SERVICE_ID}`);
  } else {
    throw new Error(`no service manager support for ${host.platform}`);
  }
  host.log(`kept ${stateDir} (this device's key): delete it to forget the enrollment`);
}

/**
 * The server retired this device: make sure nothing starts the agent again, now or after a reboot.
 * The marker stops systemd (at boot), launchd (its KeepAlive PathState) and any later `run` at once.
 * On Windows, WinSW 1.17 passes the agent's exit code on as its own and leaves restarts to the SCM's
 * failure actions, which cannot tell exit codes apart: the agent disables its own service and clears
 * those actions before it exits.
 */
export function stayStopped(stateDir: string, host: Host) {
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(retiredFile(stateDir), `${new Date().toISOString()}\n`);
  if (host.platform === "win32" && host.env[SERVICE_ENV]) {
    host.run("sc.exe", ["config", WINDOWS_SERVICE_ID, "start=", "disabled"]);
    host.run("sc.exe", ["failure", WINDOWS_SERVICE_ID, "reset=", "0", "actions=", ""]);
    host.log(`disabled the Windows service ${WINDOWS_SERVICE_ID}`);
  }
}
