// Shared by the gateway and agent tests (not collected as a test itself): a real app listening on
// loopback with the gateway attached, and a bare protocol client for the abuse cases the real agent
// never produces.
import { generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";
import { mkdtemp } from "node:fs/promises";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { AGENT_WS_PATH, agentAuthMessage, PROTOCOL_VERSION } from "@switchboard/shared";
import pino from "pino";
import { inject } from "vitest";
import WebSocket from "ws";
import { connectAppDatabase, makeClient, makeUser } from "../../test/helpers.ts";
import { type AppDeps, buildApp } from "../app.ts";
import { loadConfig } from "../config.ts";
import { LiveHub } from "../domains/events/live.ts";
import { LocalBlobStore } from "../lib/blob-store.ts";
import { startGateway } from "./start.ts";

export type GatewayApp = Awaited<ReturnType<typeof startGatewayApp>>;

/**
 * createTestApp's app with a logger that keeps what the gateway logs (tests assert the logged reasons),
 * the gateway attached, listening on a loopback port.
 */
export async function startGatewayApp(env: Record<string, string> = {}, databaseUrl?: string) {
  const url = databaseUrl ?? inject("databaseUrl");
  const handle = await connectAppDatabase(url, { max: 5 });
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "switchboard-gw-"));
  const config = loadConfig({
    SWITCHBOARD_DATA_DIR: dataDir,
    AGENT_HEARTBEAT_SECONDS: "1",
    AGENT_OFFLINE_AFTER_MISSED: "2",
    ...env,
  });
  const logs: Array<Record<string, unknown>> = [];
  const logger = pino(
    { level: "info" },
    { write: (line: string) => void logs.push(JSON.parse(line) as Record<string, unknown>) },
  );
  const live = new LiveHub(handle.db, url);
  await live.start();
  const deps: AppDeps = {
    db: handle.db,
    config,
    live,
    blobs: new LocalBlobStore(path.join(dataDir, "blobs")),
    boss: null,
    logger,
  };
  const app = await buildApp(deps);
  const { gateway, stop, tlsPort } = await startGateway(app, deps);
  await app.listen({ port: 0, host: "127.0.0.1" });
  const { port } = app.server.address() as AddressInfo;
  return {
    app,
    db: handle.db,
    deps,
    gateway,
    logs,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}${AGENT_WS_PATH}`,
    /** With AGENT_TLS_CERT_FILE/KEY_FILE (and AGENT_TLS_PORT=0): the TLS listener. */
    tlsUrl: tlsPort ? `https://127.0.0.1:${tlsPort}` : null,
    async close() {
      await stop();
      await app.close();
      await live.close();
      await handle.close();
    },
  };
}

/** Polls until `check` returns a value other than undefined/false, for at most `ms`. */
export async function waitFor<T>(
  what: string,
  check: () => Promise<T | undefined | false>,
  ms = 15_000,
): Promise<T> {
  const deadline = Date.now() + ms;
  for (let i = 0; Date.now() < deadline && i < 10_000; i++) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** An admin, a client, and an enrollment token for it. */
export async function enrollmentSetup(t: GatewayApp, body: Record<string, unknown> = {}) {
  const admin = await makeUser(t, { role: "admin" });
  const client = await makeClient(t);
  const res = await t.app.inject({
    method: "POST",
    url: "/api/v1/enrollment-tokens",
    headers: admin.auth,
    payload: { clientId: client.id, maxUses: 5, ...body },
  });
  if (res.statusCode !== 201) throw new Error(`token: ${res.statusCode} ${res.body}`);
  return { admin, client, token: res.json() as { id: string; token: string; serverKeyFingerprint: string } };
}

/** Enrolls a key over HTTP the way the agent does; returns the device id and private key. */
export async function enrollRaw(t: GatewayApp, token: string) {
  const pair = generateKeyPairSync("ed25519");
  const res = await fetch(`${t.url}/api/v1/agent/enroll`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      token,
      publicKey: pair.publicKey.export({ format: "der", type: "spki" }).toString("base64"),
      hostname: `raw-${randomBytes(3).toString("hex")}`,
      platform: "linux",
      arch: "x64",
      osName: "Linux",
      osVersion: "test",
      agentVersion: "test",
    }),
  });
  const body = (await res.json()) as { deviceId: string };
  return { status: res.status, deviceId: body.deviceId, key: pair.privateKey, body };
}

export interface RawAgent {
  ws: WebSocket;
  frames: unknown[];
  closed: Promise<{ code: number; reason: string }>;
  send(frame: unknown): void;
}

/** Opens a socket and (unless `auth` is false) completes the signed handshake as `deviceId`. */
export async function rawAgent(
  wsUrl: string,
  opts: { deviceId?: string; key?: KeyObject; auth?: boolean; features?: string[] } = {},
): Promise<RawAgent> {
  const ws = new WebSocket(wsUrl);
  const frames: unknown[] = [];
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() }));
    ws.on("unexpected-response", (_req, res) => resolve({ code: res.statusCode ?? 0, reason: "http" }));
    ws.on("error", () => {});
  });
  const challenge = new Promise<{ nonce: string }>((resolve) => {
    ws.on("message", (d) => {
      const f = JSON.parse(d.toString()) as { type: string; nonce: string };
      frames.push(f);
      if (f.type === "challenge") resolve(f);
    });
  });
  const agent = {
    ws,
    frames,
    closed,
    send: (f: unknown) => ws.send(typeof f === "string" ? f : JSON.stringify(f)),
  };
  const first = await Promise.race([challenge, closed.then(() => null)]);
  if (!first || opts.auth === false || !opts.deviceId || !opts.key) return agent;
  const agentNonce = randomBytes(32).toString("base64");
  agent.send({
    type: "auth",
    protocol: PROTOCOL_VERSION,
    deviceId: opts.deviceId,
    agentNonce,
    signature: sign(
      null,
      Buffer.from(agentAuthMessage(opts.deviceId, first.nonce, agentNonce)),
      opts.key,
    ).toString("base64"),
    agentVersion: "test",
    ...(opts.features ? { features: opts.features } : {}),
  });
  return agent;
}

/** Whether a NATS server answers at `url` (CI runs one on 4222; a machine without one skips those tests). */
export async function natsReachable(url: string): Promise<boolean> {
  const u = new URL(url);
  return new Promise((resolve) => {
    const s = net.connect(Number(u.port || 4222), u.hostname);
    s.setTimeout(1000);
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
    s.once("timeout", () => {
      s.destroy();
      resolve(false);
    });
  });
}
