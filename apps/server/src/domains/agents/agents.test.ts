import { generateKeyPairSync, randomUUID, sign } from "node:crypto";
import { chmod, mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { commandMessage } from "@switchboard/shared";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentClient } from "../../../../agent/src/client.ts";
import { sysv } from "../../../../agent/src/commands/services.ts";
import { enroll } from "../../../../agent/src/enroll.ts";
import type { AgentState } from "../../../../agent/src/state.ts";
import { createTestApp, makeUser, type TestApp, type TestUser } from "../../../test/helpers.ts";
import { enrollmentSetup, type GatewayApp, startGatewayApp, waitFor } from "../../gateway/test-support.ts";
import { AGENT_FILES, type AgentTarget, availableBuilds, platformInstalls } from "./builds.ts";
import { expireQueued } from "./command-records.ts";
import { installCommands } from "./enrollment.ts";
import { signCommandPayload } from "./signing-key.ts";

// One real server (HTTP API + gateway on loopback) and one real agent client enrolled through the API.
describe("agents end to end", () => {
  let t: GatewayApp;
  let admin: TestUser;
  let clientId: string;
  let state: AgentState;
  let stateDir: string;
  let initDir: string;
  let agent: AgentClient;
  const rejected: string[] = [];

  beforeAll(async () => {
    t = await startGatewayApp();
    const setup = await enrollmentSetup(t);
    admin = setup.admin;
    clientId = setup.client.id;
    stateDir = await mkdtemp(path.join(os.tmpdir(), "sb-agent-"));
    initDir = await mkdtemp(path.join(os.tmpdir(), "sb-init-"));
    // A SysV init script: what `service printspool restart` runs on a machine without systemd.
    await writeFile(
      path.join(initDir, "printspool"),
      `#!/bin/sh\ncase "$1" in\n  restart) echo restarted >> "${initDir}/log"; echo "printspool restarted";;\n  status) exit 0;;\nesac\n`,
    );
    await chmod(path.join(initDir, "printspool"), 0o755);
    state = await enroll({
      server: t.url,
      token: setup.token.token,
      fingerprint: setup.token.serverKeyFingerprint,
      stateDir,
      hostname: "frontdesk-01",
    });
    agent = new AgentClient({
      state,
      stateDir,
      services: sysv(initDir),
      backoff: { baseMs: 100, maxMs: 500, spreadMs: 200 },
    });
    agent.on("rejected", (reason: string) => rejected.push(reason));
    agent.start();
  });
  afterAll(async () => {
    await agent?.stop();
    await t?.close();
  });

  const api = (method: "GET" | "POST", url: string, payload?: object, user: TestUser = admin) =>
    t.app.inject({ method, url, headers: user.auth, payload });

  async function runCommand(command: object, extra: object = {}) {
    const res = await api("POST", `/api/v1/devices/${state.deviceId}/commands`, { command, ...extra });
    expect(res.statusCode, res.body).toBe(202);
    const id = res.json().id as string;
    return waitFor(`command ${id}`, async () => {
      const c = (await api("GET", `/api/v1/device-commands/${id}`)).json();
      return ["succeeded", "failed", "timed_out", "refused"].includes(c.status) ? c : undefined;
    });
  }

  it("enrolls the machine, shows it online with its inventory", async () => {
    // Collection runs dpkg and apt-get: allow for a busy machine.
    const device = await waitFor(
      "inventory",
      async () => {
        const d = (await api("GET", `/api/v1/devices/${state.deviceId}`)).json();
        return d.status === "online" && d.inventory ? d : undefined;
      },
      90_000,
    );
    // Enrolled as frontdesk-01; the inventory reports the machine's own name.
    expect(device).toMatchObject({ clientId, hostname: os.hostname(), platform: "linux" });
    expect(device.inventory.os.platform).toBe("linux");
    expect(device.inventory.cpu.cores).toBeGreaterThan(0);
    expect(device.inventory.memory.totalBytes).toBeGreaterThan(0);
    expect(device.inventory.network.length).toBeGreaterThan(0);
    expect(device.inventory.disks.length).toBeGreaterThan(0);
    expect(device.lastSeenAt).not.toBeNull();

    const list = (await api("GET", `/api/v1/devices?clientId=${clientId}&status=online`)).json();
    expect(list.items.map((d: { id: string }) => d.id)).toEqual([state.deviceId]);
    const audit = await t.db
      .selectFrom("audit_log")
      .selectAll()
      .where("entity_id", "=", state.deviceId)
      .execute();
    expect(audit.map((a) => a.action)).toContain("device.enrolled");
  }, 120_000);

  it("runs a script and brings back its streamed output and exit code", async () => {
    const c = await runCommand({
      kind: "script.run",
      interpreter: "bash",
      script: 'for i in 1 2 3; do echo "line $i"; done; echo oops >&2; exit 3',
    });
    expect(c).toMatchObject({
      status: "failed",
      exitCode: 3,
      stdout: "line 1\nline 2\nline 3\n",
      stderr: "oops\n",
    });
    expect(c.requestedBy).toEqual({ userId: admin.id, label: admin.name });
    const audit = await t.db
      .selectFrom("audit_log")
      .selectAll()
      .where("action", "=", "device.command")
      .where("entity_id", "=", state.deviceId)
      .execute();
    expect(audit.find((a) => (a.after as { commandId: string }).commandId === c.id)?.actor_user_id).toBe(
      admin.id,
    );
    const events = await t.db
      .selectFrom("domain_events")
      .select("type")
      .where(sql<boolean>`payload @> ${JSON.stringify({ commandId: c.id })}::jsonb`)
      .execute();
    expect(events.map((e) => e.type).sort()).toEqual(["command.created", "command.failed"]);
  });

  it("stops a script at its timeout and at its output limit", async () => {
    const slow = await runCommand({
      kind: "script.run",
      interpreter: "sh",
      script: "echo start; sleep 30",
      timeoutSeconds: 1,
    });
    expect(slow).toMatchObject({ status: "timed_out", stdout: "start\n" });
    const loud = await runCommand({
      kind: "script.run",
      interpreter: "sh",
      script: "yes x | head -c 100000",
      outputLimitBytes: 1000,
    });
    expect(loud).toMatchObject({ status: "succeeded", truncated: true });
    expect(loud.stdout.length).toBe(1000);
  });

  it("lists services and restarts one", async () => {
    const listed = await runCommand({ kind: "service.list" });
    expect(listed.services).toEqual([{ name: "printspool", state: "running" }]);
    const restarted = await runCommand({ kind: "service.restart", name: "printspool" });
    expect(restarted).toMatchObject({ status: "succeeded", exitCode: 0, stdout: "printspool restarted\n" });
    expect(await readFile(path.join(initDir, "log"), "utf8")).toBe("restarted\n");
    const missing = await runCommand({ kind: "service.restart", name: "nosuch" });
    expect(missing).toMatchObject({ status: "failed", error: "no service named nosuch" });
  });

  it("refuses a bad service name before anything is signed", async () => {
    const res = await api("POST", `/api/v1/devices/${state.deviceId}/commands`, {
      command: { kind: "service.restart", name: "../../bin/sh" },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.issues[0].path).toBe("body.command.name");
  });

  it("writes a command launched from a ticket on the ticket's timeline", async () => {
    const status = await t.db
      .selectFrom("ticket_statuses")
      .select("id")
      .where("category", "=", "new")
      .executeTakeFirstOrThrow();
    const ticket = await t.db
      .insertInto("tickets")
      .values({
        subject: "Print spooler stuck",
        client_id: clientId,
        type: "incident",
        source: "phone",
        priority: 3,
        status_id: status.id,
        status_category: "new",
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    const c = await runCommand({ kind: "service.restart", name: "printspool" }, { ticketId: ticket.id });
    expect(c.ticketId).toBe(ticket.id);
    const entries = await waitFor("timeline", async () => {
      const rows = await t.db
        .selectFrom("timeline_entries")
        .selectAll()
        .where("ticket_id", "=", ticket.id)
        .orderBy("seq")
        .execute();
      return rows.length >= 2 ? rows : undefined;
    });
    expect(entries.map((e) => e.body)).toEqual([
      expect.stringMatching(/^Restarted service printspool on \S+$/),
      "Command service.restart succeeded (exit code 0)",
    ]);
    expect(entries[0]?.author_user_id).toBe(admin.id);
  });

  it("refuses forged, expired, replayed and misaddressed commands, and logs each refusal", async () => {
    const marker = path.join(stateDir, "must-not-exist");
    const script = {
      kind: "script.run",
      interpreter: "sh",
      script: `touch ${marker}`,
      timeoutSeconds: 5,
      outputLimitBytes: 1000,
    };
    const payload = (over: object = {}) =>
      JSON.stringify({
        v: 1,
        id: randomUUID(),
        deviceId: state.deviceId,
        issuedAt: new Date().toISOString(),
        expiresAt: new Date(Date.now() + 60_000).toISOString(),
        command: script,
        ...over,
      });
    const key = await t.app.agents.serverKey();
    const send = (p: string, signature: string) =>
      t.app.agents.hub.deliver(state.deviceId, JSON.stringify({ type: "command", payload: p, signature }));

    const forged = payload();
    const otherKey = generateKeyPairSync("ed25519").privateKey;
    expect(
      await send(forged, sign(null, Buffer.from(commandMessage(forged)), otherKey).toString("base64")),
    ).toBe(true);
    const unsigned = payload();
    await send(unsigned, "");
    const expired = payload({
      issuedAt: new Date(Date.now() - 120_000).toISOString(),
      expiresAt: new Date(Date.now() - 60_000).toISOString(),
    });
    await send(expired, signCommandPayload(key, expired));
    const elsewhere = payload({ deviceId: randomUUID() });
    await send(elsewhere, signCommandPayload(key, elsewhere));
    // A real command, run once; then the same signed bytes again.
    const ok = await runCommand({ kind: "script.run", interpreter: "sh", script: "echo once" });
    const stored = await t.db
      .selectFrom("device_commands")
      .select(["payload", "signature"])
      .where("id", "=", ok.id)
      .executeTakeFirstOrThrow();
    await send(stored.payload, stored.signature);

    const refusals = await waitFor("refusals", async () => {
      const rows = await t.db
        .selectFrom("audit_log")
        .select("after")
        .where("action", "=", "device.command_refused")
        .where("entity_id", "=", state.deviceId)
        .execute();
      return rows.length >= 5 ? rows.map((r) => r.after as { commandId: string; reason: string }) : undefined;
    });
    const reasonOf = (p: string) => refusals.find((r) => r.commandId === JSON.parse(p).id)?.reason;
    expect(reasonOf(forged)).toBe("bad_signature");
    expect(reasonOf(unsigned)).toBe("bad_signature");
    expect(reasonOf(expired)).toBe("expired");
    expect(reasonOf(elsewhere)).toBe("wrong_device");
    expect(reasonOf(stored.payload)).toBe("replayed");
    expect(rejected).toEqual(
      expect.arrayContaining(["bad_signature", "expired", "wrong_device", "replayed"]),
    );
    // The replay did not touch the command it copied.
    expect((await api("GET", `/api/v1/device-commands/${ok.id}`)).json()).toMatchObject({
      status: "succeeded",
      stdout: "once\n",
    });
    await expect(readFile(marker)).rejects.toThrow();
  });

  it("keeps a command for an offline device and delivers it on reconnect", async () => {
    await agent.stop();
    await waitFor(
      "offline",
      async () => (await api("GET", `/api/v1/devices/${state.deviceId}`)).json().status === "offline",
    );
    const res = await api("POST", `/api/v1/devices/${state.deviceId}/commands`, {
      command: { kind: "script.run", interpreter: "sh", script: "echo queued" },
    });
    expect(res.json().status).toBe("queued");
    agent.start();
    const done = await waitFor("queued command", async () => {
      const c = (await api("GET", `/api/v1/device-commands/${res.json().id}`)).json();
      return c.status === "succeeded" ? c : undefined;
    });
    expect(done.stdout).toBe("queued\n");
    const history = (await api("GET", `/api/v1/devices/${state.deviceId}/commands?limit=100`)).json();
    expect(history.items[0].id).toBe(done.id);
    expect(history.items.length).toBeGreaterThan(5);
  });

  it("closes out commands that can no longer finish", async () => {
    const base = {
      device_id: state.deviceId,
      client_id: clientId,
      kind: "service.list",
      command: JSON.stringify({ kind: "service.list" }),
      payload: "{}",
      signature: "x",
      requested_by_label: "test",
    };
    const hourAgo = new Date(Date.now() - 3600_000);
    const rows = await t.db
      .insertInto("device_commands")
      .values([
        { ...base, status: "queued", expires_at: hourAgo },
        { ...base, status: "sent", expires_at: hourAgo },
        { ...base, status: "running", expires_at: hourAgo, started_at: new Date(Date.now() - 26 * 3600_000) },
        { ...base, status: "running", expires_at: hourAgo, started_at: new Date() },
      ])
      .returning("id")
      .execute();
    await expireQueued(t.db);
    const after = await t.db
      .selectFrom("device_commands")
      .select(["id", "status", "error"])
      .where(
        "id",
        "in",
        rows.map((r) => r.id),
      )
      .execute();
    const byId = new Map(after.map((r) => [r.id, [r.status, r.error]]));
    expect(rows.map((r) => byId.get(r.id))).toEqual([
      ["expired", "not delivered before it expired"],
      ["expired", "the agent never started it"],
      ["failed", "no result from the agent"],
      ["running", null],
    ]);
    await t.db
      .deleteFrom("device_commands")
      .where(
        "id",
        "in",
        rows.map((r) => r.id),
      )
      .execute();
  });

  it("hides devices and commands of clients a technician may not see", async () => {
    const outsider = await makeUser(t, { clientIds: [] });
    expect((await api("GET", `/api/v1/devices/${state.deviceId}`, undefined, outsider)).statusCode).toBe(404);
    expect(
      (await api("GET", `/api/v1/devices?clientId=${clientId}`, undefined, outsider)).json().items,
    ).toEqual([]);
    const run = await api(
      "POST",
      `/api/v1/devices/${state.deviceId}/commands`,
      { command: { kind: "service.list" } },
      outsider,
    );
    expect(run.statusCode).toBe(404);
    const readonly = await makeUser(t, { role: "readonly" });
    const ro = await api(
      "POST",
      `/api/v1/devices/${state.deviceId}/commands`,
      { command: { kind: "service.list" } },
      readonly,
    );
    expect(ro.statusCode).toBe(403);
  });

  it("retires the device: the connection is closed and the agent refused and stopped", async () => {
    await waitFor("online again", async () => agent.connected);
    const retired = new Promise<void>((resolve) => agent.once("retired", () => resolve()));
    const res = await api("POST", `/api/v1/devices/${state.deviceId}/retire`);
    expect(res.json().status).toBe("retired");
    await retired;
    const after = await api("POST", `/api/v1/devices/${state.deviceId}/commands`, {
      command: { kind: "service.list" },
    });
    expect(after.statusCode).toBe(409);
    const audit = await t.db
      .selectFrom("audit_log")
      .select("actor_user_id")
      .where("action", "=", "device.retired")
      .where("entity_id", "=", state.deviceId)
      .execute();
    expect(audit).toEqual([{ actor_user_id: admin.id }]);
  });
});

const ALL_BUILDS = new Set(Object.keys(AGENT_FILES) as AgentTarget[]);

describe("the Windows install command", () => {
  it("puts the agent and its service wrapper in one folder, then installs from there", () => {
    const cmd = installCommands("https://sb.example.com", "sbe_tok", "ab12", ALL_BUILDS).windows;
    expect(cmd).toMatch(/^powershell -NoProfile -Command "[^"]+"$/);
    const steps = cmd.slice(cmd.indexOf('"') + 1, -1).split("; ");
    expect(steps).toContain("Stop-Service SwitchboardAgent -ErrorAction SilentlyContinue");
    expect(steps).toContain(
      "Invoke-WebRequest -UseBasicParsing https://sb.example.com/agent/download/win-x64 -OutFile switchboard-agent.exe",
    );
    expect(steps).toContain(
      "Invoke-WebRequest -UseBasicParsing https://sb.example.com/agent/download/windows-service -OutFile switchboard-agent-service.exe",
    );
    expect(steps.at(-1)).toBe(
      ".\\switchboard-agent.exe install --server https://sb.example.com --token sbe_tok --fingerprint ab12",
    );
    expect(steps.findIndex((s) => s.startsWith("Set-Location"))).toBeLessThan(
      steps.findIndex((s) => s.startsWith("Invoke-WebRequest")),
    );
  });
});

describe("install commands for the builds a server has", () => {
  let t0: TestApp;
  beforeAll(async () => {
    t0 = await createTestApp();
  });
  afterAll(async () => t0?.close());
  const url = "https://sb.example.com";
  const byKey = (have: AgentTarget[]) =>
    Object.fromEntries(platformInstalls(url, "sbe_tok", "ab12", new Set(have)).map((p) => [p.key, p]));

  it("offers nothing that would 404 on a fresh server, and says what is missing", () => {
    const p = byKey([]);
    for (const k of ["linux", "macos", "windows"]) {
      expect(p[k]).toMatchObject({ available: false, command: null });
      expect(p[k]?.note).toContain("npm run build:agent");
    }
    expect(byKey(["win-x64"]).windows?.note).toContain("switchboard-agent-service.exe");
  });

  it("picks the Mac build by architecture, and serves Apple Silicon the Intel build through Rosetta when it is the only one", () => {
    const both = byKey(["darwin-x64", "darwin-arm64"]).macos;
    expect(both?.command).toContain("arm64) T=darwin-arm64;;");
    expect(both?.command).toContain("x86_64) T=darwin-x64;;");
    expect(both?.note).toBeNull();
    const intel = byKey(["darwin-x64"]).macos;
    expect(intel?.command).toContain("*) T=darwin-x64;;");
    expect(intel?.command).not.toContain("darwin-arm64");
    expect(intel?.note).toContain("Rosetta");
    // Every download named is one the server has.
    for (const [have, cmd] of [
      [["linux-x64"], byKey(["linux-x64"]).linux?.command],
      [["darwin-x64"], intel?.command],
    ] as const) {
      const named = [...(cmd ?? "").matchAll(/T=([a-z0-9-]+)/g)].map((m) => m[1]);
      expect(named.every((n) => (have as readonly string[]).includes(n as string))).toBe(true);
    }
  });

  it("runs in a POSIX shell: the Linux command is valid sh", async () => {
    const cmd = byKey(["linux-x64", "linux-arm64"]).linux?.command ?? "";
    const { execFileSync } = await import("node:child_process");
    // sh -n parses without running: the quoting and the case statement are well-formed.
    execFileSync("sh", ["-n", "-c", cmd.replace(/^sh -c '/, "").replace(/'$/, "")]);
  });

  it("tells the console which builds exist, matching the downloads", async () => {
    const have = availableBuilds();
    for (const t of Object.keys(AGENT_FILES) as AgentTarget[]) {
      const res = await t0.app.inject({ method: "GET", url: `/agent/download/${t}` });
      expect(res.statusCode, t).toBe(have.has(t) ? 200 : 404);
      if (!have.has(t)) expect(res.json().error.message).toContain("npm run build:agent");
    }
  });
});
