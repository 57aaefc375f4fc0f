import { createHmac, randomBytes, timingSafeEqual } from "node:crypto";

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

export function base32Encode(buf: Buffer): string {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of buf) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += ALPHABET[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += ALPHABET[(value << (5 - bits)) & 31];
  return out;
}

/** Base32 (RFC 4648) as authenticator apps show seeds: case, spaces, dashes and padding ignored. */
export function base32Decode(text: string): Buffer | null {
  const clean = text.toUpperCase().replace(/[\s=-]/g, "");
  if (!clean || !/^[A-Z2-7]+$/.test(clean)) return null;
  let bits = 0;
  let value = 0;
  const out: number[] = [];
  for (const ch of clean) {
    value = (value << 5) | ALPHABET.indexOf(ch);
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 255);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

export interface TotpParams {
  secret: Buffer;
  digits: number;
  period: number;
  algorithm: "sha1" | "sha256" | "sha512";
}

/**
 * A seed as people paste it: a bare base32 secret, or an `otpauth://totp/...` URI with its digits,
 * period and algorithm. Null when it is neither.
 */
export function parseTotpSeed(input: string): TotpParams | null {
  const text = input.trim();
  if (text.toLowerCase().startsWith("otpauth://")) {
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      return null;
    }
    if (url.host.toLowerCase() !== "totp") return null;
    const secret = base32Decode(url.searchParams.get("secret") ?? "");
    const digits = Number(url.searchParams.get("digits") ?? 6);
    const period = Number(url.searchParams.get("period") ?? 30);
    const algorithm = (url.searchParams.get("algorithm") ?? "SHA1").toLowerCase();
    if (!secret || secret.length < 10) return null;
    if (![6, 7, 8].includes(digits) || !(period >= 10 && period <= 300)) return null;
    if (algorithm !== "sha1" && algorithm !== "sha256" && algorithm !== "sha512") return null;
    return { secret, digits, period, algorithm };
  }
  const secret = base32Decode(text);
  if (!secret || secret.length < 10) return null;
  return { secret, digits: 6, period: 30, algorithm: "sha1" };
}

/** RFC 6238 code for the time step containing `at`. */
export function totpCode(p: TotpParams, at = Date.now()): string {
  const counter = Math.floor(at / 1000 / p.period);
  const msg = Buffer.alloc(8);
  msg.writeBigUInt64BE(BigInt(counter));
  const mac = createHmac(p.algorithm, p.secret).update(msg).digest();
  const offset = mac[mac.length - 1]! & 0xf;
  const bin = (mac.readUInt32BE(offset) & 0x7fffffff) % 10 ** p.digits;
  return String(bin).padStart(p.digits, "0");
}

/** Seconds until the current code changes. */
export const totpSecondsLeft = (p: TotpParams, at = Date.now()) =>
  p.period - (Math.floor(at / 1000) % p.period);

/** Accepts the code of this step or the one before or after (clock drift). */
export function verifyTotp(p: TotpParams, code: string, at = Date.now()): boolean {
  const given = Buffer.from(code.replace(/\s/g, ""));
  for (const drift of [0, -1, 1]) {
    const want = Buffer.from(totpCode(p, at + drift * p.period * 1000));
    if (want.length === given.length && timingSafeEqual(want, given)) return true;
  }
  return false;
}

/** A new 160-bit seed, base32, as RFC 4226 recommends. */
export const newTotpSecret = () => base32Encode(randomBytes(20));

/** A seed serialised for sealing: what parseTotpSeed reads back. */
export function totpUri(p: TotpParams, label: string, issuer: string) {
  const u = new URL(`otpauth://totp/${encodeURIComponent(issuer)}:${encodeURIComponent(label)}`);
  u.searchParams.set("secret", base32Encode(p.secret));
  u.searchParams.set("issuer", issuer);
  u.searchParams.set("algorithm", p.algorithm.toUpperCase());
  u.searchParams.set("digits", String(p.digits));
  u.searchParams.set("period", String(p.period));
  return u.toString();
}
