import { type KeyObject, verify } from "node:crypto";
import { StringDecoder } from "node:string_decoder";
import {
  REMOTE_CHUNK,
  REMOTE_WINDOW,
  type RemoteAgentFrame,
  RemotePayload,
  type RemoteServerFrame,
  remoteFileMessage,
  remoteOpenMessage,
} from "@switchboard/shared";
import { type ReplayGuard, verifySigned } from "../commands/verify.ts";
import type { Log } from "../log.ts";
import { FileGet, FilePut } from "./files.ts";
import { openPty, type Pty, PtyUnsupported } from "./pty.ts";

/** A remote open must be used at once: the server signs it for a minute, the agent accepts ten at most. */
const MAX_OPEN_LIFETIME_MS = 10 * 60_000;

export interface RemoteHost {
  serverKey: KeyObject;
  deviceId: string;
  guard: ReplayGuard;
  serverNow(): number;
  /** Sends now if connected; remote frames are never queued for a later connection. */
  send(frame: RemoteAgentFrame): void;
  log: Log;
}

interface Session {
  handle(frame: RemoteServerFrame): void;
  stop(reason: string): void;
}

/**
 * The device's remote sessions: shells and file transfers opened by signed, fresh requests. A bad frame
 * about one session ends that session only; the connection and the other sessions go on.
 */
export class RemoteSessions {
  private readonly host: RemoteHost;
  private readonly sessions = new Map<string, Session>();

  constructor(host: RemoteHost) {
    this.host = host;
  }

  get count() {
    return this.sessions.size;
  }

  /** A frame whose type starts with "remote.", already parsed as JSON. */
  onFrame(raw: unknown, parse: (raw: unknown) => RemoteServerFrame | null) {
    const frame = parse(raw);
    if (!frame) {
      const sid = (raw as { sessionId?: unknown }).sessionId;
      if (typeof sid === "string") this.end(sid, "malformed frame from the server", true);
      return;
    }
    if (frame.type === "remote.open") return this.open(frame);
    const s = this.sessions.get(frame.sessionId);
    if (!s) return;
    if (frame.type === "remote.close") return this.end(frame.sessionId, frame.reason || "closed", false);
    s.handle(frame);
  }

  /** The connection is gone: nobody can see these sessions any more. */
  closeAll(reason: string) {
    for (const [id, s] of [...this.sessions]) {
      this.sessions.delete(id);
      s.stop(reason);
    }
  }

  private end(id: string, reason: string, failed: boolean) {
    const s = this.sessions.get(id);
    if (!s) return;
    this.sessions.delete(id);
    s.stop(reason);
    this.host.send({ type: "remote.closed", sessionId: id, reason, failed });
  }

  private open(frame: { payload: string; signature: string }) {
    const h = this.host;
    const verdict = verifySigned(h.serverKey, h.deviceId, frame, h.guard, h.serverNow(), {
      message: remoteOpenMessage,
      schema: RemotePayload,
      maxLifetimeMs: MAX_OPEN_LIFETIME_MS,
    });
    if (!verdict.ok) {
      h.log("warn", "refused a remote session", { reason: verdict.reason, sessionId: verdict.commandId });
      h.send({ type: "remote.rejected", sessionId: verdict.commandId, reason: verdict.reason });
      return;
    }
    const { id, request } = verdict.payload;
    const finished = (reason: string, failed: boolean, exitCode?: number | null) => {
      if (!this.sessions.delete(id)) return;
      h.send({ type: "remote.closed", sessionId: id, reason, failed, exitCode });
      h.log("info", "remote session ended", { sessionId: id, reason });
    };
    const send = (f: RemoteAgentFrame) => h.send(f);
    try {
      let session: Session;
      if (request.kind === "shell") session = new ShellSession(id, request, send, finished);
      else if (request.kind === "file.put") {
        session = new FilePut(id, request, send, finished, (size, sha256, signature) =>
          verifyFileEnd(h.serverKey, id, size, sha256, signature),
        );
      } else session = new FileGet(id, request, send, finished);
      this.sessions.set(id, session);
      h.log("info", "remote session opened", { sessionId: id, kind: request.kind });
    } catch (err) {
      const unsupported = err instanceof PtyUnsupported;
      h.log("warn", "could not open a remote session", { sessionId: id, error: (err as Error).message });
      if (unsupported) {
        h.send({
          type: "remote.rejected",
          sessionId: id,
          reason: "unsupported",
          detail: (err as Error).message,
        });
      } else {
        h.send({
          type: "remote.closed",
          sessionId: id,
          reason: (err as Error).message.slice(0, 500),
          failed: true,
        });
      }
    }
  }
}

function verifyFileEnd(key: KeyObject, id: string, size: number, sha256: string, signature: string) {
  try {
    return verify(
      null,
      Buffer.from(remoteFileMessage(id, size, sha256)),
      key,
      Buffer.from(signature, "base64"),
    );
  } catch {
    return false;
  }
}

type Finished = (reason: string, failed: boolean, exitCode?: number | null) => void;

/**
 * One shell on a PTY. Output goes out in frames of at most REMOTE_CHUNK characters while fewer than
 * REMOTE_WINDOW are unacknowledged; past that the PTY's output is paused, so the shell blocks in write(2).
 */
class ShellSession implements Session {
  private readonly id: string;
  private readonly pty: Pty;
  private readonly send: (f: RemoteAgentFrame) => void;
  private readonly finished: Finished;
  private readonly decoder = new StringDecoder("utf8");
  private unacked = 0;
  private paused = false;
  private lastActivity = Date.now();
  private readonly idleTimer: NodeJS.Timeout;
  private stopReason: string | null = null;
  /** Input and resizes, applied one after the other in the order they came. */
  private queue: Promise<void> = Promise.resolve();

  constructor(
    id: string,
    req: { cols: number; rows: number; idleTimeoutSeconds: number },
    send: (f: RemoteAgentFrame) => void,
    finished: Finished,
  ) {
    this.id = id;
    this.send = send;
    this.finished = finished;
    this.pty = openPty(req.cols, req.rows);
    this.pty.output.on("data", (chunk: Buffer) => this.onOutput(chunk));
    this.pty.onExit((code) => {
      clearInterval(this.idleTimer);
      const tail = this.decoder.end();
      if (tail) this.emit(tail);
      this.finished(this.stopReason ?? "exited", false, code);
    });
    const idleMs = req.idleTimeoutSeconds * 1000;
    this.idleTimer = setInterval(
      () => {
        if (Date.now() - this.lastActivity >= idleMs) this.stop("idle timeout");
      },
      Math.min(idleMs, 5000),
    );
    this.idleTimer.unref();
    send({ type: "remote.opened", sessionId: id, detail: this.pty.description });
  }

  handle(frame: RemoteServerFrame) {
    switch (frame.type) {
      case "remote.data": {
        this.lastActivity = Date.now();
        const { data } = frame;
        this.inOrder(
          () =>
            new Promise<void>((resolve) =>
              this.pty.write(data, () => {
                if (data.length > 0)
                  this.send({ type: "remote.ack", sessionId: this.id, units: data.length });
                resolve();
              }),
            ),
        );
        return;
      }
      case "remote.resize": {
        const { cols, rows } = frame;
        // Input typed after a resize reaches the shell after the new size is set.
        this.inOrder(() => this.pty.resize(cols, rows));
        return;
      }
      case "remote.ack":
        this.unacked = Math.max(0, this.unacked - frame.units);
        if (this.paused && this.unacked < REMOTE_WINDOW) {
          this.paused = false;
          this.pty.output.resume();
        }
        return;
      default:
        return;
    }
  }

  private inOrder(step: () => Promise<void>) {
    this.queue = this.queue.then(step, step);
  }

  stop(reason: string) {
    this.stopReason ??= reason;
    clearInterval(this.idleTimer);
    this.pty.kill();
  }

  private onOutput(chunk: Buffer) {
    this.lastActivity = Date.now();
    const text = this.decoder.write(chunk);
    if (text) this.emit(text);
    if (this.unacked >= REMOTE_WINDOW && !this.paused) {
      this.paused = true;
      this.pty.output.pause();
    }
  }

  private emit(text: string) {
    for (let i = 0; i < text.length; ) {
      let end = Math.min(text.length, i + REMOTE_CHUNK);
      // Never split a surrogate pair between two frames.
      if (end < text.length && /[\uD800-\uDBFF]/.test(text[end - 1]!)) end--;
      const data = text.slice(i, end);
      i = end;
      this.unacked += data.length;
      this.send({ type: "remote.data", sessionId: this.id, data });
    }
  }
}
