import { createHash } from "node:crypto";
import { createReadStream, createWriteStream } from "node:fs";
import { rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { REMOTE_WINDOW, type RemoteAgentFrame, type RemoteRequest } from "@switchboard/shared";
import { asSystem } from "../../db/scope.ts";
import { AppError } from "../../http/errors.ts";
import type { StoredBlob } from "../../lib/blob-store.ts";
import type { Actor } from "../auth/actor.ts";
import { newSessionId, RemoteChannel, type RemoteRuntime } from "./channel.ts";
import { authorizeRemote } from "./policy.ts";
import { createSessionRow, finishSessionRow, markSession } from "./records.ts";
import { spoolUpload } from "./spool.ts";

/** A file chunk before base64 (the agent's frames carry at most 32 KiB of base64). */
const CHUNK = 24 * 1024;
/** Silence from the agent for this long fails a transfer. */
const STALL_MS = 30_000;

interface Target {
  path: string;
  ticketId?: string;
  supportSessionId?: string;
}

/**
 * Uploads a file to a device: the request body is spooled to disk while hashed (bounded memory, and the
 * size the agent must expect becomes known), then streamed to the agent within its window, then the
 * signed size and SHA-256; the agent renames it into place only if they match what it received. The file
 * is kept as an attachment of the ticket.
 */
export async function uploadToDevice(
  rt: RemoteRuntime,
  actor: Actor,
  deviceId: string,
  target: Target,
  file: { filename: string; stream: Readable & { truncated?: boolean } },
) {
  const auth = await authorizeRemote(rt.db, actor, deviceId, "files", target);
  const {
    file: spool,
    sha256,
    size,
  } = await spoolUpload(rt.blobs, file.stream, rt.config.REMOTE_FILE_MAX_BYTES);
  const id = newSessionId();
  await createSessionRow(rt.db, actor, id, auth, "file_upload", { path: target.path, status: "opening" });
  const name = path.basename(file.filename || target.path) || "upload";
  const result = await runTransfer(
    rt,
    id,
    deviceId,
    { kind: "file.put", path: target.path, size },
    async (t) => {
      for await (const chunk of createReadStream(spool, { highWaterMark: CHUNK }) as AsyncIterable<Buffer>) {
        await t.credit(chunk.length);
        t.channel.send({ type: "remote.data", data: chunk.toString("base64") });
      }
      await t.channel.sendFileEnd(size, sha256);
    },
  );
  let blob: (StoredBlob & { name: string; contentType: string }) | null = null;
  if (result.ok && result.sha256 !== sha256) {
    result.ok = false;
    result.reason = "the device reported another SHA-256";
  }
  if (result.ok)
    blob = { ...(await rt.blobs.putFile(spool, sha256)), name, contentType: "application/octet-stream" };
  else await rm(spool, { force: true });
  return finish(rt, actor, id, result, blob, { bytesIn: size, bytesOut: 0 });
}

/**
 * Downloads a file from a device into the blob store, hashed as it arrives; it must match the size and
 * SHA-256 the agent computed while reading it. Kept as an attachment of the ticket.
 */
export async function downloadFromDevice(rt: RemoteRuntime, actor: Actor, deviceId: string, target: Target) {
  const auth = await authorizeRemote(rt.db, actor, deviceId, "files", target);
  const id = newSessionId();
  await createSessionRow(rt.db, actor, id, auth, "file_download", { path: target.path, status: "opening" });
  const spool = path.join(await rt.blobs.tempDir(), `${id}.download`);
  const out = createWriteStream(spool, { mode: 0o600 });
  const hash = createHash("sha256");
  let size = 0;
  const max = rt.config.REMOTE_FILE_MAX_BYTES;
  const result = await runTransfer(
    rt,
    id,
    deviceId,
    { kind: "file.get", path: target.path, maxBytes: max },
    async () => {},
    (data, t) => {
      const chunk = Buffer.from(data, "base64");
      size += chunk.length;
      if (size > max) return t.fail("the device sent more than the size limit");
      hash.update(chunk);
      // Credit goes back once the chunk is on disk: a slow disk slows the device down.
      out.write(chunk, () => t.channel.send({ type: "remote.ack", units: chunk.length }));
    },
  );
  await new Promise<void>((resolve) => out.end(() => resolve()));
  const digest = hash.digest("hex");
  if (result.ok && (result.sha256 !== digest || result.size !== size || (await stat(spool)).size !== size)) {
    result.ok = false;
    result.reason = "what arrived does not match the size and SHA-256 the device computed";
  }
  let blob: (StoredBlob & { name: string; contentType: string }) | null = null;
  if (result.ok) {
    const name = path.basename(target.path.replace(/\\/g, "/")) || "download";
    blob = { ...(await rt.blobs.putFile(spool, digest)), name, contentType: "application/octet-stream" };
  } else await rm(spool, { force: true });
  return finish(rt, actor, id, result, blob, { bytesIn: 0, bytesOut: size });
}

interface TransferResult {
  ok: boolean;
  reason: string;
  sha256?: string;
  size?: number;
  startedAt: Date | null;
}

interface Transfer {
  channel: RemoteChannel;
  /** Waits until `units` more fit in the agent's window. */
  credit(units: number): Promise<void>;
  fail(reason: string): void;
}

/** Opens the session on the agent, runs `send` once it is open, and settles on its done or closed frame. */
function runTransfer(
  rt: RemoteRuntime,
  id: string,
  deviceId: string,
  request: RemoteRequest,
  send: (t: Transfer) => Promise<void>,
  onData?: (data: string, t: Transfer) => void,
): Promise<TransferResult> {
  return new Promise((resolve) => {
    let unacked = 0;
    let waiting: (() => void) | null = null;
    let settled = false;
    let startedAt: Date | null = null;
    let done: { size: number; sha256: string } | null = null;
    let stall: NodeJS.Timeout;
    const settle = (r: Omit<TransferResult, "startedAt">, tellAgent?: string) => {
      if (settled) return;
      settled = true;
      clearTimeout(stall);
      channel.close(tellAgent);
      waiting?.();
      resolve({ ...r, startedAt });
    };
    const alive = () => {
      clearTimeout(stall);
      stall = setTimeout(
        () => settle({ ok: false, reason: "the device stopped answering" }, "stalled"),
        STALL_MS,
      );
      stall.unref();
    };
    const t: Transfer = {
      get channel() {
        return channel;
      },
      credit: async (units) => {
        while (!settled && unacked + units > REMOTE_WINDOW) {
          await new Promise<void>((r) => {
            waiting = r;
          });
        }
        if (settled) throw new Error("transfer ended");
        unacked += units;
      },
      fail: (reason) => settle({ ok: false, reason }, reason),
    };
    const channel = new RemoteChannel(rt, id, deviceId, (f: RemoteAgentFrame) => {
      alive();
      switch (f.type) {
        case "remote.opened":
          startedAt = new Date();
          void asSystem(() => markSession(rt.db, id, "open")).catch(() => {});
          send(t).catch((err: Error) => {
            if (!settled) settle({ ok: false, reason: err.message }, err.message);
          });
          return;
        case "remote.ack": {
          unacked = Math.max(0, unacked - f.units);
          const w = waiting;
          waiting = null;
          w?.();
          return;
        }
        case "remote.data":
          onData?.(f.data, t);
          return;
        case "remote.file.done":
          done = { size: f.size, sha256: f.sha256 };
          return;
        case "remote.closed":
          if (!f.failed && done) return settle({ ok: true, reason: "done", ...done });
          return settle({ ok: false, reason: f.reason });
        case "remote.rejected":
          return settle({ ok: false, reason: `the device refused it: ${f.reason}` });
      }
    });
    alive();
    channel.open(request).then(
      (delivered) => {
        if (!delivered) settle({ ok: false, reason: "the device is not connected" });
      },
      (err: Error) => settle({ ok: false, reason: err.message }),
    );
  });
}

async function finish(
  rt: RemoteRuntime,
  actor: Actor,
  id: string,
  result: TransferResult,
  blob: (StoredBlob & { name: string; contentType: string }) | null,
  bytes: { bytesIn: number; bytesOut: number },
) {
  const row = await finishSessionRow(rt.db, actor, id, {
    status: result.ok ? "closed" : "failed",
    reason: result.ok ? "done" : result.reason,
    startedAt: result.startedAt,
    blob,
    ...bytes,
  });
  if (!row) throw new AppError("conflict", 409, "The transfer was ended elsewhere");
  return row;
}
