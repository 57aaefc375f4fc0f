import { createHash, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";

export interface StoredBlob {
  key: string;
  sha256: string;
  sizeBytes: number;
}

/** Where attachments and raw messages live. Local disk by default; S3-compatible stores can implement it. */
export interface BlobStore {
  put(data: Buffer): Promise<StoredBlob>;
  get(key: string): Promise<Readable>;
  size(key: string): Promise<number>;
  delete(key: string): Promise<void>;
}

/**
 * Content-addressed files under `root`: the key is the SHA-256, so the same attachment stored twice takes
 * the space once. Writes go to a temp file and are renamed into place, so a reader never sees half a blob.
 */
export class LocalBlobStore implements BlobStore {
  readonly root: string;
  constructor(root: string) {
    this.root = root;
  }

  private pathOf(key: string) {
    if (!/^[a-f0-9]{64}$/.test(key)) throw new Error("invalid blob key");
    return path.join(this.root, key.slice(0, 2), key.slice(2, 4), key);
  }

  async put(data: Buffer): Promise<StoredBlob> {
    const sha256 = createHash("sha256").update(data).digest("hex");
    const target = this.pathOf(sha256);
    await mkdir(path.dirname(target), { recursive: true });
    const tmp = `${target}.${randomUUID()}.tmp`;
    await writeFile(tmp, data);
    await rename(tmp, target);
    return { key: sha256, sha256, sizeBytes: data.length };
  }

  async get(key: string): Promise<Readable> {
    const p = this.pathOf(key);
    await stat(p);
    return createReadStream(p);
  }

  async size(key: string): Promise<number> {
    return (await stat(this.pathOf(key))).size;
  }

  async delete(key: string): Promise<void> {
    await rm(this.pathOf(key), { force: true });
  }
}
