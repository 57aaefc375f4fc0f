import { z } from "zod";
import { Id, Timestamp } from "./common.ts";

// Attended support sessions: a technician mints a 6-digit code on a ticket; the caller enters it on the
// public page /join, sees who is asking, consents, and shares their screen; chat and files both ways.

export const SupportSessionStatus = z.enum(["waiting", "joined", "active", "ended", "expired", "cancelled"]);
export const SupportEventDto = z.object({
  id: z.string(),
  kind: z.enum([
    "minted",
    "joined",
    "consent",
    "consent_request",
    "chat",
    "file",
    "screen",
    "ended",
    "agent",
  ]),
  actor: z.enum(["technician", "caller", "system"]),
  body: z.string(),
  data: z.record(z.string(), z.unknown()).nullable(),
  createdAt: Timestamp,
});
export type SupportEventDto = z.infer<typeof SupportEventDto>;

export const SupportSessionDto = z.object({
  id: Id,
  ticketId: Id,
  ticketNumber: z.number().int(),
  ticketSubject: z.string(),
  clientId: Id,
  technicianName: z.string(),
  status: SupportSessionStatus,
  codeExpiresAt: Timestamp,
  callerAddress: z.string().nullable(),
  joinedAt: Timestamp.nullable(),
  consentedAt: Timestamp.nullable(),
  endedAt: Timestamp.nullable(),
  endedBy: z.enum(["technician", "caller", "system"]).nullable(),
  endReason: z.string().nullable(),
  createdAt: Timestamp,
  events: z.array(SupportEventDto),
  /** STUN/TURN servers for the screen share (REMOTE_ICE_SERVERS). */
  iceServers: z.array(z.lazy(() => IceServer)),
  /** Machines the caller ran the one-time support agent on (control and shell on request). */
  supportDevices: z.array(z.lazy(() => SupportDeviceDto)),
});
export type SupportSessionDto = z.infer<typeof SupportSessionDto>;
export const MintedSupportSessionDto = SupportSessionDto.extend({
  /** The 6 digits to read to the caller: shown once, stored only as a hash. */
  code: z.string().regex(/^\d{6}$/),
});
export type MintedSupportSessionDto = z.infer<typeof MintedSupportSessionDto>;

export const IceServer = z.object({
  urls: z.union([z.string(), z.array(z.string())]),
  username: z.string().optional(),
  credential: z.string().optional(),
});

/** What the caller sees once the code was right: who is asking, before they consent to anything. */
export const CallerSessionDto = z.object({
  technicianName: z.string(),
  mspName: z.string(),
  ticketNumber: z.number().int(),
  ticketSubject: z.string(),
  status: SupportSessionStatus,
  iceServers: z.array(IceServer),
  events: z.array(SupportEventDto),
});
export type CallerSessionDto = z.infer<typeof CallerSessionDto>;

export const JoinRequest = z.object({
  code: z
    .string()
    .trim()
    .transform((v) => v.replace(/[\s-]/g, ""))
    .pipe(z.string().regex(/^\d{6}$/, { error: "must be the 6 digits your technician gave you" })),
});
export const JoinResponse = z.object({
  /** The caller's credential for this session only: send it as the `x-support-token` header. */
  token: z.string(),
  session: CallerSessionDto,
});

/**
 * `control`: the caller runs the one-time support agent on their own machine, which gives the technician
 * a shell and file transfers on it until the session ends.
 */
export const ConsentScope = z.enum(["session", "shell", "files", "control"]);
export const CallerConsentRequest = z.object({
  /** `session`: screen sharing, chat and files with this technician. `shell`/`files`: on one device. */
  scope: ConsentScope,
  deviceId: Id.optional(),
  granted: z.boolean(),
});

export const SupportJoinActivityDto = z.object({
  windowMinutes: z.number().int(),
  liveCodes: z.number().int(),
  failedInWindow: z.number().int(),
  /** Sum of the live codes at each failed attempt in the window, against the budget below. */
  riskUsed: z.number().int(),
  riskBudget: z.number().int(),
  throttledInWindow: z.number().int(),
  topAddresses: z.array(z.object({ address: z.string(), failed: z.number().int() })),
});

// ---- the session's sockets: technician GET /api/v1/support-sessions/{id}/socket, caller GET /api/v1/join/socket

/** WebRTC signalling (an SDP offer or answer, or an ICE candidate), passed through as it is. */
const Signal = z
  .record(z.string(), z.unknown())
  .refine((v) => JSON.stringify(v).length <= 16 * 1024, { error: "too large" });

export const SupportClientFrame = z.discriminatedUnion("t", [
  /** The caller's first frame: its token (browsers cannot set headers on a WebSocket). */
  z.object({ t: z.literal("auth"), token: z.string().min(10).max(200) }),
  z.object({ t: z.literal("chat"), text: z.string().trim().min(1).max(2000) }),
  z.object({ t: z.literal("signal"), data: Signal }),
  /**
   * Technician only: ask the caller to allow a shell or file transfers on one of the client's devices
   * (`deviceId`), or `control`: to run the one-time support agent on the caller's own machine.
   */
  z.object({
    t: z.literal("consent.request"),
    scope: z.enum(["shell", "files", "control"]),
    deviceId: Id.optional(),
  }),
  z.object({ t: z.literal("screen"), sharing: z.boolean() }),
  z.object({ t: z.literal("end") }),
]);
export type SupportClientFrame = z.infer<typeof SupportClientFrame>;

export type SupportServerFrame =
  | { t: "ready"; status: z.infer<typeof SupportSessionStatus> }
  | { t: "event"; event: SupportEventDto }
  | { t: "signal"; data: Record<string, unknown> }
  | { t: "peer"; present: boolean; answer?: boolean }
  | { t: "status"; status: z.infer<typeof SupportSessionStatus> }
  | { t: "ended"; by: "technician" | "caller" | "system"; reason: string };

// ---- control and shell on request: the one-time support agent ------------------------------------

export const SupportDeviceDto = z.object({
  id: Id,
  hostname: z.string(),
  platform: z.string(),
  status: z.enum(["online", "offline", "retired"]),
  enrolledAt: Timestamp,
  retiredAt: Timestamp.nullable(),
});
export type SupportDeviceDto = z.infer<typeof SupportDeviceDto>;

/** One way to run the support agent on the caller's machine. */
export const SupportAgentDownload = z.object({
  key: z.enum(["linux", "macos", "windows"]),
  label: z.string(),
  /** This server has the build (npm run build:agent). */
  available: z.boolean(),
  /** The executable itself (the same signed build every agent gets; nothing about the caller in it). */
  url: z.string().nullable(),
  /** One line for a terminal that downloads it to a temporary folder and runs it with the code. */
  command: z.string().nullable(),
  note: z.string().nullable(),
});

/** What the caller gets after allowing control: the code for the support agent, shown once. */
export const SupportAgentOfferDto = z.object({
  /** Single use, bound to this session, stored only as a hash; give it to `switchboard-agent support`. */
  code: z.string(),
  expiresAt: Timestamp,
  serverUrl: z.string(),
  serverKeyFingerprint: z.string(),
  downloads: z.array(SupportAgentDownload),
});
export type SupportAgentOfferDto = z.infer<typeof SupportAgentOfferDto>;
