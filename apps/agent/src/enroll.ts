import { createHash, generateKeyPairSync } from "node:crypto";
import { rmSync } from "node:fs";
import os from "node:os";
import { EnrollResponse, SupportEnrollResponse } from "@switchboard/shared";
import type { z } from "zod";
import { type AgentState, retiredFile, saveState } from "./state.ts";
import { AGENT_VERSION } from "./version.ts";

export interface EnrollOptions {
  server: string;
  token: string;
  /** SHA-256 (hex) of the server key, from the install command: pins the key before it is first used. */
  fingerprint?: string;
  stateDir: string;
  hostname?: string;
}

export class EnrollError extends Error {}

const platform = () =>
  process.platform === "linux" || process.platform === "win32" || process.platform === "darwin"
    ? process.platform
    : "other";

/** Makes this machine's key pair, registers the public half with the server and pins the server's key. */
export async function enroll(opts: EnrollOptions): Promise<AgentState> {
  const { state } = await register(opts, "/api/v1/agent/enroll", { token: opts.token }, EnrollResponse);
  // A new enrollment is a new device: a retirement of the one before no longer applies.
  rmSync(retiredFile(opts.stateDir), { force: true });
  return state;
}

/**
 * The one-time support agent: the same registration with the caller's support code instead of a token,
 * as a temporary device bound to one support session (its state goes in a temporary folder).
 */
export async function enrollForSupport(opts: Omit<EnrollOptions, "token"> & { code: string }) {
  return register(opts, "/api/v1/agent/support-enroll", { code: opts.code }, SupportEnrollResponse);
}

async function register<S extends typeof EnrollResponse | typeof SupportEnrollResponse>(
  opts: Omit<EnrollOptions, "token">,
  route: string,
  credential: Record<string, string>,
  schema: S,
): Promise<{ state: AgentState; response: z.infer<S> }> {
  const server = opts.server.replace(/\/$/, "");
  const pair = generateKeyPairSync("ed25519");
  const publicKey = pair.publicKey.export({ format: "der", type: "spki" }).toString("base64");
  const res = await fetch(`${server}${route}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      ...credential,
      publicKey,
      hostname: opts.hostname ?? os.hostname(),
      platform: platform(),
      arch: process.arch,
      osName: os.type(),
      osVersion: os.release(),
      agentVersion: AGENT_VERSION,
    }),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json().catch(() => null)) as { error?: { message?: string } } | null;
  if (!res.ok)
    throw new EnrollError(`Enrollment refused (${res.status}): ${body?.error?.message ?? res.statusText}`);
  const parsed = schema.safeParse(body);
  if (!parsed.success) throw new EnrollError("The server answered enrollment with something unexpected");
  const serverKey = parsed.data.serverPublicKey;
  if (opts.fingerprint) {
    const actual = createHash("sha256").update(Buffer.from(serverKey, "base64")).digest("hex");
    if (actual !== opts.fingerprint.toLowerCase()) {
      throw new EnrollError("The server's key does not match the fingerprint in the install command");
    }
  }
  const state: AgentState = {
    serverUrl: server,
    gatewayPath: parsed.data.gatewayPath,
    deviceId: parsed.data.deviceId,
    privateKeyPem: pair.privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
    publicKey,
    serverPublicKey: serverKey,
  };
  saveState(opts.stateDir, state);
  return { state, response: parsed.data as z.infer<S> };
}
