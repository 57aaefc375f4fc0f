import { type ChildProcess, spawn } from "node:child_process";
import { createHash, generateKeyPairSync, randomBytes } from "node:crypto";
import { access, chmod, copyFile, mkdtemp, readdir, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isolatedDatabase, makeClient, makeUser, type TestUser } from "../../../../test/helpers.ts";
import { asSystem } from "../../../db/scope.ts";
import { binary, canRun, ensureBuilt } from "../../../gateway/agent-build.ts";
import { type GatewayApp, startGatewayApp, waitFor } from "../../../gateway/test-support.ts";
import { CALM, makeTicket, openShell } from "../test-support.ts";
import { supportHousekeeping } from "./housekeeping.ts";

// "Control and shell on request": the technician asks, the caller allows it, runs the support mode of the
// real agent (from source, as a separate process) with the one-time code, the technician gets a shell on
// the caller's machine, and the end of the session stops the agent, retires the device and kills the code.
const canPty = process.platform === "linux";
const agentMain = path.resolve(import.meta.dirname, "../../../../../agent/src/main.ts");

/**
 * The agent in support mode: by default Node runs its TypeScript source (the same code the executable
 * bundles); `exe` runs that executable instead.
 */
async function supportAgent(
  server: string,
  code: string,
  fingerprint: string,
  executable?: (tmp: string) => Promise<string>,
) {
  // The agent's temporary directory: what it leaves behind is whatever remains in here.
  const tmp = await mkdtemp(path.join(os.tmpdir(), "sb-support-agent-"));
  const exe = executable ? await executable(tmp) : undefined;
  const args = ["support", "--server", server, "--code", code, "--fingerprint", fingerprint];
  const proc: ChildProcess = spawn(exe ?? process.execPath, exe ? args : [agentMain, ...args], {
    env: { ...process.env, TMPDIR: tmp, SWITCHBOARD_AGENT_SHELL: "/bin/sh" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  proc.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) => proc.on("exit", (c) => resolve(c)));
  return { proc, tmp, exited, output: () => out };
}

/** Well before the housekeeping sweep (every 30 s) would stop an agent the end forgot to tell. */
const promptly = <T>(p: Promise<T>) =>
  Promise.race([
    p,
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error("the agent did not stop within 20 s")), 20_000),
    ),
  ]);

const publicKey = () =>
  generateKeyPairSync("ed25519").publicKey.export({ format: "der", type: "spki" }).toString("base64");

describe.skipIf(!canPty)("control and shell on request (the support agent)", () => {
  let t: GatewayApp;
  let tech: TestUser;
  let clientId: string;
  const agents: Array<Awaited<ReturnType<typeof supportAgent>>> = [];

  const as = (user: TestUser) => (method: "GET" | "POST", url: string, payload?: object) =>
    t.app.inject({ method, url, headers: user.auth, payload });
  const caller = (token: string) => (method: "GET" | "POST", url: string, payload?: object) =>
    t.app.inject({ method, url, headers: { "x-support-token": token }, payload });
  const enrollWith = (code: string) =>
    t.app.inject({
      method: "POST",
      url: "/api/v1/agent/support-enroll",
      payload: {
        code,
        publicKey: publicKey(),
        hostname: "callers-laptop",
        platform: "linux",
        arch: "x64",
        osName: "Linux",
        osVersion: "test",
        agentVersion: "test",
      },
    });

  /** A session the caller has joined and allowed (screen sharing, chat): status active. */
  async function activeSession(user = tech) {
    const ticket = await makeTicket(t, user.auth, clientId);
    const minted = await as(user)("POST", `/api/v1/tickets/${ticket.id}/support-sessions`);
    expect(minted.statusCode, minted.body).toBe(201);
    const { id, code } = minted.json() as { id: string; code: string };
    const joined = await t.app.inject({ method: "POST", url: "/api/v1/join", payload: { code } });
    expect(joined.statusCode, joined.body).toBe(200);
    const token = joined.json().token as string;
    const ok = await caller(token)("POST", "/api/v1/join/consent", { scope: "session", granted: true });
    expect(ok.statusCode, ok.body).toBe(200);
    return { id, token, ticket, user, call: caller(token) };
  }

  /** Active, control asked for and allowed, and a code issued. */
  async function controlled(user = tech) {
    const s = await activeSession(user);
    expect((await as(user)("POST", `/api/v1/support-sessions/${s.id}/control-request`)).statusCode).toBe(201);
    const allowed = await s.call("POST", "/api/v1/join/consent", { scope: "control", granted: true });
    expect(allowed.statusCode, allowed.body).toBe(200);
    const offer = await s.call("POST", "/api/v1/join/support-agent");
    expect(offer.statusCode, offer.body).toBe(201);
    return {
      ...s,
      offer: offer.json() as { code: string; serverKeyFingerprint: string; downloads: unknown[] },
    };
  }

  beforeAll(async () => {
    t = await startGatewayApp(CALM, await isolatedDatabase());
    await t.db.insertInto("msp").values({ name: "Lakeshore Managed IT" }).execute();
    tech = await makeUser(t, { role: "technician", name: "Dana Whitfield" });
    clientId = (await makeClient(t)).id;
  });
  afterAll(async () => {
    for (const a of agents) a.proc.kill("SIGKILL");
    await t?.close();
  });

  it("runs the support agent with the code, gives the technician a shell, and removes everything at the end", async () => {
    const s = await controlled();
    expect(s.offer.code).toMatch(/^[0-9A-HJKMNP-TV-Z]{5}-[0-9A-HJKMNP-TV-Z]{5}$/);
    const linux = (
      s.offer.downloads as Array<{ key: string; command: string | null; available: boolean }>
    ).find((d) => d.key === "linux");
    if (linux?.available) {
      expect(linux.command).toMatch(
        new RegExp(`mktemp -d.*support --server \\S+ --code ${s.offer.code} --fingerprint [0-9a-f]{64}'$`),
      );
    }
    // Stored only as a hash.
    const stored = await t.db.selectFrom("support_agent_codes").selectAll().execute();
    expect(JSON.stringify(stored)).not.toContain(s.offer.code);

    const agent = await supportAgent(t.url, s.offer.code, s.offer.serverKeyFingerprint);
    agents.push(agent);
    await waitFor(
      "the support agent connected",
      async () => agent.output().includes("Connected."),
      30_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}: ${agent.output()}`);
    });
    expect(agent.output()).toContain("Dana Whitfield of Lakeshore Managed IT");
    const view = (await as(tech)("GET", `/api/v1/support-sessions/${s.id}`)).json();
    expect(view.supportDevices).toHaveLength(1);
    const deviceId = view.supportDevices[0].id as string;
    await waitFor("the device online", async () => t.app.agents.hub.isLocal(deviceId));
    const device = (await as(tech)("GET", `/api/v1/devices/${deviceId}`)).json();
    expect(device).toMatchObject({ clientId, supportSessionId: s.id, status: "online" });

    // The code worked once: used again (by anyone), it is refused like a wrong one.
    const reused = await enrollWith(s.offer.code);
    expect(reused.statusCode).toBe(401);

    // The technician's existing shell, on the caller's machine, tied to the session.
    const { client } = await openShell(t, tech.auth, deviceId);
    await waitFor("shell open", async () => client.status === "open", 30_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(client.frames)}\n${agent.output()}`);
    });
    client.type("echo $((6*7))\r");
    await client.waitForScreen("42", (lines) => lines.some((l) => /(^|\s)42$/.test(l)));

    // And the existing file transfer, both ways, with the same SHA-256.
    const target = path.join(await mkdtemp(path.join(os.tmpdir(), "sb-support-files-")), "notes.txt");
    const data = Buffer.from(`reservation service log ${randomBytes(8).toString("hex")}\n`);
    const boundary = `----sb${randomBytes(8).toString("hex")}`;
    const up = await t.app.inject({
      method: "POST",
      url: `/api/v1/devices/${deviceId}/files?path=${encodeURIComponent(target)}`,
      headers: { ...tech.auth, "content-type": `multipart/form-data; boundary=${boundary}` },
      payload: Buffer.concat([
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="notes.txt"\r\nContent-Type: application/octet-stream\r\n\r\n`,
        ),
        data,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]),
    });
    expect(up.statusCode, up.body).toBe(200);
    expect(await readFile(target)).toEqual(data);
    const down = await as(tech)("POST", `/api/v1/devices/${deviceId}/file-downloads`, { path: target });
    expect(down.statusCode, down.body).toBe(200);
    expect(down.json().file.sha256).toBe(createHash("sha256").update(data).digest("hex"));

    // Another technician, even in their own live session with the same client, cannot reach it.
    const other = await makeUser(t, { role: "technician" });
    const theirs = await activeSession(other);
    for (const body of [{}, { supportSessionId: theirs.id }]) {
      const res = await as(other)("POST", `/api/v1/devices/${deviceId}/shells`, {
        cols: 80,
        rows: 24,
        ...body,
      });
      expect(res.statusCode, res.body).toBe(400);
    }

    // Nor can commands (scripts, reboots) go to it: the caller allowed a shell and files to one person.
    const admin = await makeUser(t, { role: "admin" });
    const command = await as(admin)("POST", `/api/v1/devices/${deviceId}/commands`, {
      command: { kind: "script.run", interpreter: "sh", script: "id" },
    });
    expect(command.statusCode, command.body).toBe(409);

    // The caller clicks end: the agent is told to stop, exits, and deletes its temporary folder.
    expect((await s.call("POST", "/api/v1/join/end")).statusCode).toBe(204);
    // Told at once, not found later by the 30-second sweep.
    expect(await promptly(agent.exited)).toBe(0);
    expect(agent.output()).toContain(
      "The support session ended: the support agent stopped and removed itself.",
    );
    expect(await readdir(agent.tmp)).toEqual([]);
    expect((await client.closed).code).toBeGreaterThan(0);

    const after = (await as(tech)("GET", `/api/v1/devices/${deviceId}`)).json();
    expect(after.status).toBe("retired");
    expect(t.app.agents.hub.isLocal(deviceId)).toBe(false);
    expect((await enrollWith(s.offer.code)).statusCode).toBe(401);
    expect((await s.call("POST", "/api/v1/join/support-agent")).statusCode).toBe(409);
    const shell = await as(tech)("POST", `/api/v1/devices/${deviceId}/shells`, { cols: 80, rows: 24 });
    expect(shell.statusCode).toBe(409);

    // The record: asked, allowed, started, removed; and who did what in the audit log.
    const ended = (await as(tech)("GET", `/api/v1/support-sessions/${s.id}`)).json();
    const kinds = (ended.events as Array<{ kind: string; data: Record<string, unknown> | null }>)
      .filter((e) => e.data?.scope === "control" || e.kind === "agent")
      .map((e) => `${e.kind}:${e.data?.state ?? e.data?.scope}`);
    expect(kinds).toEqual(["consent_request:control", "consent:control", "agent:started", "agent:retired"]);
    const audit = await t.db
      .selectFrom("audit_log")
      .select("action")
      .where((eb) => eb.or([eb("entity_id", "=", s.ticket.id), eb("entity_id", "=", deviceId)]))
      .execute();
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining([
        "support.control_requested",
        "support.consent_given",
        "support.agent_code_issued",
        "support.agent_enrolled",
        "device.enrolled",
        "device.retired",
        "support.session_end",
      ]),
    );
    const timeline = (await as(tech)("GET", `/api/v1/tickets/${s.ticket.id}/timeline?limit=20`)).json();
    expect(JSON.stringify(timeline)).toContain("The support agent started on");
  }, 90_000);

  it("stops the agent when the technician ends the session", async () => {
    const s = await controlled();
    const agent = await supportAgent(t.url, s.offer.code, s.offer.serverKeyFingerprint);
    agents.push(agent);
    await waitFor("connected", async () => agent.output().includes("Connected."), 30_000);
    expect((await as(tech)("POST", `/api/v1/support-sessions/${s.id}/end`)).statusCode).toBe(200);
    expect(await agent.exited).toBe(0);
    expect(await readdir(agent.tmp)).toEqual([]);
  }, 60_000);

  it("stops the agent when the caller takes control back, and the session goes on", async () => {
    const s = await controlled();
    const agent = await supportAgent(t.url, s.offer.code, s.offer.serverKeyFingerprint);
    agents.push(agent);
    await waitFor("connected", async () => agent.output().includes("Connected."), 30_000);
    const back = await s.call("POST", "/api/v1/join/consent", { scope: "control", granted: false });
    expect(back.statusCode, back.body).toBe(200);
    expect(await promptly(agent.exited)).toBe(0);
    expect(await readdir(agent.tmp)).toEqual([]);
    const view = (await as(tech)("GET", `/api/v1/support-sessions/${s.id}`)).json();
    expect(view.status).toBe("active");
    expect(view.supportDevices.map((d: { status: string }) => d.status)).toEqual(["retired"]);
    // Chat goes on; control can be asked for again, and only a new answer gives a new code.
    expect((await s.call("POST", "/api/v1/join/support-agent")).statusCode).toBe(409);
  }, 60_000);

  it.skipIf(!canRun)(
    "the executable deletes itself, its folder and its temporary state when the session ends",
    async () => {
      await ensureBuilt();
      const s = await controlled();
      let exe = "";
      // Where the caller's terminal line puts it: a folder of its own in the temporary directory.
      const agent = await supportAgent(t.url, s.offer.code, s.offer.serverKeyFingerprint, async (tmp) => {
        exe = path.join(await mkdtemp(path.join(tmp, "tmp.")), "switchboard-support");
        await copyFile(binary, exe);
        await chmod(exe, 0o700);
        return exe;
      });
      agents.push(agent);
      await waitFor("connected", async () => agent.output().includes("Connected."), 60_000).catch(
        (err: Error) => {
          throw new Error(`${err.message}: ${agent.output()}`);
        },
      );
      expect((await s.call("POST", "/api/v1/join/end")).statusCode).toBe(204);
      expect(await promptly(agent.exited)).toBe(0);
      await expect(access(exe)).rejects.toThrow();
      // Neither the executable's folder nor the agent's state folder is left.
      expect(await readdir(agent.tmp)).toEqual([]);
    },
    120_000,
  );

  it("gives no code before the caller allows control, and none after they decline", async () => {
    const s = await activeSession();
    // Not even asked yet.
    expect(
      (await s.call("POST", "/api/v1/join/consent", { scope: "control", granted: true })).statusCode,
    ).toBe(400);
    expect((await s.call("POST", "/api/v1/join/support-agent")).statusCode).toBe(409);
    await as(tech)("POST", `/api/v1/support-sessions/${s.id}/control-request`);
    // Asked, not answered: still nothing.
    expect((await s.call("POST", "/api/v1/join/support-agent")).statusCode).toBe(409);
    await s.call("POST", "/api/v1/join/consent", { scope: "control", granted: false });
    expect((await s.call("POST", "/api/v1/join/support-agent")).statusCode).toBe(409);
    // Only the session's technician may ask; a session not yet allowed cannot be asked.
    const other = await makeUser(t, { role: "technician" });
    expect((await as(other)("POST", `/api/v1/support-sessions/${s.id}/control-request`)).statusCode).toBe(
      404,
    );
  });

  it("refuses a code that expired, one whose consent was taken back, one of an ended session, and a new code voids the old", async () => {
    const expired = await controlled();
    await t.db
      .updateTable("support_agent_codes")
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where("session_id", "=", expired.id)
      .execute();
    expect((await enrollWith(expired.offer.code)).statusCode).toBe(401);

    const withdrawn = await controlled();
    await withdrawn.call("POST", "/api/v1/join/consent", { scope: "control", granted: false });
    expect((await enrollWith(withdrawn.offer.code)).statusCode).toBe(401);

    const ended = await controlled();
    await as(tech)("POST", `/api/v1/support-sessions/${ended.id}/end`);
    const refused = await enrollWith(ended.offer.code);
    expect(refused.statusCode).toBe(401);
    // One answer for every refusal: nothing tells a guess which codes exist.
    expect((await enrollWith("ABCDE-FGHJK")).json().error.message).toBe(refused.json().error.message);
    expect((await enrollWith("not a code")).statusCode).toBe(400);

    const twice = await controlled();
    const second = (await twice.call("POST", "/api/v1/join/support-agent")).json().code as string;
    expect((await enrollWith(twice.offer.code)).statusCode).toBe(401);
    const ok = await enrollWith(second.toLowerCase().replace("-", ""));
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json()).toMatchObject({ supportSessionId: twice.id, technicianName: "Dana Whitfield" });
    // The device exists only for that session: ending it retires the device.
    await twice.call("POST", "/api/v1/join/end");
    const d = await t.db
      .selectFrom("devices")
      .select("retired_at")
      .where("id", "=", ok.json().deviceId)
      .executeTakeFirstOrThrow();
    expect(d.retired_at).not.toBeNull();
  });

  it("ends a session left open past its limit, and retires a support device a crash left behind", async () => {
    const housekeeping = () =>
      asSystem(() =>
        supportHousekeeping({
          db: t.db,
          hub: t.app.agents.hub,
          bus: t.app.remote.bus,
          config: t.deps.config,
        }),
      );
    const forgotten = await controlled();
    const a = (await enrollWith(forgotten.offer.code)).json().deviceId as string;
    await t.db
      .updateTable("support_sessions")
      .set({ joined_at: new Date(Date.now() - 5 * 3600_000) })
      .where("id", "=", forgotten.id)
      .execute();
    const crashed = await controlled();
    const b = (await enrollWith(crashed.offer.code)).json().deviceId as string;
    // As if the process died between ending the session and retiring its devices.
    await t.db
      .updateTable("support_sessions")
      .set({ status: "ended" })
      .where("id", "=", crashed.id)
      .execute();
    const live = await controlled();
    const c = (await enrollWith(live.offer.code)).json().deviceId as string;

    // (The app's own timer may have run it first: the outcome is the same either way.)
    await housekeeping();
    const view = (await as(tech)("GET", `/api/v1/support-sessions/${forgotten.id}`)).json();
    expect(view).toMatchObject({
      status: "ended",
      endedBy: "system",
      endReason: "the session reached its limit of 4 hours",
    });
    const devices = await t.db
      .selectFrom("devices")
      .select(["id", "retired_at"])
      .where("id", "in", [a, b, c])
      .execute();
    const retired = Object.fromEntries(devices.map((d) => [d.id, d.retired_at !== null]));
    expect(retired).toEqual({ [a]: true, [b]: true, [c]: false });
  });
});
