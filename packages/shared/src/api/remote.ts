import { z } from "zod";
import { RemotePath } from "../agent/remote.ts";
import { Id, Timestamp } from "./common.ts";

// ---- per-client policy ---------------------------------------------------------------------------

export const RemoteRole = z.enum(["admin", "dispatcher", "technician"]);
export const RemotePolicyDto = z.object({
  clientId: Id,
  /** Roles that may open a shell on this client's devices. */
  shellRoles: z.array(RemoteRole),
  /** Roles that may upload files to or download files from them. */
  fileRoles: z.array(RemoteRole),
  /**
   * A shell or a file transfer needs the consent of the person at the machine, given in an attended
   * support session (the technician asks, the caller allows it for that device).
   */
  requireConsent: z.boolean(),
  idleTimeoutSeconds: z.number().int(),
  version: z.number().int(),
  updatedAt: Timestamp.nullable(),
});
export type RemotePolicyDto = z.infer<typeof RemotePolicyDto>;
export const UpdateRemotePolicyRequest = z.object({
  shellRoles: z.array(RemoteRole).max(3),
  fileRoles: z.array(RemoteRole).max(3),
  requireConsent: z.boolean(),
  idleTimeoutSeconds: z.number().int().min(60).max(86_400),
  version: z.number().int().min(1),
});

// ---- remote sessions on a device -----------------------------------------------------------------

export const RemoteSessionKind = z.enum(["shell", "file_upload", "file_download"]);
export const RemoteSessionStatus = z.enum(["requested", "opening", "open", "closed", "failed"]);
export const RemoteSessionDto = z.object({
  id: Id,
  kind: RemoteSessionKind,
  status: RemoteSessionStatus,
  deviceId: Id,
  clientId: Id,
  ticketId: Id.nullable(),
  supportSessionId: Id.nullable(),
  requestedBy: z.string(),
  path: z.string().nullable(),
  bytesIn: z.number(),
  bytesOut: z.number(),
  /** The recording (shells) or the file moved. */
  file: z
    .object({
      name: z.string(),
      sizeBytes: z.number(),
      sha256: z.string(),
      truncated: z.boolean(),
      attachmentId: Id.nullable(),
    })
    .nullable(),
  closeReason: z.string().nullable(),
  lastError: z.string().nullable(),
  createdAt: Timestamp,
  startedAt: Timestamp.nullable(),
  endedAt: Timestamp.nullable(),
});
export type RemoteSessionDto = z.infer<typeof RemoteSessionDto>;
export const RemoteSessionPage = z.object({ items: z.array(RemoteSessionDto) });

export const CreateShellRequest = z.object({
  ticketId: Id.optional(),
  /** The attended session in which the caller consented (when the client's policy requires consent). */
  supportSessionId: Id.optional(),
  cols: z.number().int().min(2).max(1000).default(80),
  rows: z.number().int().min(1).max(500).default(24),
});
export const FileDownloadRequest = z.object({
  path: RemotePath,
  ticketId: Id.optional(),
  supportSessionId: Id.optional(),
});
/** Query of a multipart upload (the file is the body's one part). */
export const FileUploadQuery = z.object({
  path: RemotePath,
  ticketId: Id.optional(),
  supportSessionId: Id.optional(),
});

// ---- the console's shell socket (GET /api/v1/remote/shells/{id}/socket) --------------------------

/** Browser -> server. `ack` returns credit for `n` characters of output written to the terminal. */
export const ShellClientFrame = z.discriminatedUnion("t", [
  z.object({
    t: z.literal("in"),
    d: z
      .string()
      .min(1)
      .max(16 * 1024),
  }),
  z.object({
    t: z.literal("resize"),
    cols: z.number().int().min(2).max(1000),
    rows: z.number().int().min(1).max(500),
  }),
  z.object({
    t: z.literal("ack"),
    n: z
      .number()
      .int()
      .min(1)
      .max(64 * 1024 * 1024),
  }),
  z.object({ t: z.literal("close") }),
]);
export type ShellClientFrame = z.infer<typeof ShellClientFrame>;

/**
 * Server -> browser: `out` terminal output; `credit` input characters the device has taken (a paste is
 * sent within a window); `state` the session's progress; `closed` the end (the socket closes after it).
 */
export type ShellServerFrame =
  | { t: "out"; d: string }
  | { t: "credit"; n: number }
  | { t: "state"; status: "opening" | "open"; detail?: string }
  | { t: "closed"; reason: string; failed: boolean; recording: boolean };

/** Characters of input in flight before the browser waits for credit. */
export const SHELL_INPUT_WINDOW = 64 * 1024;
