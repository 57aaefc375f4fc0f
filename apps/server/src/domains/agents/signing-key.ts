import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from "node:crypto";
import { commandMessage } from "@switchboard/shared";
import type { Database } from "../../db/database.ts";

export interface ServerKey {
  /** Base64 SPKI DER: what agents pin. */
  publicKey: string;
  /** SHA-256 of the SPKI DER, hex: short enough to put in an install command. */
  fingerprint: string;
  privateKey: KeyObject;
}

export const publicKeyFingerprint = (publicKeyB64: string) =>
  createHash("sha256").update(Buffer.from(publicKeyB64, "base64")).digest("hex");

export function importPublicKey(publicKeyB64: string): KeyObject {
  return createPublicKey({ key: Buffer.from(publicKeyB64, "base64"), format: "der", type: "spki" });
}

export function signText(key: KeyObject, text: string): string {
  return sign(null, Buffer.from(text), key).toString("base64");
}

export function verifyText(key: KeyObject, text: string, signatureB64: string): boolean {
  try {
    return verify(null, Buffer.from(text), key, Buffer.from(signatureB64, "base64"));
  } catch {
    return false;
  }
}

export const signCommandPayload = (key: ServerKey, payload: string) =>
  signText(key.privateKey, commandMessage(payload));

/**
 * The server's Ed25519 key, shared by every process through the database (one row): made by whichever
 * process starts first. With a passphrase the private key is stored as encrypted PKCS#8.
 */
export async function loadOrCreateServerKey(db: Database, passphrase?: string): Promise<ServerKey> {
  let row = await db.selectFrom("agent_signing_key").selectAll().executeTakeFirst();
  if (!row) {
    const pair = generateKeyPairSync("ed25519");
    const publicKey = pair.publicKey.export({ format: "der", type: "spki" }).toString("base64");
    const pem = pair.privateKey
      .export(
        passphrase
          ? { format: "pem", type: "pkcs8", cipher: "aes-256-cbc", passphrase }
          : { format: "pem", type: "pkcs8" },
      )
      .toString();
    // Two processes starting together: the loser's key is discarded and both read the winner's.
    await db
      .insertInto("agent_signing_key")
      .values({ id: 1, public_key: publicKey, private_key_pem: pem, encrypted: !!passphrase })
      .onConflict((oc) => oc.column("id").doNothing())
      .execute();
    row = await db.selectFrom("agent_signing_key").selectAll().executeTakeFirstOrThrow();
  }
  if (row.encrypted && !passphrase) {
    throw new Error("The agent signing key is encrypted: set AGENT_SIGNING_KEY_PASSPHRASE");
  }
  const privateKey = createPrivateKey(
    row.encrypted
      ? { key: row.private_key_pem, format: "pem", passphrase }
      : { key: row.private_key_pem, format: "pem" },
  );
  return { publicKey: row.public_key, fingerprint: publicKeyFingerprint(row.public_key), privateKey };
}
