import { createHash, randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { rm } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { AppError } from "../../http/errors.ts";
import type { BlobStore } from "../../lib/blob-store.ts";

/**
 * Writes an upload to a temporary file beside the blob store while hashing it: memory stays bounded
 * whatever the size, and the size and SHA-256 are known once it is on disk. Over `limit` (the multipart
 * parser truncates the stream) it is a 413 and nothing is kept.
 */
export async function spoolUpload(
  blobs: BlobStore,
  stream: Readable & { truncated?: boolean },
  limit: number,
): Promise<{ file: string; sha256: string; size: number }> {
  const file = path.join(await blobs.tempDir(), `${randomUUID()}.upload`);
  const hash = createHash("sha256");
  let size = 0;
  try {
    await pipeline(
      stream,
      async function* (source: AsyncIterable<Buffer>) {
        for await (const chunk of source) {
          size += chunk.length;
          hash.update(chunk);
          yield chunk;
        }
      },
      createWriteStream(file, { mode: 0o600 }),
    );
    if (stream.truncated)
      throw new AppError("payload_too_large", 413, `The file is over the limit of ${limit} bytes`);
  } catch (err) {
    await rm(file, { force: true });
    throw err;
  }
  return { file, sha256: hash.digest("hex"), size };
}
