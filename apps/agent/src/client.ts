import { createPrivateKey, createPublicKey, type KeyObject, randomBytes, sign, verify } from "node:crypto";
import { EventEmitter } from "node:events";
import {
  agentAuthMessage,
  CloseCode,
  type Inventory,
  isRemoteFrameType,
  PROTOCOL_VERSION,
  type RejectReason,
  RemoteServerFrame,
  ServerFrame,
  serverAuthMessage,
} from "@switchboard/shared";
import WebSocket from "ws";
import { CheckRunner, verifyChecks } from "./checks/runner.ts";
import { executeCommand, type Reporter } from "./commands/execute.ts";
import { detectServiceManager, type ServiceManager } from "./commands/services.ts";
import { ReplayGuard, verifyCommand } from "./commands/verify.ts";
import { collectInventory } from "./inventory/index.ts";
import { InventoryReporter } from "./inventory/reporter.ts";
import { type Log, silentLog } from "./log.ts";
import { RemoteSessions } from "./remote/sessions.ts";
import type { AgentState } from "./state.ts";
import { AGENT_VERSION } from "./version.ts";

export interface ClientOptions {
  state: AgentState;
  stateDir: string;
  log?: Log;
  /**
   * Reconnect delays: the first after a lost connection uniformly random in [0, spreadMs], then in
   * [0, min(maxMs, baseMs * 2^attempt)] ("full jitter").
   */
  backoff?: { baseMs?: number; maxMs?: number; spreadMs?: number };
  collect?: () => Promise<Inventory>;
  services?: ServiceManager;
  /** Source address for the connection (the fleet simulator spreads over 127.0.0.x). */
  localAddress?: string;
  /** False: no inventory is collected or sent (the one-time support agent, allowed a shell and files only). */
  inventory?: boolean;
  /** The first patch scan this long after the first checks frame (30 s by default). */
  patchFirstMs?: number;
}

const MAX_QUEUED_FRAMES = 2000;
export const DEFAULT_BACKOFF = { baseMs: 5000, maxMs: 60_000, spreadMs: 40_000 };

/**
 * The agent's connection to its server: signed handshake, heartbeats with jitter, inventory, commands,
 * and reconnection with exponential backoff and full jitter, so a fleet coming back after a server
 * restart spreads itself out instead of arriving in the same second.
 *
 * Events: connected, disconnected(code, reason), retired, rejected(reason, commandId), command(payload).
 */
export class AgentClient extends EventEmitter {
  private readonly opts: ClientOptions;
  private readonly log: Log;
  private readonly key: KeyObject;
  private readonly serverKey: KeyObject;
  private readonly guard: ReplayGuard;
  private readonly services: ServiceManager;
  private ws: WebSocket | null = null;
  private ready = false;
  private stopped = false;
  private attempt = 0;
  private clockOffsetMs = 0;
  private heartbeatSeconds = 30;
  private seq = 0;
  private awaitingPong = false;
  private timers = new Set<NodeJS.Timeout>();
  private queue: string[] = [];
  private readonly inventory: InventoryReporter;
  /** Shells and file transfers (remote/sessions.ts). */
  readonly remote: RemoteSessions;
  /** Monitoring checks the server assigned (checks/runner.ts). */
  readonly checks: CheckRunner;

  constructor(opts: ClientOptions) {
    super();
    this.opts = opts;
    this.log = opts.log ?? silentLog;
    this.key = createPrivateKey(opts.state.privateKeyPem);
    this.serverKey = createPublicKey({
      key: Buffer.from(opts.state.serverPublicKey, "base64"),
      format: "der",
      type: "spki",
    });
    this.guard = new ReplayGuard(opts.stateDir);
    this.services = opts.services ?? detectServiceManager();
    this.inventory = new InventoryReporter(opts.collect ?? collectInventory);
    this.remote = new RemoteSessions({
      serverKey: this.serverKey,
      deviceId: opts.state.deviceId,
      guard: this.guard,
      serverNow: () => this.serverNow(),
      send: (f) => {
        if (this.ready && this.ws?.readyState === WebSocket.OPEN) this.ws.send(JSON.stringify(f));
      },
      log: this.log,
    });
    this.checks = new CheckRunner({
      send: (f) => this.report(f),
      log: this.log,
      patchFirstMs: opts.patchFirstMs,
    });
  }

  get connected() {
    return this.ready;
  }

  start() {
    this.stopped = false;
    this.connect();
  }

  async stop() {
    this.stopped = true;
    this.checks.stop();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    const ws = this.ws;
    if (!ws || ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      ws.once("close", () => resolve());
      ws.close(1000, "agent stopping");
      this.later(2000, () => ws.terminate());
    });
  }

  private later(ms: number, fn: () => void) {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  private serverNow() {
    return Date.now() + this.clockOffsetMs;
  }

  private connect() {
    if (this.stopped) return;
    const { state } = this.opts;
    const url = `${state.serverUrl.replace(/^http/, "ws")}${state.gatewayPath}`;
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      handshakeTimeout: 15_000,
      maxPayload: 4 * 1024 * 1024,
      localAddress: this.opts.localAddress,
    });
    this.ws = ws;
    this.ready = false;
    const agentNonce = randomBytes(32).toString("base64");
    let serverNonce = "";
    const authDeadline = this.later(30_000, () => {
      if (!this.ready) ws.terminate();
    });
    ws.on("message", (data, isBinary) => {
      let frame: ServerFrame;
      try {
        if (isBinary) throw new Error("binary frame");
        const json = JSON.parse(data.toString()) as { type?: unknown };
        // Remote sessions have their own frames: a bad one ends that session, not the connection.
        if (isRemoteFrameType(json?.type)) {
          if (this.ready) this.remote.onFrame(json, (raw) => RemoteServerFrame.safeParse(raw).data ?? null);
          return;
        }
        frame = ServerFrame.parse(json);
      } catch {
        this.log("warn", "server sent an invalid frame; reconnecting");
        ws.close(CloseCode.badMessage, "invalid frame");
        return;
      }
      this.onFrame(
        ws,
        frame,
        agentNonce,
        (n) => {
          serverNonce = n;
        },
        () => serverNonce,
      );
    });
    ws.on("pong", () => {
      this.awaitingPong = false;
    });
    ws.on("error", (err) => this.log("debug", "connection error", { error: err.message }));
    ws.on("close", (code, reason) => {
      clearTimeout(authDeadline);
      this.timers.delete(authDeadline);
      const wasReady = this.ready;
      this.ready = false;
      if (this.ws === ws) this.ws = null;
      this.remote.closeAll("connection lost");
      this.emit("disconnected", code, reason.toString());
      if (code === CloseCode.retired) {
        this.log("error", "this device was retired by the server; the agent stops");
        this.stopped = true;
        this.checks.stop();
        this.emit("retired");
        return;
      }
      if (this.stopped) return;
      const delay = this.reconnectDelay(wasReady);
      this.log("info", "disconnected; reconnecting", { code, delayMs: delay });
      this.later(delay, () => this.connect());
    });
  }

  /**
   * After losing an established connection the first attempt comes at a random moment of the spread
   * window, so a fleet dropped together by a gateway restart arrives evenly over it; failed attempts then
   * back off exponentially with full jitter.
   */
  private reconnectDelay(wasReady: boolean): number {
    const { baseMs, maxMs, spreadMs } = { ...DEFAULT_BACKOFF, ...this.opts.backoff };
    if (wasReady) {
      this.attempt = 0;
      return Math.floor(Math.random() * spreadMs);
    }
    const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(this.attempt, 30));
    this.attempt++;
    return Math.floor(Math.random() * ceiling);
  }

  private onFrame(
    ws: WebSocket,
    frame: ServerFrame,
    agentNonce: string,
    setNonce: (n: string) => void,
    getNonce: () => string,
  ) {
    switch (frame.type) {
      case "challenge": {
        setNonce(frame.nonce);
        this.clockOffsetMs = Date.parse(frame.serverTime) - Date.now();
        const { deviceId } = this.opts.state;
        const signature = sign(
          null,
          Buffer.from(agentAuthMessage(deviceId, frame.nonce, agentNonce)),
          this.key,
        );
        ws.send(
          JSON.stringify({
            type: "auth",
            protocol: PROTOCOL_VERSION,
            deviceId,
            agentNonce,
            signature: signature.toString("base64"),
            agentVersion: AGENT_VERSION,
            features: ["checks"],
          }),
        );
        return;
      }
      case "welcome": {
        const proof = serverAuthMessage(this.opts.state.deviceId, getNonce(), agentNonce);
        if (
          !getNonce() ||
          !verify(null, Buffer.from(proof), this.serverKey, Buffer.from(frame.signature, "base64"))
        ) {
          this.log("error", "the server did not prove the pinned key; disconnecting");
          ws.close(CloseCode.authFailed, "server key mismatch");
          return;
        }
        this.ready = true;
        this.awaitingPong = false;
        this.clockOffsetMs = Date.parse(frame.serverTime) - Date.now();
        this.heartbeatSeconds = frame.heartbeatSeconds;
        this.log("info", "connected", { deviceId: frame.deviceId });
        this.scheduleHeartbeat(ws);
        for (const f of this.queue.splice(0)) ws.send(f);
        this.emit("connected");
        if (this.opts.inventory === false) return;
        void this.syncInventory(ws, frame.inventoryHash);
        this.scheduleInventory(ws, frame.inventoryIntervalSeconds);
        return;
      }
      case "inventory.request":
        if (this.opts.inventory !== false) void this.syncInventory(ws, null, true);
        return;
      case "command":
        if (!this.ready) return;
        this.onCommand(frame);
        return;
      case "checks": {
        if (!this.ready) return;
        const verdict = verifyChecks(
          this.serverKey,
          this.opts.state.deviceId,
          frame,
          this.serverNow(),
          this.checks.lastIssuedAt,
        );
        if (!verdict.ok) this.log("warn", "refused the server's checks", { reason: verdict.reason });
        else this.checks.apply(verdict.payload);
        return;
      }
    }
  }

  private scheduleHeartbeat(ws: WebSocket) {
    // 80-100% of the interval: never late, and a fleet started together drifts apart.
    const ms = this.heartbeatSeconds * 1000 * (0.8 + Math.random() * 0.2);
    this.later(ms, () => {
      if (this.ws !== ws || ws.readyState !== WebSocket.OPEN) return;
      if (this.awaitingPong) {
        this.log("warn", "server stopped answering; reconnecting");
        ws.terminate();
        return;
      }
      this.awaitingPong = true;
      ws.ping();
      ws.send(JSON.stringify({ type: "heartbeat", seq: this.seq++ }));
      this.scheduleHeartbeat(ws);
    });
  }

  private scheduleInventory(ws: WebSocket, seconds: number) {
    this.later(seconds * 1000 * (0.9 + Math.random() * 0.2), () => {
      if (this.ws !== ws || !this.ready) return;
      void this.syncInventory(ws, this.inventory.lastHash);
      this.scheduleInventory(ws, seconds);
    });
  }

  private async syncInventory(ws: WebSocket, serverHash: string | null, forceFull = false) {
    try {
      const frame = await this.inventory.next(serverHash, forceFull);
      if (frame && this.ws === ws && this.ready) ws.send(JSON.stringify(frame));
    } catch (err) {
      this.log("warn", "inventory collection failed", { error: (err as Error).message });
    }
  }

  /** Frames about commands survive a reconnect: queued while offline, sent after the next welcome. */
  private report(frame: object) {
    const text = JSON.stringify(frame);
    if (this.ready && this.ws?.readyState === WebSocket.OPEN) this.ws.send(text);
    else if (this.queue.length < MAX_QUEUED_FRAMES) this.queue.push(text);
  }

  private onCommand(frame: { payload: string; signature: string; key?: string }) {
    const verdict = verifyCommand(
      this.serverKey,
      this.opts.state.deviceId,
      frame,
      this.guard,
      this.serverNow(),
    );
    if (!verdict.ok) {
      this.log("warn", "refused a command", { reason: verdict.reason, commandId: verdict.commandId });
      this.report({ type: "command.rejected", commandId: verdict.commandId, reason: verdict.reason });
      this.emit("rejected", verdict.reason satisfies RejectReason, verdict.commandId);
      return;
    }
    this.log("info", "running command", {
      commandId: verdict.payload.id,
      kind: verdict.payload.command.kind,
    });
    this.emit("command", verdict.payload);
    const reporter: Reporter = {
      started: (commandId) => this.report({ type: "command.started", commandId }),
      output: (commandId, stream, seq, data) =>
        this.report({ type: "command.output", commandId, stream, seq, data }),
      result: (r) => this.report({ type: "command.result", ...r }),
    };
    void executeCommand(verdict.payload, reporter, this.services, frame.key, {
      rescanPatches: () => this.checks.rescanPatches(),
    });
  }
}
