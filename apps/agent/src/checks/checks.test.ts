import { randomUUID } from "node:crypto";
import { createServer as createHttpServer } from "node:http";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
import type { CheckDefinition, ChecksPayload } from "@switchboard/shared";
import { afterEach, describe, expect, it } from "vitest";
import { silentLog } from "../log.ts";
import { diskProbe, httpProbe, type Probe, scriptProbe, tcpProbe } from "./probes.ts";
import { CheckRunner } from "./runner.ts";

// The agent's side of monitoring on this machine: what the probes measure, and what the runner reports.

describe("probes", () => {
  it("tcp: ok while something listens, critical with the reason once it stops", async () => {
    const server = net.createServer((s) => s.end());
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as AddressInfo).port;
    const up = await tcpProbe({ kind: "tcp", host: "127.0.0.1", port, timeoutMs: 2000 });
    expect(up.state).toBe("ok");
    expect(up.metrics?.latency_ms).toBeGreaterThanOrEqual(0);
    await new Promise<void>((r) => server.close(() => r()));
    const down = await tcpProbe({ kind: "tcp", host: "127.0.0.1", port, timeoutMs: 2000 });
    expect(down).toMatchObject({ state: "critical", output: expect.stringContaining("ECONNREFUSED") });
  });

  it("http: status and body text decide; a missing text is named", async () => {
    const server = createHttpServer((req, res) => {
      res.statusCode = req.url === "/down" ? 503 : 200;
      res.end("<h1>Reservations</h1>");
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const ok = await httpProbe({
        kind: "http",
        url: `${base}/`,
        bodyContains: "Reservations",
        timeoutMs: 5000,
      });
      expect(ok).toMatchObject({ state: "ok", metrics: { status: 200 } });
      const missing = await httpProbe({
        kind: "http",
        url: `${base}/`,
        bodyContains: "Catalogue",
        timeoutMs: 5000,
      });
      expect(missing).toMatchObject({
        state: "critical",
        output: expect.stringContaining('does not contain "Catalogue"'),
      });
      const down = await httpProbe({ kind: "http", url: `${base}/down`, timeoutMs: 5000 });
      expect(down).toMatchObject({ state: "critical", output: expect.stringContaining("status 503") });
    } finally {
      server.close();
    }
  });

  it("disk: free % and GB of a volume against the thresholds", async () => {
    const fine = await diskProbe({ kind: "disk", volume: os.tmpdir(), minFreePercent: 0 });
    expect(fine.state).toBe("ok");
    expect(fine.metrics?.free_percent).toBeGreaterThan(0);
    const full = await diskProbe({ kind: "disk", volume: os.tmpdir(), minFreeGb: 10_000_000 / 10 });
    expect(full.state).toBe("critical");
    expect((await diskProbe({ kind: "disk", volume: "/no/such/volume" })).state).toBe("unknown");
  });

  it.skipIf(process.platform === "win32")(
    "script: the exit code is the state, name=number lines are metrics",
    async () => {
      const p = await scriptProbe({
        kind: "script",
        interpreter: "sh",
        script: "echo 'queue_depth=42'\necho 'oldest_minutes = 7.5'\necho 'backlog growing'\nexit 1",
        timeoutSeconds: 10,
      });
      expect(p).toMatchObject({ state: "warning", metrics: { queue_depth: 42, oldest_minutes: 7.5 } });
      expect(p.output).toContain("backlog growing");
    },
  );
});

describe("the runner", () => {
  let runner: CheckRunner | null = null;
  afterEach(() => runner?.stop());

  it("reports a change at once, every failing run, passes until pass_after, then only the summary", async () => {
    const sent: Array<{ summary: boolean; results: Array<{ state: string; streak: number }> }> = [];
    const states = ["ok", "ok", "critical", "critical", "ok", "ok", "ok", "ok"];
    let run = 0;
    let resolveDone: () => void;
    const done = new Promise<void>((r) => {
      resolveDone = r;
    });
    runner = new CheckRunner({
      send: (f) => sent.push(f as (typeof sent)[number]),
      log: silentLog,
      probe: async (): Promise<Probe> => {
        const state = states[run++] ?? "ok";
        if (run === states.length) setTimeout(() => resolveDone(), 0);
        return { state: state as Probe["state"], output: state };
      },
    });
    const def: CheckDefinition = {
      id: randomUUID(),
      name: "Port",
      intervalSeconds: 5,
      passAfter: 2,
      config: { kind: "tcp", host: "127.0.0.1", port: 1, timeoutMs: 100 },
    };
    const payload: ChecksPayload = {
      v: 1,
      deviceId: randomUUID(),
      issuedAt: new Date().toISOString(),
      summarySeconds: 3600,
      checks: [def],
    };
    // Each run schedules the next after intervalSeconds: speed the clock up for this test only.
    const realSetTimeout = globalThis.setTimeout;
    globalThis.setTimeout = ((fn: () => void, ms?: number) =>
      realSetTimeout(fn, Math.min(ms ?? 0, 5))) as typeof setTimeout;
    try {
      runner.apply(payload);
      await done;
    } finally {
      globalThis.setTimeout = realSetTimeout;
    }
    const reported = sent
      .filter((f) => !f.summary)
      .map((f) => `${f.results[0]!.state}:${f.results[0]!.streak}`);
    // ok(first), critical x2, ok x2 (recovering until pass_after=2); the later passes are left to the summary.
    expect(reported).toEqual(["ok:1", "critical:1", "critical:2", "ok:1", "ok:2"]);
  });
});
