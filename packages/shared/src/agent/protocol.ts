import { z } from "zod";
import { CheckResultsFrame, ChecksFrame } from "./checks.ts";
import { ServiceInfo, UpdateInstallResult } from "./commands.ts";
import { Inventory } from "./inventory.ts";

/**
 * The agent protocol: JSON text frames over one WebSocket (`/agent/ws`). The server speaks first with a
 * challenge; nothing but `auth` is accepted until the agent has proved its key. Every frame, both ways,
 * is validated against these schemas; a frame that fails closes the connection (4400).
 */
export const PROTOCOL_VERSION = 1;
export const AGENT_WS_PATH = "/agent/ws";

/** Close codes the agent acts on. */
export const CloseCode = {
  /** Malformed or unexpected frame. */
  badMessage: 4400,
  /** Unknown device or bad signature: retry later (the server may have been restored from backup). */
  authFailed: 4401,
  /** The device was retired: its key is revoked, the agent stops for good. */
  retired: 4403,
  /** The same device connected again elsewhere; this connection is the stale one. */
  replaced: 4409,
  /** No heartbeat for too long. */
  timeout: 4408,
  /** The gateway is shutting down: reconnect with backoff. */
  shutdown: 1001,
} as const;

const b64 = (min: number, max: number) =>
  z
    .string()
    .min(min)
    .max(max)
    .regex(/^[A-Za-z0-9+/]+={0,2}$/, { error: "must be base64" });
/** 32 random bytes. */
export const Nonce = b64(43, 44);
/** An Ed25519 signature (64 bytes). */
export const Signature = b64(86, 88);
/** An Ed25519 public key as base64 SPKI DER (44 bytes). */
export const PublicKey = b64(59, 60);

// The exact bytes each side signs. A context prefix keeps one kind of signature from being replayed as
// another (an auth proof can never pass as a command).
export const agentAuthMessage = (deviceId: string, serverNonce: string, agentNonce: string) =>
  `switchboard/agent-auth/v1\n${deviceId}\n${serverNonce}\n${agentNonce}`;
export const serverAuthMessage = (deviceId: string, serverNonce: string, agentNonce: string) =>
  `switchboard/server-auth/v1\n${deviceId}\n${agentNonce}\n${serverNonce}`;
export const commandMessage = (payload: string) => `switchboard/command/v1\n${payload}`;

// ---- server -> agent ----------------------------------------------------------------------------

export const ChallengeFrame = z.object({
  type: z.literal("challenge"),
  protocol: z.number().int(),
  nonce: Nonce,
  serverTime: z.iso.datetime({ offset: true }),
});
export const WelcomeFrame = z.object({
  type: z.literal("welcome"),
  deviceId: z.uuid(),
  /** The server's signature over serverAuthMessage: the agent checks it against its pinned key. */
  signature: Signature,
  heartbeatSeconds: z.number().int().min(1).max(3600),
  inventoryIntervalSeconds: z
    .number()
    .int()
    .min(10)
    .max(7 * 86_400),
  /** Hash of the inventory the server holds; null when it has none. */
  inventoryHash: z.string().max(100).nullable(),
  serverTime: z.iso.datetime({ offset: true }),
});
export const CommandFrame = z.object({
  type: z.literal("command"),
  /** JSON of CommandPayload, exactly as signed. */
  payload: z.string().max(128 * 1024),
  signature: z.string().max(200),
  /** The one-time key of a sealed field in the payload (a directory reset's password); never stored. */
  key: z.string().max(100).optional(),
});
/** The server lost track of the agent's inventory (a delta on a stale base): send it whole. */
export const InventoryRequestFrame = z.object({ type: z.literal("inventory.request") });

export const ServerFrame = z.discriminatedUnion("type", [
  ChallengeFrame,
  WelcomeFrame,
  CommandFrame,
  InventoryRequestFrame,
  ChecksFrame,
]);
export type ServerFrame = z.infer<typeof ServerFrame>;

// ---- agent -> server ----------------------------------------------------------------------------

export const AuthFrame = z.object({
  type: z.literal("auth"),
  protocol: z.number().int(),
  deviceId: z.uuid(),
  agentNonce: Nonce,
  signature: Signature,
  agentVersion: z.string().max(50),
  /**
   * What this agent understands beyond protocol 1 ("checks": monitoring). Agents from before a feature
   * send none and are never sent its frames (they would close on a frame type they do not know).
   */
  features: z.array(z.string().max(40)).max(20).optional(),
});
export const HeartbeatFrame = z.object({
  type: z.literal("heartbeat"),
  seq: z.number().int().min(0),
});
export const InventoryFrame = z.discriminatedUnion("full", [
  z.object({
    type: z.literal("inventory"),
    full: z.literal(true),
    hash: z.string().max(100),
    inventory: Inventory,
  }),
  z.object({
    type: z.literal("inventory"),
    full: z.literal(false),
    hash: z.string().max(100),
    /** The hash the changes apply to: when the server holds another one it asks for the whole. */
    baseHash: z.string().max(100),
    changes: Inventory.partial(),
  }),
]);
export const CommandStartedFrame = z.object({ type: z.literal("command.started"), commandId: z.uuid() });
export const CommandOutputFrame = z.object({
  type: z.literal("command.output"),
  commandId: z.uuid(),
  stream: z.enum(["stdout", "stderr"]),
  seq: z.number().int().min(0),
  data: z.string().max(64 * 1024),
});
export const CommandResultFrame = z.object({
  type: z.literal("command.result"),
  commandId: z.uuid(),
  status: z.enum(["succeeded", "failed", "timed_out"]),
  exitCode: z.number().int().nullable(),
  truncated: z.boolean(),
  error: z.string().max(2000).optional(),
  services: z.array(ServiceInfo).max(5000).optional(),
  /** updates.install: a result per update asked for, and whether the device now needs a reboot. */
  updates: z.array(UpdateInstallResult).max(500).optional(),
  rebootRequired: z.boolean().optional(),
});
export const RejectReason = z.enum([
  "bad_signature",
  "malformed",
  "wrong_device",
  "expired",
  "replayed",
  "unsupported",
]);
export type RejectReason = z.infer<typeof RejectReason>;
/** The agent refused a command: it is never run, and the server logs and audits the refusal. */
export const CommandRejectedFrame = z.object({
  type: z.literal("command.rejected"),
  commandId: z.string().max(100).nullable(),
  reason: RejectReason,
});

export const AgentFrame = z.discriminatedUnion("type", [
  AuthFrame,
  HeartbeatFrame,
  InventoryFrame,
  CommandStartedFrame,
  CommandOutputFrame,
  CommandResultFrame,
  CommandRejectedFrame,
  CheckResultsFrame,
]);
export type AgentFrame = z.infer<typeof AgentFrame>;

// ---- enrollment (HTTPS, before the agent has an identity) ----------------------------------------

export const EnrollRequest = z.object({
  token: z.string().min(10).max(200),
  publicKey: PublicKey,
  hostname: z.string().min(1).max(255),
  platform: z.enum(["linux", "win32", "darwin", "other"]),
  arch: z.string().max(50),
  osName: z.string().max(300),
  osVersion: z.string().max(300),
  agentVersion: z.string().max(50),
});
export type EnrollRequest = z.infer<typeof EnrollRequest>;
export const EnrollResponse = z.object({
  deviceId: z.uuid(),
  /** The key the agent pins: every welcome and every command must be signed by it. */
  serverPublicKey: PublicKey,
  /** Path of the agent WebSocket on the same origin as the enrollment URL. */
  gatewayPath: z.string(),
  heartbeatSeconds: z.number().int(),
});
export type EnrollResponse = z.infer<typeof EnrollResponse>;
