import { createPublicKey, randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { verifyChecks } from "../../../../agent/src/checks/runner.ts";
import { makeClient, makeUser } from "../../../test/helpers.ts";
import {
  enrollmentSetup,
  enrollRaw,
  type GatewayApp,
  type RawAgent,
  rawAgent,
  startGatewayApp,
  waitFor,
} from "../../gateway/test-support.ts";
import { runSweep } from "./sweep.ts";

// Simulated agents against the real server, gateway and database: which checks a device is given, and
// how the results it sends move alerts and tickets.

let t: GatewayApp;
let setup: Awaited<ReturnType<typeof enrollmentSetup>>;
const auth = () => setup.admin.auth;
const api = (method: "GET" | "POST" | "PUT" | "DELETE", url: string, payload?: object, headers = auth()) =>
  t.app.inject({ method, url, headers, payload });

beforeAll(async () => {
  // Raw agents send no heartbeats: a long interval keeps them connected through each test.
  t = await startGatewayApp({ MONITORING_REOPEN_SECONDS: "900", AGENT_HEARTBEAT_SECONDS: "60" });
  setup = await enrollmentSetup(t, { maxUses: 50 });
});
afterAll(() => t?.close());

async function connect() {
  const e = await enrollRaw(t, setup.token.token);
  const agent = await rawAgent(t.wsUrl, { deviceId: e.deviceId, key: e.key, features: ["checks"] });
  const frame = await waitFor(
    "the checks frame",
    async () =>
      agent.frames.find((f) => (f as { type: string }).type === "checks") as
        | { payload: string; signature: string }
        | undefined,
  );
  return { deviceId: e.deviceId, agent, frame };
}

let seq = 0;
const result = (checkId: string, state: string, streak: number, output = `${state} ${++seq}`) => ({
  checkId,
  state,
  output,
  streak,
  at: new Date().toISOString(),
});
const send = (agent: RawAgent, results: object[], summary = false) =>
  agent.send({ type: "check.results", summary, results });

const alertsOf = async (deviceId: string) =>
  (await api("GET", `/api/v1/alerts?deviceId=${deviceId}&state=all`)).json().items as Array<{
    id: string;
    state: string;
    failCount: number;
    flaps: number;
    ticket: { id: string; number: number; priority: number } | null;
    version: number;
    output: string;
  }>;
const ticketOf = async (id: string) => (await api("GET", `/api/v1/tickets/${id}`)).json();

async function policy(body: object) {
  const res = await api("POST", "/api/v1/monitoring/policies", { clientId: setup.client.id, ...body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; checks: Array<{ id: string; name: string }> };
}

describe("checks and their alerts", () => {
  it("gives each device its inherited checks, signed, with site and device overrides and exclusions", async () => {
    const site = await t.db
      .insertInto("sites")
      .values({ client_id: setup.client.id, name: "Library", timezone: "UTC" })
      .returning("id")
      .executeTakeFirstOrThrow();
    const e = await enrollRaw(t, setup.token.token);
    await t.db.updateTable("devices").set({ site_id: site.id }).where("id", "=", e.deviceId).execute();
    await policy({
      name: "Client baseline",
      checks: [
        { name: "System disk", config: { kind: "disk", volume: "/", minFreePercent: 10 } },
        { name: "CPU", config: { kind: "cpu", maxPercent: 90 } },
        { name: "Spooler", config: { kind: "service", service: "spooler" } },
      ],
    });
    await policy({
      name: "Library site",
      siteId: site.id,
      checks: [
        { name: "System disk", config: { kind: "disk", volume: "/", minFreePercent: 25 } },
        { name: "CPU", config: { kind: "cpu", maxPercent: 90 }, enabled: false },
      ],
    });
    await policy({
      name: "Reservations server",
      deviceId: e.deviceId,
      checks: [
        { name: "Reservations", config: { kind: "service", service: "reservations" }, severity: "critical" },
      ],
    });
    const agent = await rawAgent(t.wsUrl, { deviceId: e.deviceId, key: e.key, features: ["checks"] });
    const frame = await waitFor(
      "the checks frame",
      async () =>
        agent.frames.find((f) => (f as { type: string }).type === "checks") as
          | { payload: string; signature: string }
          | undefined,
    );
    const key = await t.app.agents.serverKey();
    const pinned = createPublicKey({
      key: Buffer.from(key.publicKey, "base64"),
      format: "der",
      type: "spki",
    });
    const verdict = verifyChecks(pinned, e.deviceId, frame, Date.now(), 0);
    expect(verdict.ok).toBe(true);
    if (!verdict.ok) return;
    const byName = Object.fromEntries(verdict.payload.checks.map((c) => [c.name, c.config]));
    expect(Object.keys(byName).sort()).toEqual(["Reservations", "Spooler", "System disk"]);
    expect(byName["System disk"]).toMatchObject({ minFreePercent: 25 });
    // Another device's agent, or a tampered payload, is refused by the agent.
    expect(verifyChecks(pinned, randomUUID(), frame, Date.now(), 0)).toMatchObject({
      ok: false,
      reason: "wrong device",
    });
    const tampered = { ...frame, payload: frame.payload.replace("spooler", "sshd") };
    expect(verifyChecks(pinned, e.deviceId, tampered, Date.now(), 0)).toMatchObject({
      ok: false,
      reason: "bad signature",
    });
    agent.ws.close();
  });

  it("fires after N failures, ignores summaries and flaps, resolves after M passes, reopens the same ticket", async () => {
    const { deviceId, agent } = await connect();
    const p = await policy({
      name: "Web",
      deviceId,
      checks: [
        {
          name: "Portal",
          config: { kind: "http", url: "https://portal.example.test/" },
          severity: "high",
          failAfter: 3,
          passAfter: 2,
        },
      ],
    });
    const checkId = p.checks[0]!.id;
    // A summary carrying a failure only records the state: no alert.
    send(agent, [result(checkId, "critical", 1)], true);
    const monitoring = async () => (await api("GET", `/api/v1/devices/${deviceId}/monitoring`)).json();
    // (The client's baseline policy from the first test applies here too: find this check by its id.)
    await waitFor(
      "the summary's state",
      async () =>
        (await monitoring()).checks.find((c: { check: { id: string } }) => c.check.id === checkId)?.state ===
          "critical" || undefined,
    );
    expect(await alertsOf(deviceId)).toHaveLength(0);

    send(agent, [result(checkId, "critical", 1)]);
    send(agent, [result(checkId, "critical", 2)]);
    const pending = await waitFor("pending", async () => {
      const [a] = await alertsOf(deviceId);
      return a?.failCount === 2 ? a : undefined;
    });
    expect(pending).toMatchObject({ state: "pending", ticket: null });

    send(agent, [result(checkId, "critical", 3, "status 503")]);
    const fired = await waitFor("firing", async () => {
      const [a] = await alertsOf(deviceId);
      return a?.state === "firing" ? a : undefined;
    });
    expect(fired.ticket?.priority).toBe(2);
    expect((await ticketOf(fired.ticket!.id)).description).toContain("status 503");

    // One pass, then a failure: a flap on the same alert, never a second one.
    send(agent, [result(checkId, "ok", 1)]);
    send(agent, [result(checkId, "critical", 1)]);
    await waitFor("the flap counted", async () => (await alertsOf(deviceId))[0]?.flaps === 1 || undefined);
    send(agent, [result(checkId, "ok", 1)]);
    send(agent, [result(checkId, "ok", 2, "status 200")]);
    await waitFor("resolved", async () => (await alertsOf(deviceId))[0]?.state === "resolved" || undefined);
    expect((await ticketOf(fired.ticket!.id)).status.category).toBe("resolved");

    // Failing again soon after: the same alert and ticket reopen.
    send(agent, [result(checkId, "critical", 1)]);
    await waitFor("reopened", async () => (await alertsOf(deviceId))[0]?.state === "firing" || undefined);
    const alerts = await alertsOf(deviceId);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.ticket!.id).toBe(fired.ticket!.id);
    expect((await ticketOf(fired.ticket!.id)).status.category).toBe("open");
    const tickets = await t.db
      .selectFrom("tickets")
      .select("id")
      .where("client_id", "=", setup.client.id)
      .where("subject", "like", "%Portal failing")
      .execute();
    expect(tickets).toHaveLength(1);
    agent.ws.close();
  });

  it("never sends checks to an agent from before monitoring (it would close on the frame)", async () => {
    const e = await enrollRaw(t, setup.token.token);
    await policy({
      name: "Old agent",
      deviceId: e.deviceId,
      checks: [{ name: "Disk", config: { kind: "disk", volume: "/", minFreePercent: 5 } }],
    });
    const agent = await rawAgent(t.wsUrl, { deviceId: e.deviceId, key: e.key });
    await waitFor("the welcome", async () =>
      agent.frames.some((f) => (f as { type: string }).type === "welcome"),
    );
    // A policy change pushed to it is dropped as well.
    await t.app.monitoring.push([e.deviceId]);
    await new Promise((r) => setTimeout(r, 300));
    expect(agent.frames.map((f) => (f as { type: string }).type)).not.toContain("checks");
    expect(agent.ws.readyState).toBe(agent.ws.OPEN);
    agent.ws.close();
  });

  it("refuses malformed or foreign results without closing the connection", async () => {
    const { deviceId, agent } = await connect();
    const p = await policy({
      name: "Port",
      deviceId,
      checks: [{ name: "SQL port", config: { kind: "tcp", host: "10.0.0.5", port: 1433 }, failAfter: 1 }],
    });
    send(agent, [{ checkId: "not-a-uuid", state: "exploded", output: 5 }]);
    send(agent, [result(randomUUID(), "critical", 1)]);
    send(agent, [result(p.checks[0]!.id, "critical", 1, "10.0.0.5:1433: connect ECONNREFUSED")]);
    const a = await waitFor("the valid result's alert", async () => (await alertsOf(deviceId))[0]);
    expect(a.output).toContain("ECONNREFUSED");
    expect(agent.ws.readyState).toBe(agent.ws.OPEN);
    expect(t.logs.some((l) => l.msg === "malformed check results refused")).toBe(true);
    expect(t.logs.some((l) => l.msg === "check results for checks the device does not run")).toBe(true);
    agent.ws.close();
  });

  it("holds a check alert's ticket during maintenance; the sweep opens it when the window ends", async () => {
    const { deviceId, agent } = await connect();
    const p = await policy({
      name: "Backups",
      deviceId,
      checks: [
        {
          name: "Backup job",
          config: { kind: "process", process: "backupd" },
          failAfter: 1,
          severity: "critical",
        },
      ],
    });
    const win = await api("POST", "/api/v1/monitoring/maintenance", {
      clientId: setup.client.id,
      deviceId,
      startsAt: new Date(Date.now() - 60_000).toISOString(),
      endsAt: new Date(Date.now() + 3_600_000).toISOString(),
      reason: "server migration",
    });
    expect(win.statusCode, win.body).toBe(201);
    send(agent, [result(p.checks[0]!.id, "critical", 1, "backupd is not running")]);
    const a = await waitFor("firing", async () =>
      (await alertsOf(deviceId)).find((x) => x.state === "firing"),
    );
    expect(a.ticket).toBeNull();
    expect((await api("DELETE", `/api/v1/monitoring/maintenance/${win.json().id}`)).statusCode).toBe(204);
    await waitFor(
      "the sweep's ticket",
      async () =>
        (await runSweep(t.db, {
          offlineGraceSeconds: 3600,
          recoverSeconds: 30,
          correlationSeconds: 30,
          siteMinOffline: 2,
          siteOfflinePercent: 50,
          reopenSeconds: 900,
        })) !== null || undefined,
    );
    const [after] = await alertsOf(deviceId);
    expect(after!.ticket?.priority).toBe(1);
    agent.ws.close();
  });
});

describe("remediation by script", () => {
  it("sends the check's script once as a signed command, shows its failure on the alert, and retries it", async () => {
    const { deviceId, agent } = await connect();
    const created = await api("POST", "/api/v1/monitoring/policies", {
      clientId: setup.client.id,
      deviceId,
      name: "Spooler self-heal",
      checks: [
        {
          name: "Print spooler port",
          config: { kind: "tcp", host: "127.0.0.1", port: 9100 },
          severity: "critical",
          failAfter: 1,
          remediation: { kind: "script.run", interpreter: "sh", script: "systemctl restart cups\n" },
        },
      ],
    });
    expect(created.statusCode, created.body).toBe(201);
    const check = created.json().checks[0];
    expect(check.remediation).toEqual({
      kind: "script.run",
      interpreter: "sh",
      script: "systemctl restart cups\n",
      timeoutSeconds: 120,
    });
    await waitFor(
      "the new checks frame",
      async () =>
        agent.frames.some((f) => (f as { type: string; payload?: string }).payload?.includes(check.id)) ||
        undefined,
    );
    send(agent, [result(check.id, "critical", 1, "127.0.0.1:9100: connect ECONNREFUSED")]);

    const commandsSent = () =>
      agent.frames
        .filter((f) => (f as { type: string }).type === "command")
        .map(
          (f) =>
            JSON.parse((f as { payload: string }).payload) as {
              id: string;
              command: { kind: string; script?: string };
            },
        );
    const first = await waitFor("the remediation command", async () => commandsSent()[0]);
    expect(first.command).toMatchObject({ kind: "script.run", script: "systemctl restart cups\n" });
    const fired = await waitFor("the alert with its ticket", async () => {
      const a = (await alertsOf(deviceId))[0];
      return a?.ticket ? a : undefined;
    });
    const timeline = JSON.stringify(
      (await api("GET", `/api/v1/tickets/${fired.ticket!.id}/timeline`)).json(),
    );
    expect(timeline).toContain("Trying the check's remediation once: run its sh script.");

    // The script fails on the device: the alert says so, with the exit code.
    send(agent, { type: "command.started", commandId: first.id } as never);
    agent.send({
      type: "command.result",
      commandId: first.id,
      status: "failed",
      exitCode: 5,
      truncated: false,
    });
    const failed = await waitFor("the failed remediation on the alert", async () => {
      const a = (await api("GET", `/api/v1/alerts/${fired.id}`)).json();
      return a.remediation?.status === "failed" ? a : undefined;
    });
    expect(failed.remediation).toMatchObject({ kind: "script.run", exitCode: 5 });

    // Retry sends the same script again, as a new signed command.
    const retry = await api("POST", `/api/v1/alerts/${fired.id}/remediate`, {});
    expect(retry.statusCode, retry.body).toBe(200);
    expect(retry.json().remediation.commandId).not.toBe(first.id);
    const second = await waitFor("the retried command", async () => commandsSent()[1]);
    expect(second.command).toMatchObject({ kind: "script.run", script: "systemctl restart cups\n" });

    // A check without a remediation has nothing to retry.
    const plain = await api("POST", "/api/v1/monitoring/policies", {
      clientId: setup.client.id,
      deviceId,
      name: "Plain",
      checks: [{ name: "Disk", config: { kind: "disk", volume: "/", minFreePercent: 5 }, failAfter: 1 }],
    });
    expect(plain.statusCode, plain.body).toBe(201);
    const diskId = plain.json().checks[0].id;
    await waitFor(
      "the disk check pushed",
      async () =>
        agent.frames.some((f) => (f as { payload?: string }).payload?.includes(diskId)) || undefined,
    );
    send(agent, [result(diskId, "critical", 1, "3% free on /")]);
    const disk = await waitFor("the disk alert", async () =>
      (await alertsOf(deviceId)).find((a) => a.id !== fired.id),
    );
    const none = await api("POST", `/api/v1/alerts/${disk.id}/remediate`, {});
    expect(none.statusCode).toBe(409);
    expect(none.json().error.message).toContain("no remediation");
  });
});

describe("metric history", () => {
  it("keeps the summaries' numbers as hourly averages for the device's charts", async () => {
    const { deviceId, agent } = await connect();
    const p = await policy({
      name: "Latency",
      deviceId,
      checks: [{ name: "Gateway ping", config: { kind: "ping", host: "10.0.0.1" } }],
    });
    const checkId = p.checks[0]!.id;
    for (const latency of [10, 20, 30])
      send(agent, [{ ...result(checkId, "ok", 1), metrics: { latency_ms: latency } }], true);
    const points = await waitFor("three samples in the hour", async () => {
      const res = (await api("GET", `/api/v1/devices/${deviceId}/metrics?hours=2`)).json();
      return res.items?.length === 1 && res.items[0].values.latency_ms === 20 ? res.items : undefined;
    });
    expect(points[0]).toMatchObject({ checkId, values: { latency_ms: 20 } });
    const other = await makeUser(t, { role: "technician", clientIds: [(await makeClient(t)).id] });
    expect((await api("GET", `/api/v1/devices/${deviceId}/metrics`, undefined, other.auth)).statusCode).toBe(
      404,
    );
    agent.ws.close();
  });
});

describe("a storm", () => {
  it("one check failing on many devices at once is one ticket, resolved when the last one passes", async () => {
    const site = await t.db
      .insertInto("sites")
      .values({ client_id: setup.client.id, name: "Storm branch", timezone: "UTC" })
      .returning("id")
      .executeTakeFirstOrThrow();
    const p = await policy({
      name: "Catalogue",
      siteId: site.id,
      checks: [
        {
          name: "Catalogue site",
          config: { kind: "http", url: "https://catalogue.example.test/", bodyContains: "Search" },
          severity: "high",
          failAfter: 1,
        },
      ],
    });
    const agents: Array<{ deviceId: string; agent: RawAgent }> = [];
    for (let i = 0; i < 4; i++) {
      const e = await enrollRaw(t, setup.token.token);
      await t.db.updateTable("devices").set({ site_id: site.id }).where("id", "=", e.deviceId).execute();
      const agent = await rawAgent(t.wsUrl, { deviceId: e.deviceId, key: e.key, features: ["checks"] });
      // Results count only once the handshake is through: the checks frame follows the welcome.
      await waitFor("the checks frame", async () =>
        agent.frames.some((f) => (f as { type: string }).type === "checks"),
      );
      agents.push({ deviceId: e.deviceId, agent });
    }
    const checkId = p.checks[0]!.id;
    for (const a of agents) send(a.agent, [result(checkId, "critical", 1, "status 502, expected 2xx")]);
    const firing = await waitFor("four firing alerts", async () => {
      const all = (await Promise.all(agents.map((a) => alertsOf(a.deviceId)))).flat();
      return all.length === 4 && all.every((x) => x.state === "firing" && x.ticket) ? all : undefined;
    });
    expect(new Set(firing.map((a) => a.ticket!.id)).size).toBe(1);
    const ticketId = firing[0]!.ticket!.id;
    // Three pass: the ticket stays open with notes; the last one resolves it.
    for (const a of agents.slice(0, 3)) send(a.agent, [result(checkId, "ok", 1)]);
    await waitFor("three resolved", async () => {
      const all = (await Promise.all(agents.map((a) => alertsOf(a.deviceId)))).flat();
      return all.filter((x) => x.state === "resolved").length === 3 || undefined;
    });
    expect((await ticketOf(ticketId)).status.category).not.toBe("resolved");
    send(agents[3]!.agent, [result(checkId, "ok", 1)]);
    await waitFor(
      "the ticket resolved",
      async () => (await ticketOf(ticketId)).status.category === "resolved" || undefined,
    );
    for (const a of agents) a.agent.ws.close();
  });

  it("an MSP-wide check failing at two clients at once opens a ticket for each, never one shared", async () => {
    const other = await makeClient(t);
    const res = await api("POST", "/api/v1/monitoring/policies", {
      name: "Everywhere",
      checks: [
        {
          name: "Print spooler everywhere",
          config: { kind: "service", service: "cups" },
          severity: "high",
          failAfter: 1,
        },
      ],
    });
    expect(res.statusCode, res.body).toBe(201);
    const p = res.json() as { id: string; checks: Array<{ id: string }> };
    try {
      const agents: Array<{ deviceId: string; agent: RawAgent; clientId: string }> = [];
      for (const clientId of [setup.client.id, other.id]) {
        const e = await enrollRaw(t, setup.token.token);
        await t.db.updateTable("devices").set({ client_id: clientId }).where("id", "=", e.deviceId).execute();
        const agent = await rawAgent(t.wsUrl, { deviceId: e.deviceId, key: e.key, features: ["checks"] });
        await waitFor("the checks frame", async () =>
          agent.frames.some((f) => (f as { type: string }).type === "checks"),
        );
        agents.push({ deviceId: e.deviceId, agent, clientId });
      }
      const checkId = p.checks[0]!.id;
      for (const a of agents) send(a.agent, [result(checkId, "critical", 1, "cups is stopped")]);
      const firing = await waitFor("both alerts firing with tickets", async () => {
        const all = (await Promise.all(agents.map((a) => alertsOf(a.deviceId)))).flat();
        return all.length === 2 && all.every((x) => x.state === "firing" && x.ticket) ? all : undefined;
      });
      expect(new Set(firing.map((a) => a.ticket!.id)).size).toBe(2);
      // Each ticket is its own client's, and names no device of the other.
      for (const [i, a] of agents.entries()) {
        const ticket = await t.db
          .selectFrom("tickets")
          .select("client_id")
          .where("id", "=", firing[i]!.ticket!.id)
          .executeTakeFirstOrThrow();
        expect(ticket.client_id).toBe(a.clientId);
      }
      for (const a of agents) a.agent.ws.close();
    } finally {
      await api("DELETE", `/api/v1/monitoring/policies/${p.id}`);
    }
  });
});

describe("the alerts API", () => {
  it("acknowledges with a version, resolves the ticket by hand, and hides other clients' alerts", async () => {
    const { deviceId, agent } = await connect();
    const p = await policy({
      name: "Print",
      deviceId,
      checks: [{ name: "Spooler", config: { kind: "service", service: "spooler" }, failAfter: 1 }],
    });
    send(agent, [result(p.checks[0]!.id, "critical", 1, "spooler is stopped")]);
    const a = await waitFor("firing", async () => (await alertsOf(deviceId))[0]);

    const stale = await api("POST", `/api/v1/alerts/${a.id}/acknowledge`, { version: a.version + 5 });
    expect(stale.statusCode).toBe(412);
    const ack = await api("POST", `/api/v1/alerts/${a.id}/acknowledge`, { version: a.version });
    expect(ack.statusCode, ack.body).toBe(200);
    expect(ack.json().acknowledgedBy).toBe(setup.admin.name);

    // A technician limited to another client: the alert is not there at all.
    const other = await makeUser(t, { role: "technician", clientIds: [(await makeClient(t)).id] });
    expect((await api("GET", `/api/v1/alerts/${a.id}`, undefined, other.auth)).statusCode).toBe(404);
    expect((await api("GET", "/api/v1/alerts", undefined, other.auth)).json().items).toEqual([]);
    const foreign = await api(
      "POST",
      `/api/v1/alerts/${a.id}/resolve`,
      { version: ack.json().version },
      other.auth,
    );
    expect(foreign.statusCode).toBe(404);

    const resolved = await api("POST", `/api/v1/alerts/${a.id}/resolve`, {
      version: ack.json().version,
      note: "fixed the queue",
    });
    expect(resolved.json()).toMatchObject({ state: "resolved" });
    expect((await ticketOf(a.ticket!.id)).status.category).toBe("resolved");
    agent.ws.close();
  });

  it("validates a policy's checks at save and names the field", async () => {
    const bad = await api("POST", "/api/v1/monitoring/policies", {
      clientId: setup.client.id,
      name: "Bad",
      checks: [{ name: "Port", config: { kind: "tcp", host: "db; rm -rf /", port: 70000 } }],
    });
    expect(bad.statusCode).toBe(400);
    const paths = bad.json().error.details.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["body.checks.0.config.host", "body.checks.0.config.port"]));
    const foreignSite = await api("POST", "/api/v1/monitoring/policies", {
      clientId: setup.client.id,
      siteId: randomUUID(),
      name: "Elsewhere",
    });
    expect(foreignSite.statusCode).toBe(400);
    expect(foreignSite.json().error.details.issues[0].path).toBe("body.siteId");
  });

  it("saves and pushes the upkeep checks (reboot, updates, log, backup) and refuses unsafe targets", async () => {
    const e = await enrollRaw(t, setup.token.token);
    await policy({
      name: "Upkeep",
      deviceId: e.deviceId,
      checks: [
        { name: "Reboot", config: { kind: "reboot", graceHours: 24 } },
        { name: "Patches", config: { kind: "updates", maxSecurity: 0, maxAgeDays: 14 } },
        {
          name: "SSH failures",
          config: {
            kind: "log",
            source: "journal",
            target: "ssh.service",
            contains: "Failed password",
            maxMatches: 20,
          },
        },
        { name: "Nightly backup", config: { kind: "backup", path: "/srv/backup/last-ok", maxAgeHours: 26 } },
      ],
    });
    const agent = await rawAgent(t.wsUrl, { deviceId: e.deviceId, key: e.key, features: ["checks"] });
    const frame = await waitFor(
      "the checks frame",
      async () =>
        agent.frames.find((f) => (f as { type: string }).type === "checks") as
          | { payload: string; signature: string }
          | undefined,
    );
    const key = await t.app.agents.serverKey();
    const pinned = createPublicKey({
      key: Buffer.from(key.publicKey, "base64"),
      format: "der",
      type: "spki",
    });
    const verdict = verifyChecks(pinned, e.deviceId, frame, Date.now(), 0);
    if (!verdict.ok) throw new Error(verdict.reason);
    const byName = Object.fromEntries(verdict.payload.checks.map((c) => [c.name, c.config]));
    expect(byName.Reboot).toEqual({ kind: "reboot", graceHours: 24 });
    expect(byName.Patches).toEqual({ kind: "updates", maxSecurity: 0, maxAgeDays: 14 });
    expect(byName["SSH failures"]).toMatchObject({ kind: "log", source: "journal", windowMinutes: 15 });
    expect(byName["Nightly backup"]).toMatchObject({ kind: "backup", maxAgeHours: 26 });
    agent.ws.close();

    const bad = await api("POST", "/api/v1/monitoring/policies", {
      clientId: setup.client.id,
      name: "Unsafe",
      checks: [
        {
          name: "Events",
          config: { kind: "log", source: "eventlog", target: "System'; Stop-Computer", contains: "x" },
        },
        { name: "Tail", config: { kind: "log", source: "file", target: "app.log", contains: "x" } },
        { name: "Backup", config: { kind: "backup", path: "/srv/`reboot`", maxAgeHours: 0 } },
      ],
    });
    expect(bad.statusCode).toBe(400);
    const paths = bad.json().error.details.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining([
        "body.checks.0.config.target",
        "body.checks.1.config.target",
        "body.checks.2.config.path",
        "body.checks.2.config.maxAgeHours",
      ]),
    );
  });
});
