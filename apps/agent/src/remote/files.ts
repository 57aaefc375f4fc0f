import { createHash, type Hash } from "node:crypto";
import { createReadStream, createWriteStream, type ReadStream, statSync, type WriteStream } from "node:fs";
import { rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import {
  REMOTE_WINDOW,
  type RemoteAgentFrame,
  type RemoteRequest,
  type RemoteServerFrame,
} from "@switchboard/shared";

type Send = (f: RemoteAgentFrame) => void;
type Finished = (reason: string, failed: boolean) => void;
/** 24 KiB of file per frame: 32 KiB once in base64. */
const FILE_CHUNK = 24 * 1024;

/**
 * An upload to the device: written to a temporary file beside the target, hashed as it arrives, and
 * renamed into place only when the server's signed end frame names the same size and SHA-256.
 */
export class FilePut {
  private readonly id: string;
  private readonly target: string;
  private readonly tmp: string;
  private readonly expected: number;
  private readonly out: WriteStream;
  private readonly hash: Hash = createHash("sha256");
  private received = 0;
  private done = false;
  private readonly send: Send;
  private readonly finished: Finished;
  private readonly checkEnd: (size: number, sha256: string, signature: string) => boolean;

  constructor(
    id: string,
    req: Extract<RemoteRequest, { kind: "file.put" }>,
    send: Send,
    finished: Finished,
    checkEnd: (size: number, sha256: string, signature: string) => boolean,
  ) {
    this.id = id;
    this.send = send;
    this.finished = finished;
    this.checkEnd = checkEnd;
    this.target = path.resolve(req.path);
    this.expected = req.size;
    const dir = path.dirname(this.target);
    if (!statSync(dir).isDirectory()) throw new Error(`${dir} is not a directory`);
    this.tmp = path.join(dir, `.${path.basename(this.target)}.${id.slice(0, 8)}.part`);
    // "wx": never follows or overwrites something already there under the temporary name.
    this.out = createWriteStream(this.tmp, { flags: "wx", mode: 0o600 });
    this.out.on("error", (err) => this.fail(`cannot write ${this.target}: ${err.message}`));
    send({ type: "remote.opened", sessionId: id });
  }

  handle(frame: RemoteServerFrame) {
    if (this.done) return;
    if (frame.type === "remote.data") {
      const chunk = Buffer.from(frame.data, "base64");
      this.received += chunk.length;
      if (this.received > this.expected) return this.fail("more data than the announced size");
      this.hash.update(chunk);
      this.out.write(chunk, (err) => {
        if (!err && chunk.length) this.send({ type: "remote.ack", sessionId: this.id, units: chunk.length });
      });
    } else if (frame.type === "remote.file.end") {
      void this.finish(frame.size, frame.sha256, frame.signature);
    }
  }

  stop(_reason: string) {
    if (this.done) return;
    this.done = true;
    this.out.destroy();
    void rm(this.tmp, { force: true });
  }

  private async finish(size: number, sha256: string, signature: string) {
    this.done = true;
    const digest = this.hash.digest("hex");
    await new Promise<void>((resolve) => this.out.end(() => resolve()));
    const ok = this.checkEnd(size, sha256, signature);
    if (!ok || size !== this.received || size !== this.expected || sha256 !== digest) {
      await rm(this.tmp, { force: true });
      const why = !ok ? "the end of the upload is not signed by the server" : "size or SHA-256 differ";
      return this.finished(why, true);
    }
    try {
      if ((await stat(this.target).catch(() => null))?.isDirectory()) throw new Error("is a directory");
      await rename(this.tmp, this.target);
    } catch (err) {
      await rm(this.tmp, { force: true });
      return this.finished(`cannot replace ${this.target}: ${(err as Error).message}`, true);
    }
    this.send({ type: "remote.file.done", sessionId: this.id, size, sha256: digest });
    this.finished("done", false);
  }

  private fail(reason: string) {
    if (this.done) return;
    this.stop(reason);
    this.finished(reason, true);
  }
}

/** A download from the device: streamed in base64 chunks within the window, hashed as it is read. */
export class FileGet {
  private readonly id: string;
  private readonly input: ReadStream;
  private readonly hash: Hash = createHash("sha256");
  private readonly send: Send;
  private readonly finished: Finished;
  private unacked = 0;
  private paused = false;
  private sent = 0;
  private done = false;

  constructor(id: string, req: Extract<RemoteRequest, { kind: "file.get" }>, send: Send, finished: Finished) {
    this.id = id;
    this.send = send;
    this.finished = finished;
    const file = path.resolve(req.path);
    const st = statSync(file);
    if (!st.isFile()) throw new Error(`${file} is not a file`);
    if (st.size > req.maxBytes)
      throw new Error(`${file} is ${st.size} bytes, over the limit of ${req.maxBytes}`);
    this.input = createReadStream(file, { highWaterMark: FILE_CHUNK });
    send({ type: "remote.opened", sessionId: id, size: st.size });
    this.input.on("data", (chunk) => this.onChunk(chunk as Buffer, req.maxBytes));
    this.input.on("error", (err) => this.fail(`cannot read ${file}: ${err.message}`));
    this.input.on("end", () => {
      if (this.done) return;
      this.done = true;
      this.send({
        type: "remote.file.done",
        sessionId: this.id,
        size: this.sent,
        sha256: this.hash.digest("hex"),
      });
      this.finished("done", false);
    });
  }

  handle(frame: RemoteServerFrame) {
    if (frame.type !== "remote.ack") return;
    this.unacked = Math.max(0, this.unacked - frame.units);
    if (this.paused && this.unacked < REMOTE_WINDOW) {
      this.paused = false;
      this.input.resume();
    }
  }

  stop(_reason: string) {
    this.done = true;
    this.input.destroy();
  }

  private onChunk(chunk: Buffer, maxBytes: number) {
    if (this.done) return;
    this.sent += chunk.length;
    // The file grew while it was read.
    if (this.sent > maxBytes) return this.fail("the file grew over the limit while it was read");
    this.hash.update(chunk);
    this.unacked += chunk.length;
    this.send({ type: "remote.data", sessionId: this.id, data: chunk.toString("base64") });
    if (this.unacked >= REMOTE_WINDOW) {
      this.paused = true;
      this.input.pause();
    }
  }

  private fail(reason: string) {
    if (this.done) return;
    this.stop(reason);
    this.finished(reason, true);
  }
}
