import type { IncomingMessage, Server } from "node:http";
import type { Duplex } from "node:stream";
import { AGENT_WS_PATH, CloseCode } from "@switchboard/shared";
import type { FastifyBaseLogger as Logger } from "fastify";
import { WebSocketServer } from "ws";
import type { Database } from "../db/database.ts";
import { expireQueued } from "../domains/agents/command-records.ts";
import {
  devicesForHandshake,
  markOnlineBatch,
  saveFullInventories,
  sweepStale,
  touchDevices,
} from "../domains/agents/presence.ts";
import type { ServerKey } from "../domains/agents/signing-key.ts";
import type { MonitoringAgentSide } from "../domains/monitoring/agent-side.ts";
import { Batcher } from "./batcher.ts";
import type { AgentHub } from "./hub.ts";
import { ConnectionRateLimiter } from "./rate-limit.ts";
import type { AgentRemoteRelay } from "./remote-relay.ts";
import { AgentSession, type SessionContext } from "./session.ts";

export interface GatewayOptions {
  heartbeatSeconds: number;
  offlineAfterMissed: number;
  maxMessageBytes: number;
  connectsPerAddressPerMinute: number;
  inventoryIntervalSeconds: number;
  /** An unauthenticated connection is dropped after this. */
  authTimeoutMs?: number;
  /** Relays remote sessions' frames (domains/remote). */
  remote?: AgentRemoteRelay;
  /** Monitoring checks and results (domains/monitoring). */
  monitoring?: MonitoringAgentSide;
}

/**
 * The agent gateway: WebSocket upgrades on AGENT_WS_PATH of the HTTP server, sessions, presence.
 * Heartbeats are held in memory and written in one batched statement per flush interval.
 */
export class AgentGateway {
  private readonly wss: WebSocketServer;
  private readonly sessions = new Set<AgentSession>();
  private readonly limiter: ConnectionRateLimiter;
  private readonly ctx: SessionContext;
  private readonly opts: GatewayOptions;
  private readonly timers: NodeJS.Timeout[] = [];
  private stopping = false;
  private readonly servers: Server[] = [];
  private readonly onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer) =>
    this.handleUpgrade(req, socket, head);

  constructor(db: Database, hub: AgentHub, key: ServerKey, opts: GatewayOptions, log: Logger) {
    this.opts = opts;
    this.limiter = new ConnectionRateLimiter(opts.connectsPerAddressPerMinute);
    this.wss = new WebSocketServer({
      noServer: true,
      maxPayload: opts.maxMessageBytes,
      perMessageDeflate: false,
      clientTracking: false,
    });
    this.ctx = {
      db,
      hub,
      key,
      log,
      heartbeatSeconds: opts.heartbeatSeconds,
      inventoryIntervalSeconds: opts.inventoryIntervalSeconds,
      touched: new Map(),
      stopping: () => this.stopping,
      lookup: new Batcher((ids) => devicesForHandshake(db, ids)),
      online: new Batcher((marks) => markOnlineBatch(db, marks)),
      inventory: new Batcher((items) => saveFullInventories(db, items), { maxSize: 100 }),
      remote: opts.remote,
      monitoring: opts.monitoring,
    };
  }

  get connections() {
    return this.sessions.size;
  }

  /** Milliseconds without a frame after which a connection is dropped and its device marked offline. */
  get deadAfterMs() {
    return this.opts.heartbeatSeconds * this.opts.offlineAfterMissed * 1000;
  }

  /** Also accepts agents on another listener of the same app (the TLS one). */
  attachUpgrades(server: Server) {
    this.servers.push(server);
    server.on("upgrade", this.onUpgrade);
  }

  attach(server: Server) {
    this.attachUpgrades(server);
    const hb = this.opts.heartbeatSeconds * 1000;
    const flushMs = Math.min(hb, 5000);
    // Offline within a second of the deadline; a pass over 20,000 sessions takes well under a millisecond.
    const checkMs = Math.max(250, Math.min(hb / 2, 1000));
    // The database sweep catches devices of a gateway that died; it waits for that gateway's last flush.
    const staleSeconds = Math.ceil(this.deadAfterMs / 1000 + flushMs / 1000 + 5);
    this.every(flushMs, () => this.flush());
    this.every(checkMs, () => this.checkLiveness());
    this.every(Math.max(1000, Math.min(hb, 30_000)), async () => {
      await sweepStale(this.ctx.db, staleSeconds);
      await expireQueued(this.ctx.db);
      this.limiter.prune();
    });
  }

  private every(ms: number, fn: () => Promise<void> | void) {
    let running = false;
    const t = setInterval(() => {
      if (running || this.stopping) return;
      running = true;
      Promise.resolve()
        .then(fn)
        .catch((err) => this.ctx.log.error({ err }, "gateway housekeeping failed"))
        .finally(() => {
          running = false;
        });
    }, ms);
    t.unref();
    this.timers.push(t);
  }

  private async flush() {
    if (!this.ctx.touched.size) return;
    const batch = new Map(this.ctx.touched);
    this.ctx.touched.clear();
    await touchDevices(this.ctx.db, batch);
  }

  private checkLiveness() {
    const now = Date.now();
    const authDeadline = this.opts.authTimeoutMs ?? 10_000;
    for (const s of this.sessions) {
      if (!s.authenticated && now - s.lastSeen > authDeadline) s.reject(CloseCode.badMessage, "no handshake");
      else if (s.authenticated && now - s.lastSeen > this.deadAfterMs)
        s.reject(CloseCode.timeout, "missed heartbeats");
    }
  }

  private handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer) {
    const path = (req.url ?? "").split("?")[0];
    if (path !== AGENT_WS_PATH) return;
    const address = req.socket.remoteAddress ?? "unknown";
    if (this.stopping) return refuse(socket, 503, "Service Unavailable");
    if (!this.limiter.take(address)) {
      this.ctx.log.warn({ address }, "agent connection rate limit hit");
      return refuse(socket, 429, "Too Many Requests");
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const session = new AgentSession(ws, address, this.ctx);
      this.sessions.add(session);
      ws.on("close", () => this.sessions.delete(session));
    });
  }

  /** Stops accepting, flushes presence, closes every agent connection (they reconnect with backoff). */
  async close() {
    if (this.stopping) return;
    this.stopping = true;
    for (const server of this.servers) server.off("upgrade", this.onUpgrade);
    for (const t of this.timers) clearInterval(t);
    await this.flush().catch(() => {});
    this.ctx.hub.closeAll(CloseCode.shutdown, "gateway shutting down");
    for (const s of this.sessions) s.close(CloseCode.shutdown, "gateway shutting down");
    this.wss.close();
  }
}

function refuse(socket: Duplex, status: number, text: string) {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}
