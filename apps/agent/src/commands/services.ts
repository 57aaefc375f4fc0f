import { execFile } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import path from "node:path";
import type { ServiceInfo } from "@switchboard/shared";
import { type Output, runProcess } from "./process.ts";

export interface ServiceManager {
  readonly name: string;
  list(): Promise<ServiceInfo[]>;
  restart(
    service: string,
    timeoutMs: number,
    onOutput: (o: Output) => void,
  ): Promise<{ exitCode: number | null; timedOut: boolean; error?: string }>;
}

function capture(cmd: string, args: string[], timeoutMs = 60_000): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024, windowsHide: true },
      (err, stdout) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === "number"
            ? (err as { code: number }).code
            : 1
          : 0;
        resolve({ code, stdout: String(stdout) });
      },
    );
  });
}

const restartWith = (cmd: string, args: string[]) => (timeoutMs: number, onOutput: (o: Output) => void) =>
  runProcess(cmd, args, { timeoutMs, outputLimitBytes: 64 * 1024, onOutput });

/** systemd, when it is PID 1. */
export const systemd: ServiceManager = {
  name: "systemd",
  async list() {
    const { stdout } = await capture("systemctl", [
      "list-units",
      "--type=service",
      "--all",
      "--no-legend",
      "--no-pager",
      "--plain",
    ]);
    return stdout
      .split("\n")
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f.length >= 4 && f[0]!.endsWith(".service"))
      .map((f) => ({
        name: f[0]!,
        state: `${f[2]}/${f[3]}`,
        description: f.slice(4).join(" ").slice(0, 500),
      }));
  },
  restart: (service, timeoutMs, onOutput) =>
    restartWith("systemctl", ["restart", service])(timeoutMs, onOutput),
};

/** SysV init scripts (containers, older distributions): `<dir>/<name> restart`, what `service` runs. */
export function sysv(initDir: string): ServiceManager {
  const scripts = () =>
    existsSync(initDir)
      ? readdirSync(initDir).filter((n) => {
          const st = statSync(path.join(initDir, n));
          return st.isFile() && (st.mode & 0o111) !== 0 && !n.startsWith(".");
        })
      : [];
  return {
    name: "sysv",
    async list() {
      const out: ServiceInfo[] = [];
      for (const name of scripts().slice(0, 500)) {
        const { code } = await capture(path.join(initDir, name), ["status"], 5000);
        out.push({ name, state: code === 0 ? "running" : "stopped" });
      }
      return out;
    },
    async restart(service, timeoutMs, onOutput) {
      if (!scripts().includes(service))
        return { exitCode: null, timedOut: false, error: `no service named ${service}` };
      return restartWith(path.join(initDir, service), ["restart"])(timeoutMs, onOutput);
    },
  };
}

export const launchd: ServiceManager = {
  name: "launchd",
  async list() {
    const { stdout } = await capture("launchctl", ["list"]);
    return stdout
      .split("\n")
      .slice(1)
      .map((l) => l.trim().split(/\t/))
      .filter((f) => f.length === 3)
      .map((f) => ({ name: f[2]!, state: f[0] === "-" ? "stopped" : "running" }));
  },
  restart: (service, timeoutMs, onOutput) =>
    restartWith("launchctl", ["kickstart", "-k", `system/${service}`])(timeoutMs, onOutput),
};

export const windowsServices: ServiceManager = {
  name: "windows",
  async list() {
    const { stdout } = await capture("powershell.exe", [
      "-NoProfile",
      "-NonInteractive",
      "-Command",
      "Get-Service | Select-Object Name,@{n='Status';e={[string]$_.Status}},DisplayName | ConvertTo-Json -Compress",
    ]);
    const rows = JSON.parse(stdout || "[]") as Array<{ Name: string; Status: string; DisplayName: string }>;
    return (Array.isArray(rows) ? rows : [rows]).map((r) => ({
      name: r.Name,
      state: r.Status.toLowerCase(),
      description: r.DisplayName?.slice(0, 500),
    }));
  },
  // The name passed the protocol's service-name pattern: no quotes or spaces can reach the command.
  restart: (service, timeoutMs, onOutput) =>
    restartWith("powershell.exe", [
      "-NoProfile",
      "-NonInteractive",
      "-Command",
      `Restart-Service -Force -Name '${service}'`,
    ])(timeoutMs, onOutput),
};

/** The machine's service manager; SWITCHBOARD_AGENT_INIT_DIR forces init scripts from that directory. */
export function detectServiceManager(env = process.env): ServiceManager {
  if (env.SWITCHBOARD_AGENT_INIT_DIR) return sysv(env.SWITCHBOARD_AGENT_INIT_DIR);
  if (process.platform === "win32") return windowsServices;
  if (process.platform === "darwin") return launchd;
  if (existsSync("/run/systemd/system")) return systemd;
  return sysv("/etc/init.d");
}
