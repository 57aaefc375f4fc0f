import { z } from "zod";

/**
 * Remote access over the agent's connection: an interactive shell and file transfers. A session starts
 * with a signed, fresh `remote.open` (like a command: the agent refuses it unsigned, expired or replayed);
 * the frames that follow name the session and travel on the same authenticated connection.
 *
 * Flow control is credit-based in both directions: a side may have at most `window` units (UTF-16 code
 * units of a shell's text, bytes of a file) sent and not yet acknowledged with `remote.ack`. The agent stops
 * reading the shell's output while its window is full, so a `cat` of a large file waits in the kernel's
 * pipe instead of in anyone's memory.
 */
export const remoteOpenMessage = (payload: string) => `switchboard/remote/v1\n${payload}`;
/** The server's signature over an uploaded file's size and digest: the agent keeps only what was signed. */
export const remoteFileMessage = (sessionId: string, size: number, sha256: string) =>
  `switchboard/remote-file/v1\n${sessionId}\n${size}\n${sha256}`;

/** Largest `data` of one frame: 32 KiB of shell text, or a 24 KiB file chunk in base64. */
export const REMOTE_CHUNK = 32 * 1024;
/** Unacknowledged units either side may have in flight. */
export const REMOTE_WINDOW = 256 * 1024;

const Cols = z.number().int().min(2).max(1000);
const Rows = z.number().int().min(1).max(500);
/** An absolute path on the device, no NUL. */
export const RemotePath = z
  .string()
  .min(1)
  .max(4096)
  .refine((p) => !p.includes("\0"), { error: "must not contain NUL" })
  .refine((p) => p.startsWith("/") || /^[A-Za-z]:[\\/]/.test(p), { error: "must be an absolute path" });

export const ShellRequest = z.object({
  kind: z.literal("shell"),
  cols: Cols,
  rows: Rows,
  /** The agent ends the shell after this long without input or output. */
  idleTimeoutSeconds: z.number().int().min(30).max(86_400),
});
export const FilePutRequest = z.object({
  kind: z.literal("file.put"),
  path: RemotePath,
  size: z.number().int().min(0),
});
export const FileGetRequest = z.object({
  kind: z.literal("file.get"),
  path: RemotePath,
  /** The agent refuses a larger file before sending any of it. */
  maxBytes: z.number().int().min(1),
});
export const RemoteRequest = z.discriminatedUnion("kind", [ShellRequest, FilePutRequest, FileGetRequest]);
export type RemoteRequest = z.infer<typeof RemoteRequest>;

/** What the server signs to open a session (the session id is the payload id, remembered against replay). */
export const RemotePayload = z.object({
  v: z.literal(1),
  id: z.uuid(),
  deviceId: z.uuid(),
  issuedAt: z.iso.datetime({ offset: true }),
  expiresAt: z.iso.datetime({ offset: true }),
  request: RemoteRequest,
});
export type RemotePayload = z.infer<typeof RemotePayload>;

const Sid = z.uuid();
const Data = z.string().max(48 * 1024);

// ---- server -> agent ----------------------------------------------------------------------------

export const RemoteOpenFrame = z.object({
  type: z.literal("remote.open"),
  /** JSON of RemotePayload, exactly as signed. */
  payload: z.string().max(16 * 1024),
  signature: z.string().max(200),
});
/** Keystrokes or pasted text for a shell; a base64 chunk of an uploaded file. */
export const RemoteDataFrame = z.object({ type: z.literal("remote.data"), sessionId: Sid, data: Data });
export const RemoteResizeFrame = z.object({
  type: z.literal("remote.resize"),
  sessionId: Sid,
  cols: Cols,
  rows: Rows,
});
/** Credit: `units` more of what the other side sent have been consumed. */
export const RemoteAckFrame = z.object({
  type: z.literal("remote.ack"),
  sessionId: Sid,
  units: z
    .number()
    .int()
    .min(1)
    .max(64 * 1024 * 1024),
});
/** The end of an upload, signed by the server (remoteFileMessage). */
export const RemoteFileEndFrame = z.object({
  type: z.literal("remote.file.end"),
  sessionId: Sid,
  size: z.number().int().min(0),
  sha256: z.string().regex(/^[a-f0-9]{64}$/),
  signature: z.string().max(200),
});
export const RemoteCloseFrame = z.object({
  type: z.literal("remote.close"),
  sessionId: Sid,
  reason: z.string().max(200),
});

export const RemoteServerFrame = z.discriminatedUnion("type", [
  RemoteOpenFrame,
  RemoteDataFrame,
  RemoteResizeFrame,
  RemoteAckFrame,
  RemoteFileEndFrame,
  RemoteCloseFrame,
]);
export type RemoteServerFrame = z.infer<typeof RemoteServerFrame>;

// ---- agent -> server ----------------------------------------------------------------------------

export const RemoteOpenedFrame = z.object({
  type: z.literal("remote.opened"),
  sessionId: Sid,
  /** Shells: what runs on the device ("/bin/bash via script(1)"); downloads: the file's size. */
  detail: z.string().max(300).optional(),
  size: z.number().int().min(0).optional(),
});
export const RemoteFileDoneFrame = z.object({
  type: z.literal("remote.file.done"),
  sessionId: Sid,
  size: z.number().int().min(0),
  sha256: z.string().regex(/^[a-f0-9]{64}$/),
});
export const RemoteClosedFrame = z.object({
  type: z.literal("remote.closed"),
  sessionId: Sid,
  /** "exited", "idle", "closed", or what went wrong. */
  reason: z.string().max(500),
  exitCode: z.number().int().nullable().optional(),
  failed: z.boolean().optional(),
});
export const RemoteRejectReason = z.enum([
  "bad_signature",
  "malformed",
  "wrong_device",
  "expired",
  "replayed",
  "unsupported",
]);
/** The agent refused to open a session; nothing ran. */
export const RemoteRejectedFrame = z.object({
  type: z.literal("remote.rejected"),
  sessionId: z.string().max(100).nullable(),
  reason: RemoteRejectReason,
  detail: z.string().max(300).optional(),
});

export const RemoteAgentFrame = z.discriminatedUnion("type", [
  RemoteOpenedFrame,
  RemoteDataFrame,
  RemoteAckFrame,
  RemoteFileDoneFrame,
  RemoteClosedFrame,
  RemoteRejectedFrame,
]);
export type RemoteAgentFrame = z.infer<typeof RemoteAgentFrame>;

export const isRemoteFrameType = (t: unknown): t is `remote.${string}` =>
  typeof t === "string" && t.startsWith("remote.");
