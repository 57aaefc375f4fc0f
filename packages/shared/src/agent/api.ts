import { z } from "zod";
import { Id, Timestamp } from "../api/common.ts";
import { AgentCommand, AgentCommandKind, ServiceInfo, SignedCommand } from "./commands.ts";
import { Inventory } from "./inventory.ts";

export const CreateEnrollmentTokenRequest = z.object({
  clientId: Id,
  siteId: Id.nullable().optional(),
  label: z.string().trim().max(200).default(""),
  /** Hours until the token stops working. */
  expiresInHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 365)
    .default(24 * 7),
  /** How many machines may enroll with it. */
  maxUses: z.number().int().min(1).max(100_000).default(1),
});
export type CreateEnrollmentTokenRequest = z.input<typeof CreateEnrollmentTokenRequest>;

export const EnrollmentTokenDto = z.object({
  id: Id,
  clientId: Id,
  siteId: Id.nullable(),
  label: z.string(),
  prefix: z.string(),
  maxUses: z.number().int(),
  uses: z.number().int(),
  expiresAt: Timestamp,
  revokedAt: Timestamp.nullable(),
  createdAt: Timestamp,
  status: z.enum(["active", "expired", "revoked", "exhausted"]),
});
/** Per OS the install command, or "" when this server has no build for it (see `platforms`). */
export const InstallCommands = z.object({ linux: z.string(), macos: z.string(), windows: z.string() });
/** Per OS: whether this server can serve the install (its builds exist), the command, and what to know. */
export const PlatformInstall = z.object({
  key: z.enum(["linux", "macos", "windows"]),
  available: z.boolean(),
  command: z.string().nullable(),
  note: z.string().nullable(),
});
/** Returned once, at creation: the token itself is stored only as a hash. */
export const CreatedEnrollmentTokenDto = EnrollmentTokenDto.extend({
  token: z.string(),
  serverKeyFingerprint: z.string(),
  installCommands: InstallCommands,
  platforms: z.array(PlatformInstall),
});
export const EnrollmentTokenQuery = z.object({ clientId: Id.optional() });

export const DeviceStatus = z.enum(["online", "offline", "retired"]);
export const DeviceDto = z.object({
  id: Id,
  clientId: Id,
  siteId: Id.nullable(),
  hostname: z.string(),
  platform: z.string(),
  osName: z.string(),
  osVersion: z.string(),
  arch: z.string(),
  agentVersion: z.string(),
  status: DeviceStatus,
  lastSeenAt: Timestamp.nullable(),
  lastAddress: z.string().nullable(),
  enrolledAt: Timestamp,
  retiredAt: Timestamp.nullable(),
  inventoryUpdatedAt: Timestamp.nullable(),
  /** Set on a temporary device of the one-time support agent: it lives as long as this support session. */
  supportSessionId: Id.nullable(),
  /** Lowercase labels (sql-server, backup) that tag policies target. */
  tags: z.array(z.string()),
});
export type DeviceDto = z.infer<typeof DeviceDto>;
export const DeviceDetailDto = DeviceDto.extend({ inventory: Inventory.nullable() });
export const DeviceQuery = z.object({
  clientId: Id.optional(),
  siteId: Id.optional(),
  status: DeviceStatus.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
});
export const DevicePage = z.object({ items: z.array(DeviceDto), nextCursor: z.string().nullable() });

export const CommandStatus = z.enum([
  "queued",
  "sent",
  "running",
  "succeeded",
  "failed",
  "timed_out",
  "refused",
  "expired",
]);
export type CommandStatus = z.infer<typeof CommandStatus>;
export const CreateCommandRequest = z.object({
  command: AgentCommand,
  /** Writes the command and its outcome on this ticket's timeline (the ticket must be the device's client's). */
  ticketId: Id.optional(),
  /** The agent refuses the command after this; an offline device gets it on reconnect until then. */
  expiresInSeconds: z.number().int().min(10).max(86_400).default(600),
});
export type CreateCommandRequest = z.input<typeof CreateCommandRequest>;
export const CommandDto = z.object({
  id: Id,
  deviceId: Id,
  clientId: Id,
  ticketId: Id.nullable(),
  kind: AgentCommandKind,
  command: SignedCommand,
  status: CommandStatus,
  requestedBy: z.object({ userId: Id.nullable(), label: z.string() }),
  createdAt: Timestamp,
  expiresAt: Timestamp,
  sentAt: Timestamp.nullable(),
  startedAt: Timestamp.nullable(),
  finishedAt: Timestamp.nullable(),
  exitCode: z.number().int().nullable(),
  stdout: z.string(),
  stderr: z.string(),
  truncated: z.boolean(),
  error: z.string().nullable(),
  services: z.array(ServiceInfo).nullable(),
});
export type CommandDto = z.infer<typeof CommandDto>;
export const CommandPage = z.object({ items: z.array(CommandDto), nextBefore: Timestamp.nullable() });
export const CommandHistoryQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** Commands created before this instant (keyset on created_at). */
  before: Timestamp.optional(),
});
