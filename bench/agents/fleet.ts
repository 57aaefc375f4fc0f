// A fleet worker: simulated agents speaking the real protocol (signed handshake, server proof checked,
// jittered heartbeats, signed commands verified and answered, backoff with full jitter on disconnect).
// Driven by the controller (run.ts) over IPC. `bare` mode talks to bare-server.ts: same frames, no crypto.
import { createPrivateKey, createPublicKey, type KeyObject, randomBytes, sign, verify } from "node:crypto";
import WebSocket from "ws";
import {
  agentAuthMessage,
  commandMessage,
  serverAuthMessage,
} from "../../packages/shared/src/agent/protocol.ts";
import { episodes, type MonitoringInit, monitoringStats, SimChecks } from "./sim-checks.ts";

interface AgentSpec {
  deviceId: string;
  keyPem: string;
  gateway: number;
}
type Msg =
  | {
      op: "init";
      /** One per gateway process; each agent keeps to its own, as an agent keeps to its server URL. */
      urls: string[];
      serverKey: string;
      addresses: string[];
      heartbeatMs: number;
      bare: boolean;
      backoff: { baseMs: number; maxMs: number; spreadMs: number };
      /** Set: the agents announce the "checks" feature and run the checks the server sends (sim-checks.ts). */
      monitoring?: MonitoringInit;
    }
  | { op: "connect"; agents: AgentSpec[]; perSecond: number }
  | { op: "silence"; deviceIds: string[] }
  | { op: "stats" }
  /** Monitoring: force checks of these agents to fail (or pass again). */
  | { op: "force"; items: Array<{ deviceId: string; checkId: string }>; failing: boolean }
  | { op: "episodes" }
  | { op: "stop" };

const INVENTORY = {
  hostname: "sim",
  os: { platform: "linux", name: "Debian GNU/Linux", version: "12", arch: "x64" },
  hardware: { manufacturer: "Sim", model: "Fleet" },
  cpu: { model: "sim", cores: 4, speedMhz: 2400 },
  memory: { totalBytes: 8e9, freeBytes: 4e9 },
  disks: [{ mount: "/", totalBytes: 256e9, freeBytes: 100e9 }],
  network: [
    {
      name: "eth0",
      mac: "02:00:00:00:00:01",
      addresses: [{ address: "10.0.0.2", family: "IPv4", cidr: "10.0.0.2/24" }],
    },
  ],
  users: ["frontdesk"],
  uptimeSeconds: 1000,
  software: Array.from({ length: 40 }, (_, i) => ({ name: `package-${i}`, version: `1.${i}.0` })),
  updates: { source: "apt", count: 1, items: [{ name: "openssl", version: "3.0.15" }] },
};
const INVENTORY_HASH = "sim-inventory-v1";

let cfg: Extract<Msg, { op: "init" }>;
let serverKey: KeyObject;
const stats = {
  connected: 0,
  attempts: 0,
  failedAttempts: 0,
  failedAfterMark: 0,
  heartbeats: 0,
  commands: 0,
  badCommands: 0,
  authFailures: 0,
};
let markAt = 0;
/** Why attempts failed after the controller's mark (the server ready again), by error code or close code. */
const failReasons: Record<string, number> = {};
const agents = new Map<string, Sim>();

class Sim {
  readonly id: string;
  readonly key: KeyObject;
  readonly address: string;
  readonly url: string;
  ws: WebSocket | null = null;
  ready = false;
  silent = false;
  attempt = 0;
  lastHeartbeatAt = 0;
  timer: NodeJS.Timeout | null = null;
  readonly checks: SimChecks | null = null;

  constructor(spec: AgentSpec, address: string) {
    this.id = spec.deviceId;
    this.key = createPrivateKey(spec.keyPem);
    this.address = address;
    this.url = cfg.urls[spec.gateway]!;
    if (cfg.monitoring) {
      this.checks = new SimChecks(this.id, cfg.monitoring);
      // Results are sent on the live connection only (a silent agent, cut off, sends nothing).
      this.checks.send = (frame) => {
        if (this.ready && !this.silent && this.ws) this.ws.send(JSON.stringify(frame));
      };
    }
  }

  connect() {
    stats.attempts++;
    const ws = new WebSocket(this.url, {
      perMessageDeflate: false,
      localAddress: this.address,
      handshakeTimeout: 15_000,
    });
    this.ws = ws;
    const agentNonce = randomBytes(32).toString("base64");
    let serverNonce = "";
    ws.on("message", (data) => {
      const f = JSON.parse(data.toString()) as Record<string, string>;
      if (f.type === "challenge") {
        serverNonce = f.nonce!;
        const signature = cfg.bare
          ? ""
          : sign(null, Buffer.from(agentAuthMessage(this.id, serverNonce, agentNonce)), this.key).toString(
              "base64",
            );
        ws.send(
          JSON.stringify({
            type: "auth",
            protocol: 1,
            deviceId: this.id,
            agentNonce,
            signature,
            agentVersion: "sim",
            ...(cfg.monitoring ? { features: ["checks"] } : {}),
          }),
        );
      } else if (f.type === "welcome") {
        if (
          !cfg.bare &&
          !verify(
            null,
            Buffer.from(serverAuthMessage(this.id, serverNonce, agentNonce)),
            serverKey,
            Buffer.from(f.signature!, "base64"),
          )
        ) {
          stats.authFailures++;
          ws.terminate();
          return;
        }
        this.ready = true;
        this.attempt = 0;
        stats.connected++;
        if (!cfg.bare && f.inventoryHash !== INVENTORY_HASH) {
          ws.send(
            JSON.stringify({ type: "inventory", full: true, hash: INVENTORY_HASH, inventory: INVENTORY }),
          );
        }
        this.heartbeat();
      } else if (f.type === "command") {
        this.command(f.payload!, f.signature!);
      } else if (f.type === "checks" && this.ready && this.checks) {
        this.checks.onFrame({ payload: f.payload!, signature: f.signature! }, serverKey);
      }
    });
    ws.on("error", (err: Error & { code?: string }) => {
      lastError = err.code ?? err.message.slice(0, 60);
    });
    ws.on("unexpected-response", (_req, res) => {
      lastError = `http ${res.statusCode}`;
      ws.terminate();
    });
    let lastError = "";
    ws.on("close", (code) => {
      if (this.timer) clearTimeout(this.timer);
      if (this.ready) stats.connected--;
      else {
        stats.failedAttempts++;
        if (markAt && Date.now() > markAt) {
          stats.failedAfterMark++;
          const why = lastError || `close ${code}`;
          failReasons[why] = (failReasons[why] ?? 0) + 1;
        }
      }
      const wasReady = this.ready;
      this.ready = false;
      this.ws = null;
      if (this.silent || stopping) return;
      // As the real agent: a spread window after a lost connection, then full-jitter backoff.
      if (wasReady) this.attempt = 0;
      const ceiling = wasReady
        ? cfg.backoff.spreadMs
        : Math.min(cfg.backoff.maxMs, cfg.backoff.baseMs * 2 ** Math.min(this.attempt++, 20));
      this.timer = setTimeout(() => this.connect(), Math.random() * ceiling);
    });
  }

  heartbeat() {
    this.timer = setTimeout(
      () => {
        if (!this.ready || this.silent || !this.ws) return;
        this.ws.send(JSON.stringify({ type: "heartbeat", seq: stats.heartbeats }));
        stats.heartbeats++;
        this.lastHeartbeatAt = Date.now();
        this.heartbeat();
      },
      cfg.heartbeatMs * (0.8 + Math.random() * 0.2),
    );
  }

  command(payload: string, signature: string) {
    const ok = verify(
      null,
      Buffer.from(commandMessage(payload)),
      serverKey,
      Buffer.from(signature, "base64"),
    );
    const p = JSON.parse(payload) as { id: string; deviceId: string; expiresAt: string };
    if (!ok || p.deviceId !== this.id || Date.parse(p.expiresAt) < Date.now()) {
      stats.badCommands++;
      this.ws?.send(JSON.stringify({ type: "command.rejected", commandId: p.id, reason: "bad_signature" }));
      return;
    }
    stats.commands++;
    this.ws?.send(JSON.stringify({ type: "command.started", commandId: p.id }));
    this.ws?.send(
      JSON.stringify({ type: "command.output", commandId: p.id, stream: "stdout", seq: 0, data: "ok\n" }),
    );
    this.ws?.send(
      JSON.stringify({
        type: "command.result",
        commandId: p.id,
        status: "succeeded",
        exitCode: 0,
        truncated: false,
      }),
    );
  }
}

let stopping = false;

process.on("message", async (m: Msg) => {
  if (m.op === "init") {
    cfg = m;
    if (!m.bare)
      serverKey = createPublicKey({ key: Buffer.from(m.serverKey, "base64"), format: "der", type: "spki" });
    process.send?.({ op: "ok" });
  } else if (m.op === "connect") {
    const gap = 1000 / m.perSecond;
    let i = 0;
    for (const spec of m.agents) {
      const sim = new Sim(spec, cfg.addresses[i++ % cfg.addresses.length]!);
      agents.set(sim.id, sim);
      sim.connect();
      if (i % 10 === 0) await new Promise((r) => setTimeout(r, gap * 10));
    }
    process.send?.({ op: "ok" });
  } else if (m.op === "silence") {
    const last: Record<string, number> = {};
    for (const id of m.deviceIds) {
      const a = agents.get(id);
      if (!a) continue;
      a.silent = true;
      if (a.timer) clearTimeout(a.timer);
      last[id] = a.lastHeartbeatAt;
    }
    process.send?.({ op: "silenced", last });
  } else if (m.op === "stats") {
    if (!markAt) markAt = 0;
    process.send?.({
      op: "stats",
      stats: { ...stats, ...(cfg?.monitoring ? monitoringStats : {}) },
      failReasons,
      mem: process.memoryUsage().rss,
    });
  } else if (m.op === "force") {
    let found = 0;
    for (const { deviceId, checkId } of m.items)
      if (agents.get(deviceId)?.checks?.force(checkId, m.failing)) found++;
    process.send?.({ op: "forced", found });
  } else if (m.op === "episodes") {
    process.send?.({ op: "episodes", episodes });
  } else if (m.op === "stop") {
    stopping = true;
    for (const a of agents.values()) {
      if (a.timer) clearTimeout(a.timer);
      a.checks?.stop();
      a.ws?.terminate();
    }
    process.send?.({ op: "ok" });
    setTimeout(() => process.exit(0), 100);
  }
});

/** The controller marks the moment the server is ready again: failures after it are real errors. */
process.on("message", (m: { op: string; at?: number }) => {
  if (m.op === "mark") markAt = m.at ?? Date.now();
});
