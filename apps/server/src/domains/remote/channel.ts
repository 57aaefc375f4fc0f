import { randomUUID } from "node:crypto";
import {
  type RemoteAgentFrame,
  RemoteAgentFrame as RemoteAgentFrameSchema,
  type RemotePayload,
  type RemoteRequest,
  remoteFileMessage,
  remoteOpenMessage,
} from "@switchboard/shared";
import type { FastifyBaseLogger as Logger } from "fastify";
import type { Config } from "../../config.ts";
import type { Database } from "../../db/database.ts";
import type { AgentHub } from "../../gateway/hub.ts";
import { agentSubject, consoleSubject, type RemoteBus } from "../../gateway/remote-bus.ts";
import type { AgentRemoteRelay } from "../../gateway/remote-relay.ts";
import type { BlobStore } from "../../lib/blob-store.ts";
import { type ServerKey, signText } from "../agents/signing-key.ts";

/** What every part of remote access needs in a process. */
export interface RemoteRuntime {
  db: Database;
  blobs: BlobStore;
  config: Config;
  log: Logger;
  hub: AgentHub;
  bus: RemoteBus;
  serverKey: () => Promise<ServerKey>;
  /** The gateway's end (used by the gateway role of this process). */
  agentSide: AgentRemoteRelay;
}

/** How long a signed open is valid: the agent must receive it now, not later. */
const OPEN_TTL_MS = 60_000;

export const newSessionId = () => randomUUID();

/**
 * The console's end of one remote session: frames from the agent arrive on the session's console subject
 * (checked to come from the session's device), frames to it go on the subject its gateway holds.
 */
export class RemoteChannel {
  readonly sessionId: string;
  readonly deviceId: string;
  private readonly rt: RemoteRuntime;
  private readonly unsubscribe: () => void;
  private readonly toAgent: string;
  private closed = false;

  constructor(
    rt: RemoteRuntime,
    sessionId: string,
    deviceId: string,
    onFrame: (f: RemoteAgentFrame) => void,
  ) {
    this.rt = rt;
    this.sessionId = sessionId;
    this.deviceId = deviceId;
    this.toAgent = agentSubject(sessionId, deviceId);
    this.unsubscribe = rt.bus.subscribe(consoleSubject(sessionId), (text) => {
      if (this.closed) return;
      let msg: { deviceId?: unknown; frame?: unknown };
      try {
        msg = JSON.parse(text) as typeof msg;
      } catch {
        return;
      }
      if (msg.deviceId !== deviceId) return;
      const parsed = RemoteAgentFrameSchema.safeParse(msg.frame);
      if (parsed.success && parsed.data.sessionId === sessionId) onFrame(parsed.data);
    });
  }

  /** Signs the request and hands it to the agent's gateway; false when the device is connected nowhere. */
  async open(request: RemoteRequest): Promise<boolean> {
    const key = await this.rt.serverKey();
    const now = Date.now();
    const payload: RemotePayload = {
      v: 1,
      id: this.sessionId,
      deviceId: this.deviceId,
      issuedAt: new Date(now).toISOString(),
      expiresAt: new Date(now + OPEN_TTL_MS).toISOString(),
      request,
    };
    const text = JSON.stringify(payload);
    const frame = {
      type: "remote.open",
      payload: text,
      signature: signText(key.privateKey, remoteOpenMessage(text)),
    };
    return this.rt.hub.deliver(this.deviceId, JSON.stringify(frame));
  }

  send(frame: Record<string, unknown>) {
    if (this.closed) return;
    this.rt.bus.publish(this.toAgent, JSON.stringify({ ...frame, sessionId: this.sessionId }));
  }

  /** The signed end of an upload. */
  async sendFileEnd(size: number, sha256: string) {
    const key = await this.rt.serverKey();
    this.send({
      type: "remote.file.end",
      size,
      sha256,
      signature: signText(key.privateKey, remoteFileMessage(this.sessionId, size, sha256)),
    });
  }

  close(reason?: string) {
    if (this.closed) return;
    if (reason) this.send({ type: "remote.close", reason: reason.slice(0, 200) });
    this.closed = true;
    this.unsubscribe();
  }
}
