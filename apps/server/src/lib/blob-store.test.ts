import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm, stat, utimes } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readBlob } from "../domains/email/ingest.ts";
import { LocalBlobStore } from "./blob-store.ts";

describe("LocalBlobStore", () => {
  let root: string;
  let store: LocalBlobStore;

  beforeAll(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "sb-blobs-"));
    store = new LocalBlobStore(root);
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("stores content under its SHA-256 and reads it back whole", async () => {
    const data = Buffer.from("the library's machines are offline");
    const blob = await store.put(data);
    expect(blob.key).toBe(createHash("sha256").update(data).digest("hex"));
    expect(blob.sizeBytes).toBe(data.length);
    expect((await readBlob(await store.get(blob.key))).equals(data)).toBe(true);
  });

  it("does not write the same content twice, and leaves no temporary file behind", async () => {
    const data = Buffer.alloc(256 * 1024, 7);
    const first = await store.put(data);
    const file = path.join(root, first.key.slice(0, 2), first.key.slice(2, 4), first.key);
    const past = new Date("2026-01-01T00:00:00Z");
    await utimes(file, past, past);
    const digest = createHash("sha256").update(data).digest("hex");
    const second = await store.put(data, digest);
    expect(second).toEqual(first);
    // Untouched: the second put found the blob and wrote nothing.
    expect((await stat(file)).mtime.getTime()).toBe(past.getTime());
    expect((await readdir(path.dirname(file))).filter((f) => f.endsWith(".tmp"))).toEqual([]);
  });

  it("refuses keys that are not a SHA-256, so no path can escape the store", async () => {
    await expect(store.get("../../etc/passwd")).rejects.toThrow("invalid blob key");
  });
});
