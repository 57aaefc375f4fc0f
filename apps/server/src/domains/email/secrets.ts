import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Config } from "../../config.ts";

/**
 * Mailbox passwords at rest: AES-256-GCM with a random 96-bit nonce per value, stored as
 * `v1.<nonce>.<tag>.<ciphertext>` (base64url). The key is SWITCHBOARD_EMAIL_KEY, or a key file generated
 * once in the data dir with mode 0600 so only the server's user can read it.
 */
export class SecretBox {
  private readonly key: Buffer;
  constructor(key: Buffer) {
    if (key.length !== 32) throw new Error("email secret key must be 32 bytes");
    this.key = key;
  }

  seal(plain: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", this.key, iv);
    const data = Buffer.concat([cipher.update(plain, "utf8"), cipher.final()]);
    return ["v1", iv, cipher.getAuthTag(), data]
      .map((p) => (typeof p === "string" ? p : p.toString("base64url")))
      .join(".");
  }

  open(sealed: string): string {
    const [v, iv, tag, data] = sealed.split(".");
    if (v !== "v1" || !iv || !tag || data === undefined) throw new Error("unreadable secret");
    const decipher = createDecipheriv("aes-256-gcm", this.key, Buffer.from(iv, "base64url"));
    decipher.setAuthTag(Buffer.from(tag, "base64url"));
    return Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]).toString(
      "utf8",
    );
  }
}

const boxes = new Map<string, Promise<SecretBox>>();

export function secretBox(config: Pick<Config, "SWITCHBOARD_EMAIL_KEY" | "dataDir">): Promise<SecretBox> {
  if (config.SWITCHBOARD_EMAIL_KEY) {
    return Promise.resolve(new SecretBox(Buffer.from(config.SWITCHBOARD_EMAIL_KEY, "base64")));
  }
  const file = path.join(config.dataDir, "email.key");
  let box = boxes.get(file);
  if (!box) {
    box = loadOrCreateKey(file).then((k) => new SecretBox(k));
    boxes.set(file, box);
  }
  return box;
}

async function loadOrCreateKey(file: string): Promise<Buffer> {
  try {
    return Buffer.from((await readFile(file, "utf8")).trim(), "base64");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  await mkdir(path.dirname(file), { recursive: true });
  const key = randomBytes(32);
  // "wx": if another process created it first, read theirs instead of overwriting.
  try {
    await writeFile(file, `${key.toString("base64")}\n`, { mode: 0o600, flag: "wx" });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EEXIST")
      return Buffer.from((await readFile(file, "utf8")).trim(), "base64");
    throw err;
  }
  await chmod(file, 0o600);
  return key;
}
