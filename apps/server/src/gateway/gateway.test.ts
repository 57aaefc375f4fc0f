import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { CloseCode } from "@switchboard/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { enroll } from "../../../agent/src/enroll.ts";
import { availableBuilds } from "../domains/agents/builds.ts";
import {
  enrollmentSetup,
  enrollRaw,
  type GatewayApp,
  rawAgent,
  startGatewayApp,
  waitFor,
} from "./test-support.ts";

// Heartbeat 1 s, offline after 2 missed (startGatewayApp's defaults), so presence changes within seconds.
describe("agent gateway: presence, bad input and abuse", () => {
  let t: GatewayApp;
  let token: string;
  let adminAuth: { authorization: string };
  beforeAll(async () => {
    t = await startGatewayApp({ AGENT_MAX_MESSAGE_BYTES: "8192" });
    const setup = await enrollmentSetup(t, { maxUses: 50 });
    token = setup.token.token;
    adminAuth = setup.admin.auth;
  });
  afterAll(() => t?.close());

  const status = async (id: string) =>
    (await t.app.inject({ method: "GET", url: `/api/v1/devices/${id}`, headers: adminAuth })).json().status;
  const welcomed = (a: { frames: unknown[] }) =>
    waitFor("welcome", async () => a.frames.some((f) => (f as { type: string }).type === "welcome"));

  it("marks a silent agent offline after the configured missed heartbeats, and a dropped one at once", async () => {
    const silent = await enrollRaw(t, token);
    const a = await rawAgent(t.wsUrl, { deviceId: silent.deviceId, key: silent.key });
    await welcomed(a);
    expect(await status(silent.deviceId)).toBe("online");
    // 2 missed 1 s heartbeats, plus the liveness check's own period and a margin for a loaded machine.
    const closed = await Promise.race([a.closed, new Promise<null>((r) => setTimeout(() => r(null), 5000))]);
    expect(closed?.code).toBe(CloseCode.timeout);
    await waitFor("silent offline", async () => (await status(silent.deviceId)) === "offline", 2000);

    const dropped = await enrollRaw(t, token);
    const b = await rawAgent(t.wsUrl, { deviceId: dropped.deviceId, key: dropped.key });
    await welcomed(b);
    b.ws.terminate();
    await waitFor("dropped offline", async () => (await status(dropped.deviceId)) === "offline", 2000);

    const events = await t.db
      .selectFrom("domain_events")
      .select(["type", "payload"])
      .where("type", "in", ["device.online", "device.offline"])
      .orderBy("id")
      .execute();
    const of = (id: string) => events.filter((e) => e.payload.deviceId === id).map((e) => e.type);
    expect(of(silent.deviceId)).toEqual(["device.online", "device.offline"]);
    expect(of(dropped.deviceId)).toEqual(["device.online", "device.offline"]);
  });

  it("closes a connection that sends garbage, with a logged reason, and leaves the others alone", async () => {
    const good = await enrollRaw(t, token);
    const keeper = await rawAgent(t.wsUrl, { deviceId: good.deviceId, key: good.key });
    await welcomed(keeper);
    const keepAlive = setInterval(() => keeper.send({ type: "heartbeat", seq: 1 }), 300);
    try {
      const notJson = await rawAgent(t.wsUrl, { auth: false });
      notJson.send("{not json");
      expect(await notJson.closed).toEqual({ code: CloseCode.badMessage, reason: "frame is not JSON" });

      const bad = await enrollRaw(t, token);
      const wrongShape = await rawAgent(t.wsUrl, { deviceId: bad.deviceId, key: bad.key });
      await welcomed(wrongShape);
      wrongShape.send({ type: "heartbeat", seq: "seven" });
      expect((await wrongShape.closed).code).toBe(CloseCode.badMessage);

      const early = await rawAgent(t.wsUrl, { auth: false });
      early.send({ type: "heartbeat", seq: 1 });
      expect(await early.closed).toEqual({ code: CloseCode.badMessage, reason: "expected auth" });

      const huge = await rawAgent(t.wsUrl, { deviceId: bad.deviceId, key: bad.key });
      await welcomed(huge);
      huge.send({ type: "heartbeat", seq: 1, pad: "x".repeat(20_000) });
      expect((await huge.closed).code).toBe(1009);

      const reasons = t.logs.filter((l) => l.msg === "agent connection closed").map((l) => l.reason);
      expect(reasons).toEqual(expect.arrayContaining(["frame is not JSON", "expected auth"]));
      expect(reasons.some((r) => String(r).startsWith("invalid frame: seq"))).toBe(true);
      expect(t.logs.some((l) => l.msg === "agent frame too large")).toBe(true);

      expect(keeper.ws.readyState).toBe(keeper.ws.OPEN);
      expect(
        await t.app.agents.hub.deliver(good.deviceId, JSON.stringify({ type: "inventory.request" })),
      ).toBe(true);
      await waitFor("frame reached the survivor", async () =>
        keeper.frames.some((f) => (f as { type: string }).type === "inventory.request"),
      );
    } finally {
      clearInterval(keepAlive);
      keeper.ws.close();
    }
  });

  it("applies inventory changes on the inventory it holds, and asks for the whole when the base differs", async () => {
    const dev = await enrollRaw(t, token);
    const a = await rawAgent(t.wsUrl, { deviceId: dev.deviceId, key: dev.key });
    await welcomed(a);
    const inventory = {
      hostname: "circ-desk-2",
      os: { platform: "win32", name: "Windows 11 Pro", version: "10.0.22631", arch: "x64" },
      hardware: { manufacturer: "Dell Inc.", model: "OptiPlex 7010" },
      cpu: { model: "Intel Core i5", cores: 8, speedMhz: 3000 },
      memory: { totalBytes: 16e9, freeBytes: 9e9 },
      disks: [{ mount: "C:", fs: "NTFS", totalBytes: 500e9, freeBytes: 120e9 }],
      network: [],
      users: ["LIB\\circ"],
      uptimeSeconds: 3600,
      software: [{ name: "Google Chrome", version: "131.0", publisher: "Google LLC" }],
      updates: { source: "windows_update", count: 2, items: [{ name: "KB5044284" }, { name: "KB5043080" }] },
    };
    a.send({ type: "inventory", full: true, hash: "h1", inventory });
    a.send({
      type: "inventory",
      full: false,
      hash: "h2",
      baseHash: "h1",
      changes: { uptimeSeconds: 7200, updates: null },
    });
    const detail = await waitFor("inventory h2", async () => {
      const d = (
        await t.app.inject({ method: "GET", url: `/api/v1/devices/${dev.deviceId}`, headers: adminAuth })
      ).json();
      return d.inventory?.uptimeSeconds === 7200 ? d : undefined;
    });
    expect(detail).toMatchObject({
      hostname: "circ-desk-2",
      osName: "Windows 11 Pro",
      osVersion: "10.0.22631",
    });
    expect(detail.inventory).toEqual({ ...inventory, uptimeSeconds: 7200, updates: null });
    a.send({ type: "inventory", full: false, hash: "h4", baseHash: "h3", changes: { uptimeSeconds: 1 } });
    await waitFor("inventory.request", async () =>
      a.frames.some((f) => (f as { type: string }).type === "inventory.request"),
    );
    const after = (
      await t.app.inject({ method: "GET", url: `/api/v1/devices/${dev.deviceId}`, headers: adminAuth })
    ).json();
    expect(after.inventory.uptimeSeconds).toBe(7200);
    a.ws.close();
  });

  it("refuses a handshake with the wrong key, an unknown device and a retired one", async () => {
    const dev = await enrollRaw(t, token);
    const other = await enrollRaw(t, token);
    const wrongKey = await rawAgent(t.wsUrl, { deviceId: dev.deviceId, key: other.key });
    expect(await wrongKey.closed).toEqual({ code: CloseCode.authFailed, reason: "bad signature" });
    const unknown = await rawAgent(t.wsUrl, { deviceId: crypto.randomUUID(), key: dev.key });
    expect(await unknown.closed).toEqual({ code: CloseCode.authFailed, reason: "unknown device" });

    const retire = await t.app.inject({
      method: "POST",
      url: `/api/v1/devices/${dev.deviceId}/retire`,
      headers: adminAuth,
    });
    expect(retire.statusCode).toBe(200);
    const retired = await rawAgent(t.wsUrl, { deviceId: dev.deviceId, key: dev.key });
    expect(await retired.closed).toEqual({ code: CloseCode.retired, reason: "device retired" });
    expect(await status(dev.deviceId)).toBe("retired");
  });

  it("refuses revoked, expired, used-up and unknown enrollment tokens with a clear message", async () => {
    const stateDir = await mkdtemp(path.join(os.tmpdir(), "sb-enroll-"));
    const attempt = (tok: string) =>
      enroll({ server: t.url, token: tok, stateDir }).then(
        () => "enrolled",
        (e: Error) => e.message,
      );

    const once = await enrollmentSetup(t, { maxUses: 1 });
    expect(await attempt(once.token.token)).toBe("enrolled");
    expect(await attempt(once.token.token)).toBe(
      "Enrollment refused (403): The enrollment token has been used 1 of 1 times",
    );

    const revoked = await enrollmentSetup(t);
    const res = await t.app.inject({
      method: "POST",
      url: `/api/v1/enrollment-tokens/${revoked.token.id}/revoke`,
      headers: revoked.admin.auth,
    });
    expect(res.json().status).toBe("revoked");
    expect(await attempt(revoked.token.token)).toBe(
      "Enrollment refused (403): The enrollment token has been revoked",
    );

    const expired = await enrollmentSetup(t);
    await t.db
      .updateTable("enrollment_tokens")
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where("id", "=", expired.token.id)
      .execute();
    expect(await attempt(expired.token.token)).toMatch(
      /^Enrollment refused \(403\): The enrollment token expired at /,
    );

    expect(await attempt("sbe_notatokenatall")).toBe(
      "Enrollment refused (401): The enrollment token is not valid",
    );
    // One character changed (to a different one: the token's own may already be an "x").
    const forged = once.token.token.replace(
      /^sbe_(.)/,
      (_m: string, c: string) => `sbe_${c === "x" ? "y" : "x"}`,
    );
    expect(await attempt(forged)).toBe("Enrollment refused (401): The enrollment token is not valid");

    const pinned = await enrollmentSetup(t);
    const mismatch = await enroll({
      server: t.url,
      token: pinned.token.token,
      stateDir,
      fingerprint: "00".repeat(32),
    }).catch((e: Error) => e.message);
    expect(mismatch).toBe("The server's key does not match the fingerprint in the install command");
  });

  it("gives install commands and lists tokens with their state, for admins only", async () => {
    const setup = await enrollmentSetup(t, { expiresInHours: 2, maxUses: 3, label: "Library branch" });
    const created = await t.app.inject({
      method: "POST",
      url: "/api/v1/enrollment-tokens",
      headers: setup.admin.auth,
      payload: { clientId: setup.client.id },
    });
    const body = created.json();
    if (availableBuilds().has("linux-x64")) {
      expect(body.installCommands.linux).toContain(
        `--token ${body.token} --fingerprint ${body.serverKeyFingerprint}`,
      );
    }
    // Only what this server has built is offered (CI builds linux-x64 alone); the rest says what is missing.
    const have = availableBuilds();
    const windows = body.platforms.find((p: { key: string }) => p.key === "windows");
    if (have.has("win-x64") && have.has("windows-service")) {
      expect(body.installCommands.windows).toContain("switchboard-agent.exe install");
    } else {
      expect(windows).toMatchObject({ available: false, command: null });
      expect(windows.note).toContain("npm run build:agent");
      expect(body.installCommands.windows).toBe("");
    }
    const list = await t.app.inject({
      method: "GET",
      url: `/api/v1/enrollment-tokens?clientId=${setup.client.id}`,
      headers: setup.admin.auth,
    });
    expect(list.json().items.map((i: { status: string; maxUses: number }) => [i.status, i.maxUses])).toEqual([
      ["active", 1],
      ["active", 3],
    ]);
    expect(JSON.stringify(list.json())).not.toContain(body.token);
    const tech = await import("../../test/helpers.ts").then((h) => h.makeUser(t, { role: "technician" }));
    const denied = await t.app.inject({
      method: "POST",
      url: "/api/v1/enrollment-tokens",
      headers: tech.auth,
      payload: { clientId: setup.client.id },
    });
    expect(denied.statusCode).toBe(403);
  });
});

describe("agent gateway: connection flood", () => {
  let t: GatewayApp;
  beforeAll(async () => {
    t = await startGatewayApp({ AGENT_CONNECTS_PER_ADDRESS_PER_MINUTE: "3" });
  });
  afterAll(() => t?.close());

  it("limits new connections per source address", async () => {
    const results: number[] = [];
    for (let i = 0; i < 6; i++) {
      const a = await rawAgent(t.wsUrl, { auth: false });
      if (a.frames.length) {
        results.push(101);
        a.ws.close();
      } else results.push((await a.closed).code);
    }
    expect(results).toEqual([101, 101, 101, 429, 429, 429]);
    expect(t.logs.filter((l) => l.msg === "agent connection rate limit hit")).toHaveLength(3);
  });
});
