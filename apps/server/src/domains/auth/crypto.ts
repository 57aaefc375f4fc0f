import { createHash, randomBytes } from "node:crypto";
import argon2 from "argon2";

export const hashPassword = (password: string) => argon2.hash(password, { type: argon2.argon2id });

// Verifying against this when the account does not exist keeps login timing the same either way.
let dummyHash: Promise<string> | undefined;

export async function verifyPassword(hash: string | null, password: string): Promise<boolean> {
  if (!hash) {
    dummyHash ??= hashPassword("switchboard-timing-equaliser");
    await argon2.verify(await dummyHash, password);
    return false;
  }
  try {
    return await argon2.verify(hash, password);
  } catch {
    return false;
  }
}

/** A random bearer secret; only its SHA-256 is stored (it has 256 bits of entropy, so no salt is needed). */
export const newSecret = (prefix = "") => prefix + randomBytes(32).toString("base64url");
export const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");
