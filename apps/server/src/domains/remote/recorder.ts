import { createHash, randomUUID } from "node:crypto";
import { createWriteStream, type WriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import type { BlobStore, StoredBlob } from "../../lib/blob-store.ts";

/**
 * A shell session recorded as asciicast v2 (https://docs.asciinema.org/manual/asciicast/v2/): a header
 * line, then one JSON line per output chunk and resize, with seconds since the start. Input is not
 * recorded (passwords typed at a prompt that does not echo them stay out). Written to a temporary file
 * as it happens, hashed on the way, and capped: past `maxBytes` the recording stops with a marker.
 */
export class AsciicastRecorder {
  private readonly out: WriteStream;
  private readonly hash = createHash("sha256");
  private readonly started = Date.now();
  private readonly file: string;
  private readonly maxBytes: number;
  private bytes = 0;
  private drain: Promise<void> | null = null;
  truncated = false;

  private constructor(file: string, maxBytes: number) {
    this.file = file;
    this.maxBytes = maxBytes;
    this.out = createWriteStream(file, { mode: 0o600 });
    this.out.on("error", () => {
      this.truncated = true;
    });
  }

  static async start(
    blobs: BlobStore,
    header: { cols: number; rows: number; title: string },
    maxBytes: number,
  ): Promise<AsciicastRecorder> {
    const file = path.join(await blobs.tempDir(), `${randomUUID()}.cast`);
    const r = new AsciicastRecorder(file, maxBytes);
    r.line({
      version: 2,
      width: header.cols,
      height: header.rows,
      timestamp: Math.floor(r.started / 1000),
      title: header.title,
      env: { TERM: "xterm-256color" },
    });
    return r;
  }

  /** True while the file's buffer is over its mark: the caller holds credit back until `drained`. */
  get needsDrain() {
    return this.out.writableNeedDrain;
  }

  drained(): Promise<void> {
    if (!this.needsDrain) return Promise.resolve();
    this.drain ??= new Promise<void>((r) =>
      this.out.once("drain", () => {
        this.drain = null;
        r();
      }),
    );
    return this.drain;
  }

  output(data: string) {
    this.event("o", data);
  }

  resize(cols: number, rows: number) {
    this.event("r", `${cols}x${rows}`);
  }

  /** Closes the file and stores it; null when nothing could be written. */
  async finish(blobs: BlobStore): Promise<(StoredBlob & { truncated: boolean }) | null> {
    await new Promise<void>((resolve) => this.out.end(() => resolve()));
    if (this.bytes === 0 || this.out.errored) {
      await rm(this.file, { force: true });
      return null;
    }
    const stored = await blobs.putFile(this.file, this.hash.digest("hex"));
    return { ...stored, truncated: this.truncated };
  }

  async discard() {
    this.out.destroy();
    await rm(this.file, { force: true });
  }

  private event(code: "o" | "r", data: string) {
    if (this.truncated) return;
    const t = Math.round(Date.now() - this.started) / 1000;
    if (this.bytes + data.length * 3 + 32 > this.maxBytes) {
      this.truncated = true;
      this.line([t, "o", "\r\n[recording stopped: size limit reached]\r\n"]);
      return;
    }
    this.line([t, code, data]);
  }

  private line(value: unknown) {
    const text = `${JSON.stringify(value)}\n`;
    this.bytes += Buffer.byteLength(text);
    this.hash.update(text);
    this.out.write(text);
  }
}
