import { createHash, randomUUID } from "node:crypto";
import { createReadStream } from "node:fs";
import { access, mkdir, rename, rm, stat, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";

export interface StoredBlob {
  key: string;
  sha256: string;
  sizeBytes: number;
}

/** Where attachments and raw messages live. Local disk by default; S3-compatible stores can implement it. */
export interface BlobStore {
  /** Stores `data`; `sha256` is its digest when the caller has already computed it (saves a pass). */
  put(data: Buffer, sha256?: string): Promise<StoredBlob>;
  /**
   * Takes a finished temporary file (a stream written to disk as it arrived, hashed on the way) into the
   * store; the file is moved or removed.
   */
  putFile(file: string, sha256: string): Promise<StoredBlob>;
  /** A directory for such temporary files, on the same file system as the store. */
  tempDir(): Promise<string>;
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
  /** Directories known to exist, so a write costs no mkdir. */
  private readonly dirs = new Set<string>();
  constructor(root: string) {
    this.root = root;
  }

  private pathOf(key: string) {
    if (!/^[a-f0-9]{64}$/.test(key)) throw new Error("invalid blob key");
    return path.join(this.root, key.slice(0, 2), key.slice(2, 4), key);
  }

  async put(data: Buffer, known?: string): Promise<StoredBlob> {
    const sha256 = known ?? createHash("sha256").update(data).digest("hex");
    const target = this.pathOf(sha256);
    const stored = { key: sha256, sha256, sizeBytes: data.length };
    // Same key, same bytes: a blob that is already there (a signature logo in every mail from a sender,
    // the same attachment forwarded around) is not written again. Only complete files are ever renamed
    // into place, so an existing one is whole.
    if (await exists(target)) return stored;
    const dir = path.dirname(target);
    if (!this.dirs.has(dir)) {
      await mkdir(dir, { recursive: true });
      // 65,536 directories at most (two levels of two hex digits).
      this.dirs.add(dir);
    }
    const tmp = `${target}.${randomUUID()}.tmp`;
    await writeFile(tmp, data);
    await rename(tmp, target);
    return stored;
  }

  async putFile(file: string, sha256: string): Promise<StoredBlob> {
    const target = this.pathOf(sha256);
    const { size } = await stat(file);
    const stored = { key: sha256, sha256, sizeBytes: size };
    if (await exists(target)) {
      await rm(file, { force: true });
      return stored;
    }
    await mkdir(path.dirname(target), { recursive: true });
    await rename(file, target);
    return stored;
  }

  async tempDir(): Promise<string> {
    const dir = path.join(this.root, "tmp");
    await mkdir(dir, { recursive: true });
    return dir;
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

const exists = (p: string) =>
  access(p).then(
    () => true,
    () => false,
  );
