import { CloseCode, SupportClientFrame, type SupportServerFrame } from "@switchboard/shared";
import type { FastifyBaseLogger as Logger } from "fastify";
import type { WebSocket } from "ws";
import type { Database } from "../../../db/database.ts";
import { asSystem } from "../../../db/scope.ts";
import type { AgentHub } from "../../../gateway/hub.ts";
import type { RemoteBus } from "../../../gateway/remote-bus.ts";
import { AppError } from "../../../http/errors.ts";
import type { Actor } from "../../auth/actor.ts";
import { supportDeviceIds } from "./agent.ts";
import { addEvent, chat, endSession, requestConsent, type Side, sessionForToken } from "./service.ts";

/** Frames for one side of a support session, wherever its socket is held. */
export const supportSubject = (sessionId: string, side: Side) => `switchboard.support.${sessionId}.${side}`;

/** Sends a frame to both sides of a session (events both see: chat, consents, files, the end). */
export function broadcast(bus: RemoteBus, sessionId: string, frame: SupportServerFrame) {
  const text = JSON.stringify(frame);
  bus.publish(supportSubject(sessionId, "technician"), text);
  bus.publish(supportSubject(sessionId, "caller"), text);
}

export interface SupportSocketDeps {
  db: Database;
  bus: RemoteBus;
  hub: AgentHub;
  log: Logger;
}

/**
 * Tells the session's support agents to stop: their devices were retired in the transaction that ended
 * the session (or took control back), so the agent exits, deletes itself, and is refused if it returns.
 */
export async function stopSupportAgents(deps: Pick<SupportSocketDeps, "db" | "hub">, sessionId: string) {
  const ids = await asSystem(() => supportDeviceIds(deps.db, sessionId));
  for (const id of ids) deps.hub.kick(id, CloseCode.retired, "the support session ended");
}

/** After a session ended: both sides hear it, and its support agents are told to stop. */
export async function announceEnded(
  deps: Pick<SupportSocketDeps, "db" | "hub" | "bus">,
  sessionId: string,
  by: "technician" | "caller" | "system",
  reason: string,
) {
  broadcast(deps.bus, sessionId, { t: "ended", by, reason });
  await stopSupportAgents(deps, sessionId);
}

/**
 * One side's socket: what it sends is checked, stored when it is part of the record (chat, consent
 * requests, screen sharing on and off) and passed to the other side through the bus; WebRTC signalling is
 * passed through as it is (the video itself goes browser to browser). A malformed frame closes this
 * socket only. Database work runs in the system scope: the side was authorised when it connected.
 */
export class SupportSocket {
  private readonly deps: SupportSocketDeps;
  private readonly ws: WebSocket;
  private readonly side: Side;
  private readonly actor: Actor | null;
  private sessionId: string | null = null;
  private unsubscribe: (() => void) | null = null;

  constructor(deps: SupportSocketDeps, ws: WebSocket, side: Side, actor: Actor | null) {
    this.deps = deps;
    this.ws = ws;
    this.side = side;
    this.actor = actor;
    ws.on("error", () => {});
    ws.on("close", () => this.detach());
  }

  /** The technician's socket, already authorised for `sessionId`. */
  attach(sessionId: string, status: string) {
    this.sessionId = sessionId;
    this.unsubscribe = this.deps.bus.subscribe(supportSubject(sessionId, this.side), (text) => {
      if (this.ws.readyState === this.ws.OPEN) this.ws.send(text);
      const f = JSON.parse(text) as SupportServerFrame;
      if (f.t === "ended") this.ws.close(1000, "session ended");
      // The other side just arrived: tell it this one is here too (once: the answer is marked).
      if (f.t === "peer" && f.present && !f.answer) this.toOther({ t: "peer", present: true, answer: true });
    });
    this.send({ t: "ready", status: status as never });
    this.toOther({ t: "peer", present: true });
    this.ws.on("message", (data, isBinary) => void this.onMessage(data as Buffer, isBinary));
  }

  /** The caller's socket: its first frame must be its token, within ten seconds. */
  awaitCallerAuth() {
    const timer = setTimeout(() => this.ws.close(4401, "no token"), 10_000);
    timer.unref();
    this.ws.once("message", (data) => {
      clearTimeout(timer);
      void asSystem(async () => {
        const f = SupportClientFrame.safeParse(safeJson(data as Buffer));
        if (!f.success || f.data.t !== "auth")
          return this.ws.close(4401, "the first frame must be the token");
        const s = await sessionForToken(this.deps.db, f.data.token).catch(() => null);
        if (!s || (s.status !== "joined" && s.status !== "active"))
          return this.ws.close(4401, "session not available");
        this.attach(s.id, s.status);
      });
    });
  }

  private async onMessage(data: Buffer, isBinary: boolean) {
    const parsed = isBinary ? null : SupportClientFrame.safeParse(safeJson(data));
    if (!parsed?.success || parsed.data.t === "auth") return this.ws.close(4400, "malformed frame");
    const f = parsed.data;
    const sid = this.sessionId!;
    try {
      await asSystem(async () => {
        const s = await this.current();
        switch (f.t) {
          case "chat":
            return broadcast(this.deps.bus, sid, {
              t: "event",
              event: await chat(this.deps.db, s, this.side, f.text),
            });
          case "signal":
            if (s.status !== "active") return;
            return this.toOther({ t: "signal", data: f.data });
          case "screen":
            if (this.side !== "caller" || s.status !== "active") return;
            return broadcast(this.deps.bus, sid, {
              t: "event",
              event: await addEvent(this.deps.db, s, {
                kind: "screen",
                actor: "caller",
                body: f.sharing
                  ? "The caller started sharing their screen"
                  : "The caller stopped sharing their screen",
                data: { sharing: f.sharing },
              }),
            });
          case "consent.request": {
            if (this.side !== "technician" || !this.actor) return this.ws.close(4400, "malformed frame");
            const ev = await requestConsent(this.deps.db, this.actor, sid, {
              scope: f.scope,
              deviceId: f.deviceId,
            });
            return broadcast(this.deps.bus, sid, { t: "event", event: ev });
          }
          case "end": {
            const reason = this.side === "caller" ? "ended by the caller" : "ended by the technician";
            if (await endSession(this.deps.db, s, this.side, reason)) {
              await announceEnded(this.deps, sid, this.side, reason);
            }
            return;
          }
        }
      });
    } catch (err) {
      if (err instanceof AppError) return this.send({ t: "status", status: (await this.current()).status });
      this.deps.log.error({ err, sessionId: sid }, "support session frame failed");
    }
  }

  private async current() {
    return this.deps.db
      .selectFrom("support_sessions")
      .selectAll()
      .where("id", "=", this.sessionId!)
      .executeTakeFirstOrThrow();
  }

  private send(frame: SupportServerFrame) {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(frame));
  }

  private toOther(frame: SupportServerFrame) {
    if (!this.sessionId) return;
    const other: Side = this.side === "caller" ? "technician" : "caller";
    this.deps.bus.publish(supportSubject(this.sessionId, other), JSON.stringify(frame));
  }

  private detach() {
    if (!this.unsubscribe) return;
    this.unsubscribe();
    this.unsubscribe = null;
    this.toOther({ t: "peer", present: false });
  }
}

function safeJson(data: Buffer): unknown {
  try {
    return JSON.parse(data.toString("utf8"));
  } catch {
    return null;
  }
}
