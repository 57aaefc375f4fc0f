import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { statfs } from "node:fs/promises";
import http, { type IncomingMessage } from "node:http";
import https from "node:https";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import type { CheckConfig, CheckState } from "@switchboard/shared";
import { runScript } from "../commands/script.ts";

/** One run of a check: its state, a line a technician can read, and any numbers it measured. */
export interface Probe {
  state: CheckState;
  output: string;
  metrics?: Record<string, number>;
}

type Config<K extends CheckConfig["kind"]> = Extract<CheckConfig, { kind: K }>;

function capture(cmd: string, args: string[], timeoutMs = 15_000) {
  return new Promise<{ code: number; stdout: string; error?: string }>((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: timeoutMs, maxBuffer: 8 * 1024 * 1024, windowsHide: true },
      (err, stdout) => {
        const code = err
          ? typeof (err as { code?: unknown }).code === "number"
            ? (err as { code: number }).code
            : -1
          : 0;
        resolve({ code, stdout: String(stdout), error: err && code === -1 ? err.message : undefined });
      },
    );
  });
}

const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Is the service running, asked of the machine's own service manager. */
export async function serviceProbe(c: Config<"service">, env = process.env): Promise<Probe> {
  const initDir = env.SWITCHBOARD_AGENT_INIT_DIR;
  if (initDir || (process.platform === "linux" && !isSystemd())) {
    const { code } = await capture(path.join(initDir ?? "/etc/init.d", c.service), ["status"], 10_000);
    return code === 0
      ? { state: "ok", output: `${c.service} is running` }
      : { state: "critical", output: `${c.service} is not running (status exit code ${code})` };
  }
  if (process.platform === "win32") {
    const { stdout, code } = await capture("sc.exe", ["query", c.service]);
    const m = stdout.match(/STATE\s*:\s*\d+\s+(\w+)/);
    if (code !== 0 || !m) return { state: "critical", output: `${c.service}: no such service` };
    return m[1] === "RUNNING"
      ? { state: "ok", output: `${c.service} is running` }
      : { state: "critical", output: `${c.service} is ${m[1]!.toLowerCase()}` };
  }
  if (process.platform === "darwin") {
    const { stdout, code } = await capture("launchctl", ["list", c.service]);
    return code === 0 && /"PID"\s*=/.test(stdout)
      ? { state: "ok", output: `${c.service} is running` }
      : { state: "critical", output: `${c.service} is not running` };
  }
  const { stdout } = await capture("systemctl", ["is-active", c.service]);
  const state = stdout.trim() || "unknown";
  return state === "active"
    ? { state: "ok", output: `${c.service} is active` }
    : { state: "critical", output: `${c.service} is ${state}` };
}

function isSystemd() {
  try {
    return readdirSync("/run/systemd/system") !== undefined;
  } catch {
    return false;
  }
}

const baseName = (p: string) =>
  path
    .basename(p.trim())
    .toLowerCase()
    .replace(/\.exe$/, "");

/** Names of the running processes. */
async function processNames(): Promise<string[]> {
  if (process.platform === "linux") {
    const names: string[] = [];
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        names.push(readFileSync(`/proc/${pid}/comm`, "utf8").trim().toLowerCase());
        const argv0 = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0")[0];
        if (argv0) names.push(baseName(argv0));
      } catch {
        // exited meanwhile
      }
    }
    return names;
  }
  if (process.platform === "win32") {
    const { stdout } = await capture("tasklist.exe", ["/FO", "CSV", "/NH"]);
    return stdout.split("\n").map((l) => baseName(l.split('","')[0]!.replace(/^"/, "")));
  }
  const { stdout } = await capture("ps", ["-axo", "comm="]);
  return stdout.split("\n").map(baseName);
}

export async function processProbe(c: Config<"process">): Promise<Probe> {
  const want = baseName(c.process);
  const count = (await processNames()).filter((n) => n === want || n === want.slice(0, 15)).length;
  return count
    ? { state: "ok", output: `${c.process} is running`, metrics: { processes: count } }
    : { state: "critical", output: `${c.process} is not running`, metrics: { processes: 0 } };
}

export async function diskProbe(c: Config<"disk">): Promise<Probe> {
  let st: Awaited<ReturnType<typeof statfs>>;
  try {
    st = await statfs(c.volume);
  } catch (err) {
    return { state: "unknown", output: `${c.volume}: ${(err as Error).message}` };
  }
  const total = st.blocks * st.bsize;
  const free = st.bavail * st.bsize;
  const freePercent = total ? (free / total) * 100 : 0;
  const freeGb = free / 1024 ** 3;
  const metrics = {
    free_percent: round(freePercent),
    free_gb: round(freeGb, 2),
    total_gb: round(total / 1024 ** 3, 2),
  };
  const low =
    (c.minFreePercent !== undefined && freePercent < c.minFreePercent) ||
    (c.minFreeGb !== undefined && freeGb < c.minFreeGb);
  const text = `${c.volume}: ${round(freeGb, 2)} GB free (${round(freePercent)}%)`;
  return { state: low ? "critical" : "ok", output: low ? `${text}, below the threshold` : text, metrics };
}

function cpuTimes() {
  let idle = 0;
  let total = 0;
  for (const cpu of os.cpus()) {
    const t = cpu.times;
    idle += t.idle;
    total += t.user + t.nice + t.sys + t.idle + t.irq;
  }
  return { idle, total };
}

/**
 * CPU or memory use over a sustained window: each run adds a sample, the state compares the window's
 * average with the threshold, so a spike alone never alerts.
 */
export class WindowedUsage {
  private samples: Array<{ at: number; value: number }> = [];
  private last = cpuTimes();

  sampleCpu(): number {
    const now = cpuTimes();
    const total = now.total - this.last.total;
    const value = total > 0 ? (1 - (now.idle - this.last.idle) / total) * 100 : 0;
    this.last = now;
    return value;
  }

  sampleMemory(): number {
    return (1 - os.freemem() / os.totalmem()) * 100;
  }

  probe(kind: "cpu" | "memory", c: { maxPercent: number; windowSeconds: number }): Probe {
    const value = kind === "cpu" ? this.sampleCpu() : this.sampleMemory();
    const now = Date.now();
    this.samples.push({ at: now, value });
    this.samples = this.samples.filter((s) => s.at > now - c.windowSeconds * 1000);
    const avg = this.samples.reduce((a, s) => a + s.value, 0) / this.samples.length;
    const label = kind === "cpu" ? "CPU" : "Memory";
    const metrics = { [`${kind}_percent`]: round(value), [`${kind}_avg_percent`]: round(avg) };
    return avg > c.maxPercent
      ? {
          state: "critical",
          output: `${label} at ${round(avg)}% on average over ${c.windowSeconds} s`,
          metrics,
        }
      : { state: "ok", output: `${label} at ${round(avg)}% on average`, metrics };
  }
}

export function tcpProbe(c: Config<"tcp">): Promise<Probe> {
  return new Promise((resolve) => {
    const started = performance.now();
    const socket = net.connect({ host: c.host, port: c.port });
    const done = (p: Probe) => {
      socket.destroy();
      resolve(p);
    };
    socket.setTimeout(c.timeoutMs, () =>
      done({ state: "critical", output: `${c.host}:${c.port} timed out after ${c.timeoutMs} ms` }),
    );
    socket.once("connect", () => {
      const ms = round(performance.now() - started);
      done({ state: "ok", output: `${c.host}:${c.port} answered in ${ms} ms`, metrics: { latency_ms: ms } });
    });
    socket.once("error", (err) => done({ state: "critical", output: `${c.host}:${c.port}: ${err.message}` }));
  });
}

export async function pingProbe(c: Config<"ping">): Promise<Probe> {
  const win = process.platform === "win32";
  const args = win
    ? ["-n", "1", "-w", String(c.timeoutMs), c.host]
    : ["-c", "1", "-W", String(Math.max(1, Math.ceil(c.timeoutMs / 1000))), c.host];
  const { code, stdout, error } = await capture(win ? "ping.exe" : "ping", args, c.timeoutMs + 2000);
  const ms = stdout.match(/time[=<]\s*([\d.]+)\s*ms/i);
  if (code === 0)
    return {
      state: "ok",
      output: `${c.host} answered${ms ? ` in ${ms[1]} ms` : ""}`,
      metrics: ms ? { latency_ms: Number(ms[1]) } : undefined,
    };
  return { state: "critical", output: `${c.host} did not answer${error ? `: ${error}` : ""}` };
}

export async function httpProbe(c: Config<"http">): Promise<Probe> {
  const started = performance.now();
  const request = c.url.startsWith("https:") ? https.request : http.request;
  return new Promise((resolve) => {
    let settled = false;
    const finish = (p: Probe) => {
      if (settled) return;
      settled = true;
      resolve(p);
    };
    const req = request(
      c.url,
      { method: "GET", timeout: c.timeoutMs, headers: { "user-agent": "switchboard-agent" } },
      (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const socket = res.socket as { getPeerCertificate?: () => { valid_to?: string } };
        const cert = socket.getPeerCertificate?.();
        res.on("data", (d: Buffer) => {
          // Enough of the body to look for the text; the rest is not kept.
          if (size < 1024 * 1024) chunks.push(d);
          size += d.length;
        });
        res.on("end", () => {
          const ms = round(performance.now() - started);
          const status = res.statusCode ?? 0;
          const metrics: Record<string, number> = { latency_ms: ms, status };
          const problems: string[] = [];
          let state: CheckState = "ok";
          const okStatus =
            c.expectStatus !== undefined ? status === c.expectStatus : status >= 200 && status < 400;
          if (!okStatus) {
            state = "critical";
            problems.push(
              `status ${status}${c.expectStatus !== undefined ? `, expected ${c.expectStatus}` : ""}`,
            );
          }
          if (
            c.bodyContains !== undefined &&
            !Buffer.concat(chunks).toString("utf8").includes(c.bodyContains)
          ) {
            state = "critical";
            problems.push(`the page does not contain "${c.bodyContains}"`);
          }
          if (cert?.valid_to) {
            const days = Math.floor((Date.parse(cert.valid_to) - Date.now()) / 86_400_000);
            metrics.cert_days_left = days;
            if (c.minCertDays !== undefined && days < c.minCertDays) {
              if (state === "ok") state = "warning";
              problems.push(`the certificate expires in ${days} days`);
            }
          }
          finish({
            state,
            output: problems.length
              ? `${c.url}: ${problems.join("; ")}`
              : `${c.url}: status ${status} in ${ms} ms`,
            metrics,
          });
        });
        res.on("error", (err: Error) => finish({ state: "critical", output: `${c.url}: ${err.message}` }));
      },
    );
    req.on("timeout", () => {
      req.destroy(new Error(`no answer within ${c.timeoutMs} ms`));
    });
    req.on("error", (err: Error) => finish({ state: "critical", output: `${c.url}: ${err.message}` }));
    req.end();
  });
}

const EXIT_STATE: Record<number, CheckState> = { 0: "ok", 1: "warning", 2: "critical" };
const METRIC_LINE = /^\s*([A-Za-z0-9_.-]{1,64})\s*=\s*(-?\d+(?:\.\d+)?)\s*$/;

/** A script: its exit code is the state (0 ok, 1 warning, 2 critical), its `name=number` lines metrics. */
export async function scriptProbe(c: Config<"script">): Promise<Probe> {
  let out = "";
  const result = await runScript(
    {
      kind: "script.run",
      interpreter: c.interpreter,
      script: c.script,
      timeoutSeconds: c.timeoutSeconds,
      outputLimitBytes: 16 * 1024,
    },
    (o) => {
      out += o.data;
    },
  );
  const metrics: Record<string, number> = {};
  for (const line of out.split("\n")) {
    const m = line.match(METRIC_LINE);
    if (m && Object.keys(metrics).length < 20) metrics[m[1]!] = Number(m[2]);
  }
  if (result.timedOut)
    return { state: "unknown", output: `timed out after ${c.timeoutSeconds} s\n${out}`.slice(0, 4000) };
  if (result.exitCode === null)
    return { state: "unknown", output: `could not run: ${result.error ?? "killed"}`.slice(0, 4000) };
  return {
    state: EXIT_STATE[result.exitCode] ?? "unknown",
    output: (out.trim() || `exit code ${result.exitCode}`).slice(0, 4000),
    metrics: Object.keys(metrics).length ? metrics : undefined,
  };
}
