import { randomBytes } from "node:crypto";
import {
  AgentFrame,
  agentAuthMessage,
  CloseCode,
  isRemoteFrameType,
  PROTOCOL_VERSION,
  serverAuthMessage,
} from "@switchboard/shared";
import type { FastifyBaseLogger as Logger } from "fastify";
import type { WebSocket } from "ws";
import type { z } from "zod";
import type { Database } from "../db/database.ts";
import {
  appendOutput,
  claimQueued,
  finishCommand,
  markStarted,
  recordRejection,
} from "../domains/agents/command-records.ts";
import { commandFrame } from "../domains/agents/commands.ts";
import {
  type FullInventory,
  type HandshakeDevice,
  markOffline,
  type OnlineMark,
  saveInventoryChanges,
} from "../domains/agents/presence.ts";
import { importPublicKey, type ServerKey, signText, verifyText } from "../domains/agents/signing-key.ts";
import type { MonitoringAgentSide } from "../domains/monitoring/agent-side.ts";
import type { Batcher } from "./batcher.ts";
import type { AgentHub, LocalAgent } from "./hub.ts";
import type { AgentRemoteRelay } from "./remote-relay.ts";

export interface SessionContext {
  db: Database;
  hub: AgentHub;
  key: ServerKey;
  log: Logger;
  heartbeatSeconds: number;
  inventoryIntervalSeconds: number;
  /** Devices heard from since the last flush, with the connection that heard them. */
  touched: Map<string, string>;
  stopping: () => boolean;
  /** Handshake lookups and online marks, batched across connections. */
  lookup: Batcher<string, HandshakeDevice | undefined>;
  online: Batcher<OnlineMark, boolean>;
  inventory: Batcher<FullInventory, null>;
  /** Remote sessions (shells, files): their frames are relayed, not processed here. */
  remote?: AgentRemoteRelay;
  /** Monitoring: the device's checks after the welcome, and their results. */
  monitoring?: MonitoringAgentSide;
}

let connSeq = 0;

/**
 * One agent connection: the challenge-response handshake, then frames processed strictly in order (a
 * chain of promises), so output chunks land in the order they were sent and the result after them.
 */
export class AgentSession implements LocalAgent {
  readonly connKey: string;
  readonly address: string;
  lastSeen = Date.now();
  deviceId: string | null = null;
  private clientId = "";
  /** The agent runs monitoring checks (it said so in its auth frame). */
  private checks = false;
  private readonly ws: WebSocket;
  private readonly ctx: SessionContext;
  private readonly nonce = randomBytes(32).toString("base64");
  private chain: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(ws: WebSocket, address: string, ctx: SessionContext) {
    this.ws = ws;
    this.address = address;
    this.ctx = ctx;
    this.connKey = `${ctx.hub.gatewayId}:${++connSeq}`;
    ws.on("message", (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    ws.on("close", (code, reason) => this.onClose(code, reason.toString()));
    // ws reports frames it rejects itself (oversized, bad opcodes, invalid UTF-8) as errors and closes.
    ws.on("error", (err: Error & { code?: string }) => {
      const tooLarge = err.code === "WS_ERR_UNSUPPORTED_MESSAGE_LENGTH";
      ctx.log.warn(
        { address, deviceId: this.deviceId, code: err.code, reason: err.message },
        tooLarge ? "agent frame too large" : "agent protocol error",
      );
    });
    this.send(
      JSON.stringify({
        type: "challenge",
        protocol: PROTOCOL_VERSION,
        nonce: this.nonce,
        serverTime: new Date().toISOString(),
      }),
    );
  }

  get authenticated() {
    return this.deviceId !== null;
  }

  send(frame: string): boolean {
    if (this.closed || this.ws.readyState !== this.ws.OPEN) return false;
    // An agent from before monitoring would close on a checks frame: it never gets one.
    if (!this.checks && frame.startsWith('{"type":"checks"')) return true;
    this.ws.send(frame);
    return true;
  }

  close(code: number, reason: string) {
    if (this.closed) return;
    this.ws.close(code, reason);
    // A peer that does not answer the close handshake is cut off.
    setTimeout(() => this.ws.terminate(), 2000).unref();
  }

  /** Drops the connection with a logged reason; never affects another connection. */
  reject(code: number, reason: string) {
    this.ctx.log.warn(
      { address: this.address, deviceId: this.deviceId, code, reason },
      "agent connection closed",
    );
    this.close(code, reason);
  }

  private onMessage(data: Buffer, isBinary: boolean) {
    if (this.closed) return;
    if (isBinary) return this.reject(CloseCode.badMessage, "binary frames are not part of the protocol");
    let json: unknown;
    const text = data.toString("utf8");
    try {
      json = JSON.parse(text);
    } catch {
      return this.reject(CloseCode.badMessage, "frame is not JSON");
    }
    if (this.authenticated && this.ctx.remote && isRemoteFrameType((json as { type?: unknown })?.type)) {
      this.lastSeen = Date.now();
      return this.ctx.remote.fromAgent(this.deviceId!, this, json, text);
    }
    const parsed = AgentFrame.safeParse(json);
    if (!parsed.success && this.authenticated && (json as { type?: unknown })?.type === "check.results") {
      // One bad batch of results is dropped and logged; the connection and its commands carry on.
      const issue = parsed.error.issues[0];
      this.ctx.log.warn(
        { deviceId: this.deviceId, path: issue?.path.join("."), reason: issue?.message },
        "malformed check results refused",
      );
      return;
    }
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return this.reject(
        CloseCode.badMessage,
        `invalid frame: ${issue?.path.join(".")} ${issue?.message}`.slice(0, 120),
      );
    }
    const frame = parsed.data;
    if (!this.authenticated && frame.type !== "auth")
      return this.reject(CloseCode.badMessage, "expected auth");
    if (this.authenticated && frame.type === "auth")
      return this.reject(CloseCode.badMessage, "already authenticated");
    this.lastSeen = Date.now();
    if (frame.type === "heartbeat") {
      this.ctx.touched.set(this.deviceId!, this.connKey);
      return;
    }
    this.chain = this.chain
      .then(() => this.handle(frame))
      .catch((err) => {
        this.ctx.log.error({ err, deviceId: this.deviceId, type: frame.type }, "agent frame failed");
        this.close(1011, "internal error");
      });
  }

  private async handle(frame: AgentFrame) {
    if (this.closed) return;
    const { db } = this.ctx;
    const deviceId = this.deviceId!;
    switch (frame.type) {
      case "auth":
        return this.authenticate(frame);
      case "inventory":
        if (frame.full) {
          await this.ctx.inventory.add({ deviceId, hash: frame.hash, inventory: frame.inventory });
          return;
        }
        if (!(await saveInventoryChanges(db, deviceId, frame.baseHash, frame.hash, frame.changes))) {
          this.send(JSON.stringify({ type: "inventory.request" }));
        }
        return;
      case "command.started":
        await markStarted(db, deviceId, frame.commandId);
        return this.commandChanged(frame.commandId);
      case "command.output":
        return appendOutput(db, deviceId, frame.commandId, frame.stream, frame.data);
      case "command.result":
        await finishCommand(db, deviceId, frame);
        return this.commandChanged(frame.commandId);
      case "check.results":
        // A failed batch is logged, never the end of the connection: commands and shells carry on.
        await this.ctx.monitoring
          ?.results(deviceId, frame)
          .catch((err) => this.ctx.log.error({ err, deviceId }, "check results not recorded"));
        return;
      case "command.rejected":
        this.ctx.log.warn(
          { deviceId, commandId: frame.commandId, reason: frame.reason },
          "agent refused a command",
        );
        await recordRejection(db, { id: deviceId, clientId: this.clientId }, frame);
        return this.commandChanged(frame.commandId);
    }
  }

  /** What a domain follows of a command (an update install run) moves with it; a failure is logged only. */
  private async commandChanged(commandId: string | null) {
    await this.ctx.monitoring
      ?.commandChanged(commandId)
      .catch((err) => this.ctx.log.error({ err, commandId }, "could not settle the command's install run"));
  }

  private async authenticate(frame: z.infer<typeof AgentFrame> & { type: "auth" }) {
    const { db, hub, key } = this.ctx;
    const device = await this.ctx.lookup.add(frame.deviceId);
    if (!device) return this.reject(CloseCode.authFailed, "unknown device");
    if (device.retired_at) return this.reject(CloseCode.retired, "device retired");
    const ok = verifyText(
      importPublicKey(device.public_key),
      agentAuthMessage(device.id, this.nonce, frame.agentNonce),
      frame.signature,
    );
    if (!ok) return this.reject(CloseCode.authFailed, "bad signature");
    if (this.closed) return;
    this.deviceId = device.id;
    this.clientId = device.client_id;
    this.checks = frame.features?.includes("checks") ?? false;
    hub.register(device.id, this);
    const hasQueued = await this.ctx.online.add({
      deviceId: device.id,
      connKey: this.connKey,
      address: this.address,
    });
    this.send(
      JSON.stringify({
        type: "welcome",
        deviceId: device.id,
        signature: signText(key.privateKey, serverAuthMessage(device.id, this.nonce, frame.agentNonce)),
        heartbeatSeconds: this.ctx.heartbeatSeconds,
        inventoryIntervalSeconds: this.ctx.inventoryIntervalSeconds,
        inventoryHash: device.inventory_hash,
        serverTime: new Date().toISOString(),
      }),
    );
    // After register: a command created from now on is delivered directly, one created before is queued.
    if (hasQueued) for (const c of await claimQueued(db, device.id)) this.send(commandFrame(c));
    await this.ctx.monitoring
      ?.welcome(device.id, (f) => this.send(f))
      .catch((err) => this.ctx.log.error({ err, deviceId: device.id }, "could not send the device's checks"));
  }

  private onClose(code: number, reason: string) {
    if (this.closed) return;
    this.closed = true;
    const deviceId = this.deviceId;
    if (!deviceId) return;
    this.ctx.hub.unregister(deviceId, this);
    this.ctx.remote?.agentGone(deviceId, this);
    this.ctx.touched.delete(deviceId);
    this.ctx.log.debug({ deviceId, code, reason }, "agent disconnected");
    // At shutdown agents are left online: they reconnect to another gateway within the offline delay,
    // and the stale sweep marks the ones that do not.
    if (this.ctx.stopping()) return;
    this.chain = this.chain
      .then(() =>
        markOffline(this.ctx.db, deviceId, this.connKey, code === 4408 ? "no heartbeat" : "disconnected"),
      )
      .catch((err) => this.ctx.log.error({ err, deviceId }, "could not mark device offline"));
  }
}
