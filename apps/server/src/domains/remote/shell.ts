import {
  type CreateShellRequest,
  type RemoteAgentFrame,
  SHELL_INPUT_WINDOW,
  ShellClientFrame,
  type ShellServerFrame,
} from "@switchboard/shared";
import type { WebSocket } from "ws";
import type { z } from "zod";
import { asSystem } from "../../db/scope.ts";
import { AppError, notFound } from "../../http/errors.ts";
import type { Actor } from "../auth/actor.ts";
import { newSessionId, RemoteChannel, type RemoteRuntime } from "./channel.ts";
import { authorizeRemote } from "./policy.ts";
import { AsciicastRecorder } from "./recorder.ts";
import { createSessionRow, finishSessionRow, markSession } from "./records.ts";

/** The agent must answer a signed open within this. */
const OPEN_TIMEOUT_MS = 20_000;
/** A shell asked for must be connected to by its console within this. */
const ATTACH_WITHIN_MS = 120_000;

/** Asks for a shell: authorised and audited now; the agent is reached when the console's socket attaches. */
export async function requestShell(
  rt: RemoteRuntime,
  actor: Actor,
  deviceId: string,
  input: z.output<typeof CreateShellRequest>,
) {
  const auth = await authorizeRemote(rt.db, actor, deviceId, "shell", input);
  if (auth.device.platform === "win32") {
    throw new AppError(
      "invalid_transition",
      409,
      "Remote shells are not available on Windows devices yet (see the agent's README)",
    );
  }
  return createSessionRow(rt.db, actor, newSessionId(), auth, "shell", {
    cols: input.cols,
    rows: input.rows,
  });
}

/**
 * The console's socket for a shell it asked for: only its requester, once, within two minutes. Checked
 * again against the client's policy (it may have changed since) before the agent is asked.
 */
export async function attachShell(rt: RemoteRuntime, actor: Actor, sessionId: string) {
  const row = await rt.db
    .selectFrom("remote_sessions")
    .selectAll()
    .where("id", "=", sessionId)
    .executeTakeFirst();
  if (row?.kind !== "shell" || row.requested_by_user_id !== actor.userId) throw notFound("Shell");
  if (row.status !== "requested" || Date.now() - row.created_at.getTime() > ATTACH_WITHIN_MS) {
    throw new AppError(
      "invalid_transition",
      409,
      "This shell has already been used or has expired: open a new one",
    );
  }
  const auth = await authorizeRemote(rt.db, actor, row.device_id, "shell", {
    ticketId: row.ticket_id ?? undefined,
    supportSessionId: row.support_session_id ?? undefined,
  });
  const claimed = await rt.db
    .updateTable("remote_sessions")
    .set({ status: "opening", heartbeat_at: new Date() })
    .where("id", "=", sessionId)
    .where("status", "=", "requested")
    .executeTakeFirst();
  if (Number(claimed.numUpdatedRows) !== 1) {
    throw new AppError("invalid_transition", 409, "This shell has already been used: open a new one");
  }
  return { row, hostname: auth.device.hostname, idleTimeoutSeconds: auth.policy.idleTimeoutSeconds };
}

/** Live shells of this process, for the heartbeat that keeps their rows from being swept. */
export const liveShells = new Set<ShellConsole>();

/**
 * One shell between a console's socket and an agent's PTY. Output is relayed and recorded; credit for it
 * goes back to the agent only once the browser has written it to its terminal (and the recording has
 * been taken by the disk), so a fast producer waits for the slowest of them. Input is limited to a window
 * too. Everything here runs in the system scope: the user was authorised when the socket attached.
 */
export class ShellConsole {
  readonly sessionId: string;
  private readonly rt: RemoteRuntime;
  private readonly ws: WebSocket;
  private readonly actor: Actor;
  private readonly channel: RemoteChannel;
  private recorder: AsciicastRecorder | null = null;
  private state: "opening" | "open" | "ended" = "opening";
  private startedAt: Date | null = null;
  private bytesIn = 0;
  private bytesOut = 0;
  private inputInFlight = 0;
  private lastActivity = Date.now();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly idleMs: number;
  private readonly title: string;
  private readonly size: { cols: number; rows: number };
  private readonly supportSessionId: string | null;

  constructor(
    rt: RemoteRuntime,
    actor: Actor,
    ws: WebSocket,
    session: {
      id: string;
      deviceId: string;
      cols: number;
      rows: number;
      hostname: string;
      idleTimeoutSeconds: number;
      /** The attended session whose caller allowed this shell: it ends with it. */
      supportSessionId: string | null;
    },
  ) {
    this.rt = rt;
    this.actor = actor;
    this.ws = ws;
    this.sessionId = session.id;
    this.idleMs = session.idleTimeoutSeconds * 1000;
    this.title = `${session.hostname} (${actor.name})`;
    this.size = { cols: session.cols, rows: session.rows };
    this.supportSessionId = session.supportSessionId;
    this.channel = new RemoteChannel(rt, session.id, session.deviceId, (f) => this.fromAgent(f));
    ws.on("message", (data, isBinary) => this.fromConsole(data as Buffer, isBinary));
    ws.on("close", () => this.finish("closed", "the console disconnected"));
    ws.on("error", () => {});
    liveShells.add(this);
  }

  async start() {
    this.recorder = await AsciicastRecorder.start(
      this.rt.blobs,
      { ...this.size, title: this.title },
      this.rt.config.REMOTE_RECORDING_MAX_BYTES,
    );
    this.toConsole({ t: "state", status: "opening" });
    const delivered = await this.channel.open({
      kind: "shell",
      cols: this.size.cols,
      rows: this.size.rows,
      idleTimeoutSeconds: Math.round(this.idleMs / 1000),
    });
    if (!delivered) return this.finish("failed", "the device is not connected");
    this.later(OPEN_TIMEOUT_MS, () => {
      if (this.state === "opening") this.finish("failed", "the device did not answer");
    });
    this.every(Math.min(5000, this.idleMs), () => {
      if (Date.now() - this.lastActivity >= this.idleMs) this.finish("closed", "idle timeout");
    });
    const supportSessionId = this.supportSessionId;
    if (supportSessionId) {
      this.every(5000, () => {
        void asSystem(() =>
          this.rt.db
            .selectFrom("support_sessions")
            .select("status")
            .where("id", "=", supportSessionId)
            .executeTakeFirst(),
        ).then((s) => {
          if (s?.status !== "active") this.finish("closed", "the support session ended");
        });
      });
    }
  }

  private fromAgent(f: RemoteAgentFrame) {
    if (this.state === "ended") return;
    switch (f.type) {
      case "remote.opened":
        if (this.state !== "opening") return;
        this.state = "open";
        this.startedAt = new Date();
        this.lastActivity = Date.now();
        void asSystem(() => markSession(this.rt.db, this.sessionId, "open")).catch((err) =>
          this.rt.log.error({ err, sessionId: this.sessionId }, "could not mark a shell open"),
        );
        this.toConsole({ t: "state", status: "open", detail: f.detail });
        return;
      case "remote.data":
        this.lastActivity = Date.now();
        this.bytesOut += f.data.length;
        this.recorder?.output(f.data);
        this.toConsole({ t: "out", d: f.data });
        return;
      case "remote.ack":
        this.inputInFlight = Math.max(0, this.inputInFlight - f.units);
        this.toConsole({ t: "credit", n: f.units });
        return;
      case "remote.closed":
        return this.finish(
          f.failed ? "failed" : "closed",
          f.reason === "exited" ? "the shell exited" : f.reason,
          false,
        );
      case "remote.rejected":
        return this.finish(
          "failed",
          `the device refused the shell: ${f.reason}${f.detail ? ` (${f.detail})` : ""}`,
          false,
        );
      default:
        return;
    }
  }

  private fromConsole(data: Buffer, isBinary: boolean) {
    if (this.state === "ended") return;
    let frame: ShellClientFrame;
    try {
      if (isBinary) throw new Error("binary");
      frame = ShellClientFrame.parse(JSON.parse(data.toString("utf8")));
    } catch {
      // A malformed frame ends this shell only.
      return this.finish("failed", "the console sent a malformed frame", true, 4400);
    }
    switch (frame.t) {
      case "in":
        if (this.state !== "open") return;
        this.inputInFlight += frame.d.length;
        if (this.inputInFlight > 2 * SHELL_INPUT_WINDOW) {
          return this.finish("failed", "the console ignored the input window", true, 4400);
        }
        this.lastActivity = Date.now();
        this.bytesIn += frame.d.length;
        this.channel.send({ type: "remote.data", data: frame.d });
        return;
      case "resize":
        this.size.cols = frame.cols;
        this.size.rows = frame.rows;
        this.recorder?.resize(frame.cols, frame.rows);
        if (this.state === "open")
          this.channel.send({ type: "remote.resize", cols: frame.cols, rows: frame.rows });
        return;
      case "ack": {
        const units = frame.n;
        const recorder = this.recorder;
        if (recorder?.needsDrain)
          void recorder.drained().then(() => this.channel.send({ type: "remote.ack", units }));
        else this.channel.send({ type: "remote.ack", units });
        return;
      }
      case "close":
        return this.finish("closed", "closed by the technician");
    }
  }

  private toConsole(frame: ShellServerFrame) {
    if (this.ws.readyState === this.ws.OPEN) this.ws.send(JSON.stringify(frame));
  }

  /** Ends the shell once: tells the agent (unless it ended it), the console, and stores the record. */
  private finish(status: "closed" | "failed", reason: string, tellAgent = true, closeCode = 1000) {
    if (this.state === "ended") return;
    const wasOpen = this.state === "open";
    this.state = "ended";
    liveShells.delete(this);
    for (const t of this.timers) clearTimeout(t);
    this.channel.close(tellAgent ? reason : undefined);
    const recorder = this.recorder;
    this.toConsole({ t: "closed", reason, failed: status === "failed", recording: wasOpen && !!recorder });
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(closeCode, reason.slice(0, 100));
    void asSystem(async () => {
      let stored: Awaited<ReturnType<AsciicastRecorder["finish"]>> = null;
      if (wasOpen && recorder) stored = await recorder.finish(this.rt.blobs);
      else await recorder?.discard();
      const stamp = new Date().toISOString().slice(0, 16).replace(/[:T]/g, "-");
      await finishSessionRow(this.rt.db, this.actor, this.sessionId, {
        status,
        reason,
        bytesIn: this.bytesIn,
        bytesOut: this.bytesOut,
        startedAt: this.startedAt,
        blob: stored
          ? {
              ...stored,
              name: `shell-${safeName(this.title)}-${stamp}.cast`,
              contentType: "application/x-asciicast",
            }
          : null,
      });
    }).catch((err) =>
      this.rt.log.error({ err, sessionId: this.sessionId }, "could not record the end of a shell"),
    );
  }

  private later(ms: number, fn: () => void) {
    const t = setTimeout(fn, ms);
    t.unref();
    this.timers.push(t);
  }

  private every(ms: number, fn: () => void) {
    const t = setInterval(fn, ms);
    t.unref();
    this.timers.push(t);
  }
}

const safeName = (s: string) =>
  s
    .replace(/\s*\(.*\)$/, "")
    .replace(/[^A-Za-z0-9._-]+/g, "-")
    .slice(0, 60);
