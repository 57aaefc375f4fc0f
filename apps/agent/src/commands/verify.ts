import { type KeyObject, verify } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import {
  CommandPayload,
  commandMessage,
  type CommandPayload as Payload,
  type RejectReason,
} from "@switchboard/shared";
import type { z } from "zod";
import { writePrivateJson } from "../state.ts";

/** The longest a command may live: bounds how long an id must be remembered. */
const MAX_LIFETIME_MS = 25 * 3600_000;

export type Verdict = SignedVerdict<Payload>;

/**
 * Remembers every command id run until it expires, on disk, so a captured command cannot be replayed,
 * not even after the agent restarts.
 */
export class ReplayGuard {
  private readonly file: string;
  private readonly seen = new Map<string, number>();

  constructor(stateDir: string) {
    this.file = path.join(stateDir, "seen-commands.json");
    if (existsSync(this.file)) {
      try {
        const entries = JSON.parse(readFileSync(this.file, "utf8")) as Array<[string, number]>;
        for (const [id, exp] of entries) this.seen.set(id, exp);
      } catch {
        // A corrupt file would otherwise stop the agent; ids in it are still refused as expired or unsigned.
      }
    }
  }

  has(id: string) {
    return this.seen.has(id);
  }

  remember(id: string, expiresAt: number, now: number) {
    for (const [k, exp] of this.seen) if (exp < now) this.seen.delete(k);
    this.seen.set(id, expiresAt);
    writePrivateJson(this.file, [...this.seen]);
  }
}

/**
 * Signature first (over the exact bytes received), then shape, then addressee, expiry and replay. `now` is
 * server time as the agent estimates it, so a skewed local clock does not expire every command.
 */
export function verifyCommand(
  serverKey: KeyObject,
  deviceId: string,
  frame: { payload: string; signature: string },
  guard: ReplayGuard,
  now: number,
): Verdict {
  return verifySigned(serverKey, deviceId, frame, guard, now, {
    message: commandMessage,
    schema: CommandPayload,
    maxLifetimeMs: MAX_LIFETIME_MS,
  });
}

/** What every signed payload has: an id remembered against replay, an addressee and a lifetime. */
interface SignedPayload {
  id: string;
  deviceId: string;
  issuedAt: string;
  expiresAt: string;
}

export type SignedVerdict<T> =
  | { ok: true; payload: T }
  | { ok: false; reason: RejectReason; commandId: string | null };

/** The checks of verifyCommand for any kind of signed payload (commands, remote sessions). */
export function verifySigned<T extends SignedPayload>(
  serverKey: KeyObject,
  deviceId: string,
  frame: { payload: string; signature: string },
  guard: ReplayGuard,
  now: number,
  kind: { message: (payload: string) => string; schema: z.ZodType<T>; maxLifetimeMs: number },
): SignedVerdict<T> {
  let idHint: string | null = null;
  try {
    const loose = JSON.parse(frame.payload) as { id?: unknown };
    if (typeof loose.id === "string") idHint = loose.id.slice(0, 100);
  } catch {
    // reported as bad_signature or malformed below
  }
  let signed = false;
  try {
    signed = verify(
      null,
      Buffer.from(kind.message(frame.payload)),
      serverKey,
      Buffer.from(frame.signature, "base64"),
    );
  } catch {
    signed = false;
  }
  if (!signed) return { ok: false, reason: "bad_signature", commandId: idHint };
  let parsed: z.ZodSafeParseResult<T>;
  try {
    parsed = kind.schema.safeParse(JSON.parse(frame.payload));
  } catch {
    return { ok: false, reason: "malformed", commandId: idHint };
  }
  if (!parsed.success) return { ok: false, reason: "unsupported", commandId: idHint };
  const p = parsed.data;
  if (p.deviceId !== deviceId) return { ok: false, reason: "wrong_device", commandId: p.id };
  const expires = Date.parse(p.expiresAt);
  if (expires <= now) return { ok: false, reason: "expired", commandId: p.id };
  if (expires - Date.parse(p.issuedAt) > kind.maxLifetimeMs)
    return { ok: false, reason: "malformed", commandId: p.id };
  if (guard.has(p.id)) return { ok: false, reason: "replayed", commandId: p.id };
  guard.remember(p.id, expires, now);
  return { ok: true, payload: p };
}
