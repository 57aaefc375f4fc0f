import { createHmac, hkdfSync, randomInt, timingSafeEqual } from "node:crypto";
import path from "node:path";
import type { Config } from "../../config.ts";
import { loadOrCreateKey, open, seal } from "../../lib/server-keys.ts";

export interface IdentityKeys {
  /** HMAC-SHA256 of a code, bound to its challenge: what is stored instead of the code. */
  codeMac(challengeId: string, code: string): string;
  codeMatches(challengeId: string, code: string, stored: string): boolean;
  sealTotp(contactId: string, seed: string): string;
  openTotp(contactId: string, sealed: string): string;
}

type KeyConfig = Pick<Config, "SWITCHBOARD_IDENTITY_KEY" | "dataDir">;
const cache = new Map<string, Promise<IdentityKeys>>();

const derive = (root: Buffer, info: string) =>
  Buffer.from(hkdfSync("sha256", root, Buffer.alloc(0), info, 32));

/** SWITCHBOARD_IDENTITY_KEY, or `<data dir>/identity.key` generated once (mode 0600). */
export function identityKeys(config: KeyConfig): Promise<IdentityKeys> {
  const id = config.SWITCHBOARD_IDENTITY_KEY ?? path.join(config.dataDir, "identity.key");
  let keys = cache.get(id);
  if (!keys) {
    keys = (async () => {
      const root = config.SWITCHBOARD_IDENTITY_KEY
        ? Buffer.from(config.SWITCHBOARD_IDENTITY_KEY, "base64")
        : await loadOrCreateKey(path.join(config.dataDir, "identity.key"));
      const macKey = derive(root, "switchboard identity codes v1");
      const sealKey = derive(root, "switchboard identity totp v1");
      const mac = (challengeId: string, code: string) =>
        createHmac("sha256", macKey).update(`${challengeId}\n${code}`).digest("base64url");
      return {
        codeMac: mac,
        codeMatches(challengeId, code, stored) {
          const a = Buffer.from(mac(challengeId, code));
          const b = Buffer.from(stored);
          return a.length === b.length && timingSafeEqual(a, b);
        },
        sealTotp: (contactId, seed) => seal(sealKey, Buffer.from(seed), `identity totp ${contactId}`),
        openTotp: (contactId, sealed) => open(sealKey, sealed, `identity totp ${contactId}`).toString("utf8"),
      };
    })();
    cache.set(id, keys);
  }
  return keys;
}

/** Six digits from the CSPRNG (no modulo bias: randomInt rejects out-of-range draws). */
export const newCode = () => String(randomInt(0, 1_000_000)).padStart(6, "0");
