import type { ChildProcess } from "node:child_process";
import { fork } from "node:child_process";
import path from "node:path";
import { RATE, WORKERS } from "./options.ts";
import { cpuSeconds, sleep } from "./proc.ts";

// The controller's side of the fleet workers (fleet.ts): one IPC conversation per worker process.

export interface Spec {
  deviceId: string;
  keyPem: string;
  /** Index of the gateway process (its URL in the init message) this agent connects to. */
  gateway: number;
}
export interface FleetStats {
  connected: number;
  attempts: number;
  failedAttempts: number;
  failedAfterMark: number;
  heartbeats: number;
  commands: number;
  badCommands: number;
  authFailures: number;
}

export class Fleet {
  readonly procs: ChildProcess[] = [];
  static async start(init: object) {
    const f = new Fleet();
    for (let i = 0; i < WORKERS; i++) {
      const p = fork(path.join(import.meta.dirname, "fleet.ts"), [], {
        stdio: ["ignore", "inherit", "inherit", "ipc"],
      });
      f.procs.push(p);
    }
    await f.all({ op: "init", ...init });
    return f;
  }
  ask(p: ChildProcess, msg: object, reply = "ok"): Promise<Record<string, unknown>> {
    return new Promise((resolve) => {
      const on = (m: { op: string }) => {
        if (m.op !== reply) return;
        p.off("message", on);
        resolve(m as Record<string, unknown>);
      };
      p.on("message", on);
      p.send(msg);
    });
  }
  all(msg: object, reply = "ok") {
    return Promise.all(this.procs.map((p) => this.ask(p, msg, reply)));
  }
  async connect(specs: Spec[]) {
    const per = Math.ceil(specs.length / WORKERS);
    await Promise.all(
      this.procs.map((p, i) =>
        this.ask(p, {
          op: "connect",
          agents: specs.slice(i * per, (i + 1) * per),
          perSecond: RATE / WORKERS,
        }),
      ),
    );
  }
  async stats(): Promise<
    FleetStats & { cpu: number; rss: number; failReasons: Record<string, number>; [k: string]: unknown }
  > {
    const all = await this.all({ op: "stats" }, "stats");
    // The workers' counters, summed (with monitoring, its counters too: sim-checks.ts monitoringStats).
    const counters: Record<string, number> = {
      connected: 0,
      attempts: 0,
      failedAttempts: 0,
      failedAfterMark: 0,
      heartbeats: 0,
      commands: 0,
      badCommands: 0,
      authFailures: 0,
    };
    let cpu = 0;
    let rss = 0;
    const failReasons: Record<string, number> = {};
    for (const [i, r] of all.entries()) {
      for (const [k, v] of Object.entries(r.stats as Record<string, number>))
        counters[k] = (counters[k] ?? 0) + v;
      cpu += cpuSeconds(this.procs[i]!.pid!);
      rss += r.mem as number;
      for (const [why, n] of Object.entries(r.failReasons as Record<string, number>)) {
        failReasons[why] = (failReasons[why] ?? 0) + n;
      }
    }
    return { ...(counters as unknown as FleetStats), ...counters, cpu, rss, failReasons };
  }
  async waitConnected(n: number, maxMs: number) {
    const t0 = Date.now();
    for (let i = 0; i < maxMs / 250; i++) {
      const s = await this.stats();
      if (s.connected >= n) return Date.now() - t0;
      await sleep(250);
    }
    throw new Error(`only ${(await this.stats()).connected} of ${n} agents connected after ${maxMs} ms`);
  }
  async stop() {
    await this.all({ op: "stop" });
  }
  /** After a failure: ends whichever workers are still running. */
  kill() {
    for (const p of this.procs) if (p.exitCode === null && p.signalCode === null) p.kill("SIGKILL");
  }
}

/** CPU of the given processes (summed) and the fleet's heartbeats over `seconds`. */
export async function steady(cpu: () => number, fleet: Fleet, seconds: number) {
  const c0 = cpu();
  const s0 = await fleet.stats();
  const t0 = Date.now();
  await sleep(seconds * 1000);
  const wall = (Date.now() - t0) / 1000;
  const s1 = await fleet.stats();
  return {
    cpuPercentOfOneCore: Math.round(((cpu() - c0) / wall) * 1000) / 10,
    heartbeatsPerSecond: Math.round((s1.heartbeats - s0.heartbeats) / wall),
    fleetCpuPercentOfOneCore: Math.round(((s1.cpu - s0.cpu) / wall) * 1000) / 10,
  };
}
