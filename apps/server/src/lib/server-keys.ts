import {
  createCipheriv,
  createDecipheriv,
  createHash,
  createHmac,
  hkdfSync,
  randomBytes,
  timingSafeEqual,
} from "node:crypto";
import { chmod, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Config } from "../config.ts";

/**
 * Wraps and unwraps data keys with a key-encryption key that never enters the database. The local
 * provider holds the KEK from configuration; a KMS adapter implements the same three members (its
 * `unwrap` is a call to the KMS), so the vault does not know which it has.
 */
export interface KeyEncryptionProvider {
  /** Names the KEK new data keys are wrapped with (stored beside each wrapped key). */
  readonly currentKekId: string;
  wrap(dataKey: Buffer): Promise<{ kekId: string; wrapped: string }>;
  /** Throws when `kekId` names a KEK this provider no longer has. */
  unwrap(kekId: string, wrapped: string): Promise<Buffer>;
  /** Whether it can unwrap what `kekId` wrapped. */
  has(kekId: string): Promise<boolean>;
}

/** A KEK's id: a fingerprint that says which key wrapped a data key without revealing the key. */
export const kekIdOf = (kek: Buffer) =>
  `local:${createHash("sha256").update("switchboard kek id").update(kek).digest("hex").slice(0, 16)}`;

/** AES-256-GCM, `v1.<nonce>.<tag>.<ciphertext>` (base64url), with associated data binding it to its use. */
export function seal(key: Buffer, plain: Buffer, aad: string): string {
  const iv = randomBytes(12);
  const cipher = createCipheriv("aes-256-gcm", key, iv);
  cipher.setAAD(Buffer.from(aad));
  const data = Buffer.concat([cipher.update(plain), cipher.final()]);
  return [
    "v1",
    iv.toString("base64url"),
    cipher.getAuthTag().toString("base64url"),
    data.toString("base64url"),
  ].join(".");
}

export function open(key: Buffer, sealed: string, aad: string): Buffer {
  const [v, iv, tag, data] = sealed.split(".");
  if (v !== "v1" || !iv || !tag || data === undefined) throw new Error("unreadable sealed value");
  const decipher = createDecipheriv("aes-256-gcm", key, Buffer.from(iv, "base64url"));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(Buffer.from(tag, "base64url"));
  return Buffer.concat([decipher.update(Buffer.from(data, "base64url")), decipher.final()]);
}

/** The KEK from configuration (current plus earlier ones kept for rotation). */
export class LocalKeyProvider implements KeyEncryptionProvider {
  readonly currentKekId: string;
  private readonly keks: Map<string, Buffer>;
  constructor(current: Buffer, previous: Buffer[] = []) {
    this.currentKekId = kekIdOf(current);
    this.keks = new Map([current, ...previous].map((k) => [kekIdOf(k), k]));
  }
  async wrap(dataKey: Buffer) {
    const kek = this.keks.get(this.currentKekId)!;
    return { kekId: this.currentKekId, wrapped: seal(kek, dataKey, "vault data key") };
  }
  async has(kekId: string) {
    return this.keks.has(kekId);
  }
  async unwrap(kekId: string, wrapped: string) {
    const kek = this.keks.get(kekId);
    if (!kek) throw new Error(`the key-encryption key ${kekId} is not configured`);
    return open(kek, wrapped, "vault data key");
  }
}

export interface ServerKeys {
  kek: KeyEncryptionProvider;
  /** Signs links sent by mail (ratings); the earlier ones still verify links signed before a rotation. */
  linkKeys: Buffer[];
}

type KeyConfig = Pick<Config, "SWITCHBOARD_VAULT_KEK" | "SWITCHBOARD_VAULT_PREVIOUS_KEKS" | "dataDir">;

const derivedLinkKey = (kek: Buffer) =>
  Buffer.from(hkdfSync("sha256", kek, Buffer.alloc(0), "switchboard signed links v1", 32));

const cache = new Map<string, Promise<ServerKeys>>();

/**
 * The server's keys: SWITCHBOARD_VAULT_KEK (and the earlier ones), or a key generated once in
 * `<data dir>/vault.key` with mode 0600. Several processes must share the same key: set the variable.
 */
export function serverKeys(config: KeyConfig): Promise<ServerKeys> {
  const id = `${config.SWITCHBOARD_VAULT_KEK ?? path.join(config.dataDir, "vault.key")}|${config.SWITCHBOARD_VAULT_PREVIOUS_KEKS.join(",")}`;
  let keys = cache.get(id);
  if (!keys) {
    keys = (async () => {
      const current = config.SWITCHBOARD_VAULT_KEK
        ? Buffer.from(config.SWITCHBOARD_VAULT_KEK, "base64")
        : await loadOrCreateKey(path.join(config.dataDir, "vault.key"));
      const previous = config.SWITCHBOARD_VAULT_PREVIOUS_KEKS.map((k) => Buffer.from(k, "base64"));
      return {
        kek: new LocalKeyProvider(current, previous),
        linkKeys: [current, ...previous].map(derivedLinkKey),
      };
    })();
    cache.set(id, keys);
  }
  return keys;
}

/** A 32-byte key kept in `file` (mode 0600), made by the first process that needs it. */
export async function loadOrCreateKey(file: string): Promise<Buffer> {
  try {
    return Buffer.from((await readFile(file, "utf8")).trim(), "base64");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  await mkdir(path.dirname(file), { recursive: true });
  const key = randomBytes(32);
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

/**
 * A signed, expiring token for one purpose: `<payload>.<mac>` where payload is base64url JSON with the
 * purpose and expiry. A token signed for one purpose never verifies for another.
 */
export function signToken(
  keys: ServerKeys,
  purpose: string,
  data: Record<string, unknown>,
  ttlSeconds: number,
) {
  const payload = Buffer.from(
    JSON.stringify({ p: purpose, e: Math.floor(Date.now() / 1000) + ttlSeconds, d: data }),
  ).toString("base64url");
  return `${payload}.${mac(keys.linkKeys[0]!, payload)}`;
}

/** The token's data when its signature, purpose and expiry hold; null otherwise. */
export function verifyToken<T>(keys: ServerKeys, purpose: string, token: string): T | null {
  const [payload, sig] = token.split(".");
  if (!payload || !sig || token.length > 2000) return null;
  const given = Buffer.from(sig, "base64url");
  const ok = keys.linkKeys.some((k) => {
    const want = Buffer.from(mac(k, payload), "base64url");
    return want.length === given.length && timingSafeEqual(want, given);
  });
  if (!ok) return null;
  try {
    const body = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as {
      p: string;
      e: number;
      d: T;
    };
    if (body.p !== purpose || typeof body.e !== "number" || body.e * 1000 < Date.now()) return null;
    return body.d;
  } catch {
    return null;
  }
}

const mac = (key: Buffer, payload: string) => createHmac("sha256", key).update(payload).digest("base64url");
