import { randomUUID } from "node:crypto";
import type { FastifyBaseLogger as Logger } from "fastify";
import { connect, type NatsConnection, type Subscription } from "nats";

/** One authenticated agent connection held by this process. */
export interface LocalAgent {
  /** Unique per connection: presence updates only touch the device row while it still names this one. */
  connKey: string;
  send(frame: string): boolean;
  close(code: number, reason: string): void;
}

type RouteMessage =
  | { op: "deliver"; frame: string }
  | { op: "kick"; connKey: string; code?: number; reason?: string };

const subject = (deviceId: string) => `switchboard.agents.${deviceId}`;
const enc = new TextEncoder();
const dec = new TextDecoder();

/**
 * Where each agent is connected, and how a frame reaches it. In one process the map is enough. With
 * NATS, the gateway holding an agent subscribes to the agent's subject and answers deliveries; a
 * request nobody answers (NATS "no responders") means the agent is connected nowhere.
 */
export class AgentHub {
  readonly gatewayId = randomUUID();
  private readonly local = new Map<string, LocalAgent>();
  private readonly subs = new Map<string, Subscription>();
  private readonly nc: NatsConnection | null;
  private readonly log: Logger | undefined;
  private readonly requestTimeoutMs: number;

  constructor(nc: NatsConnection | null, log?: Logger, requestTimeoutMs = 3000) {
    this.nc = nc;
    this.log = log;
    this.requestTimeoutMs = requestTimeoutMs;
  }

  static async create(natsUrl: string | undefined, log?: Logger): Promise<AgentHub> {
    if (!natsUrl) return new AgentHub(null, log);
    const nc = await connect({ servers: natsUrl, name: "switchboard", maxReconnectAttempts: -1 });
    return new AgentHub(nc, log);
  }

  /** The NATS connection, when there is one (remote sessions route their streams over it too). */
  get nats(): NatsConnection | null {
    return this.nc;
  }

  get connectedCount() {
    return this.local.size;
  }

  isLocal(deviceId: string) {
    return this.local.has(deviceId);
  }

  /** Makes this connection the device's only one: an older one here or on another gateway is closed. */
  register(deviceId: string, agent: LocalAgent) {
    const previous = this.local.get(deviceId);
    this.local.set(deviceId, agent);
    if (previous && previous !== agent) previous.close(4409, "replaced by a newer connection");
    if (!this.nc) return;
    // Our own subscription hears this too and keeps the connection it names.
    this.publish(deviceId, { op: "kick", connKey: agent.connKey });
    if (this.subs.has(deviceId)) return;
    const sub = this.nc.subscribe(subject(deviceId), {
      callback: (err, msg) => {
        if (err) return;
        let m: RouteMessage;
        try {
          m = JSON.parse(dec.decode(msg.data)) as RouteMessage;
        } catch {
          return;
        }
        const current = this.local.get(deviceId);
        if (m.op === "kick") {
          if (current && current.connKey !== m.connKey)
            current.close(m.code ?? 4409, m.reason ?? "replaced by a newer connection");
          return;
        }
        const ok = current ? current.send(m.frame) : false;
        if (msg.reply) msg.respond(enc.encode(ok ? "1" : "0"));
      },
    });
    this.subs.set(deviceId, sub);
  }

  unregister(deviceId: string, agent: LocalAgent) {
    if (this.local.get(deviceId) !== agent) return;
    this.local.delete(deviceId);
    this.subs.get(deviceId)?.unsubscribe();
    this.subs.delete(deviceId);
  }

  /** Sends a frame to the agent wherever it is connected; false when it is connected nowhere. */
  async deliver(deviceId: string, frame: string): Promise<boolean> {
    const agent = this.local.get(deviceId);
    if (agent) return agent.send(frame);
    if (!this.nc) return false;
    try {
      const reply = await this.nc.request(
        subject(deviceId),
        enc.encode(JSON.stringify({ op: "deliver", frame })),
        {
          timeout: this.requestTimeoutMs,
        },
      );
      return dec.decode(reply.data) === "1";
    } catch (err) {
      // 503 no responders: not connected to any gateway. Timeouts: the holder died mid-request.
      this.log?.debug({ err, deviceId }, "agent not reachable over NATS");
      return false;
    }
  }

  /**
   * Closes the device's connection wherever it is (retired: its next handshake is refused). With
   * CloseCode.retired the agent stops at once instead of reconnecting to learn it (support agents).
   */
  kick(deviceId: string, code = 4409, reason = "closed by the server") {
    this.local.get(deviceId)?.close(code, reason);
    this.publish(deviceId, { op: "kick", connKey: "", code, reason });
  }

  /** Closes every local connection (gateway shutdown): agents reconnect with backoff elsewhere. */
  closeAll(code: number, reason: string) {
    for (const agent of [...this.local.values()]) agent.close(code, reason);
  }

  async close() {
    for (const sub of this.subs.values()) sub.unsubscribe();
    this.subs.clear();
    if (this.nc) await this.nc.drain().catch(() => this.nc?.close());
  }

  private publish(deviceId: string, m: RouteMessage) {
    this.nc?.publish(subject(deviceId), enc.encode(JSON.stringify(m)));
  }
}
