import { type RemoteAgentFrame, RemoteAgentFrame as RemoteAgentFrameSchema } from "@switchboard/shared";
import type { FastifyBaseLogger as Logger } from "fastify";
import type { LocalAgent } from "./hub.ts";
import { agentSubject, consoleSubject, type RemoteBus } from "./remote-bus.ts";

/** What reaches the console's end: the frame, with the device the gateway authenticated it from. */
export interface FromAgent {
  deviceId: string;
  frame: RemoteAgentFrame;
}

interface Relayed {
  deviceId: string;
  agent: LocalAgent;
  unsubscribe: () => void;
}

/**
 * The gateway's end of remote sessions. Frames from an agent go to the session's console subject, stamped
 * with the device id the connection proved; once the agent has opened a session, the gateway takes the
 * console's frames for it (a subject that names the device) and writes them to the agent's socket.
 */
export class AgentRemoteRelay {
  private readonly bus: RemoteBus;
  private readonly log: Logger;
  private readonly sessions = new Map<string, Relayed>();

  constructor(bus: RemoteBus, log: Logger) {
    this.bus = bus;
    this.log = log;
  }

  get open() {
    return this.sessions.size;
  }

  /** A frame whose type starts with "remote." from an authenticated agent (`text` is its JSON). */
  fromAgent(deviceId: string, agent: LocalAgent, raw: unknown, text: string) {
    const parsed = RemoteAgentFrameSchema.safeParse(raw);
    const sid = (raw as { sessionId?: unknown }).sessionId;
    if (!parsed.success) {
      // A bad frame about a session ends that session: the agent's connection and its other sessions stay.
      this.log.warn(
        { deviceId, sessionId: sid, issue: parsed.error.issues[0]?.message },
        "bad remote frame from an agent",
      );
      if (typeof sid === "string" && this.sessions.get(sid)?.deviceId === deviceId) {
        agent.send(JSON.stringify({ type: "remote.close", sessionId: sid, reason: "malformed frame" }));
        this.end(sid, {
          type: "remote.closed",
          sessionId: sid,
          reason: "the device sent a malformed frame",
          failed: true,
        });
      }
      return;
    }
    const frame = parsed.data;
    if (frame.type === "remote.rejected") {
      if (frame.sessionId) this.toConsole(frame.sessionId, deviceId, text);
      return;
    }
    const known = this.sessions.get(frame.sessionId);
    // A session that failed before it opened (the console checks the device id on everything).
    if (frame.type === "remote.closed" && !known) return this.toConsole(frame.sessionId, deviceId, text);
    if (frame.type === "remote.opened" && !known) {
      const unsubscribe = this.bus.subscribe(agentSubject(frame.sessionId, deviceId), (data) => {
        if (!agent.send(data)) this.end(frame.sessionId, closed(frame.sessionId, "the device disconnected"));
      });
      this.sessions.set(frame.sessionId, { deviceId, agent, unsubscribe });
    } else if (!known || known.deviceId !== deviceId) {
      return; // not a session this device opened
    }
    this.toConsole(frame.sessionId, deviceId, text);
    if (frame.type === "remote.closed") this.forget(frame.sessionId);
  }

  /** The agent's connection closed: its sessions end. */
  agentGone(deviceId: string, agent: LocalAgent) {
    for (const [sid, s] of [...this.sessions]) {
      if (s.deviceId === deviceId && s.agent === agent) this.end(sid, closed(sid, "the device disconnected"));
    }
  }

  private end(sid: string, frame: RemoteAgentFrame) {
    const s = this.sessions.get(sid);
    if (!s) return;
    this.forget(sid);
    this.toConsole(sid, s.deviceId, JSON.stringify(frame));
  }

  private forget(sid: string) {
    this.sessions.get(sid)?.unsubscribe();
    this.sessions.delete(sid);
  }

  private toConsole(sid: string, deviceId: string, frameText: string) {
    this.bus.publish(consoleSubject(sid), `{"deviceId":${JSON.stringify(deviceId)},"frame":${frameText}}`);
  }
}

const closed = (sessionId: string, reason: string): RemoteAgentFrame => ({
  type: "remote.closed",
  sessionId,
  reason,
  failed: true,
});
