import type { PatchReport } from "@switchboard/shared";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeUser } from "../../../test/helpers.ts";
import { runInScope } from "../../db/scope.ts";
import {
  enrollmentSetup,
  enrollRaw,
  type GatewayApp,
  type RawAgent,
  rawAgent,
  startGatewayApp,
  waitFor,
} from "../../gateway/test-support.ts";
import { expireQueued } from "../agents/command-records.ts";
import { autoInstallInWindows } from "./patch-install-runs.ts";

// Approving and installing updates on the real server, gateway and database, with simulated agents:
// only what the device reported missing can be approved, who may approve, the signed command that
// carries exactly those packages, the run's states from the agent's answers (a result per update), a
// retry of the failed ones, offline and silent agents failing the run with the reason, the client's
// auto-approval, and row-level security on the new tables.

let t: GatewayApp;
let setup: Awaited<ReturnType<typeof enrollmentSetup>>;
let other: Awaited<ReturnType<typeof enrollmentSetup>>;

beforeAll(async () => {
  t = await startGatewayApp({ AGENT_HEARTBEAT_SECONDS: "60" });
  setup = await enrollmentSetup(t, { maxUses: 10 });
  other = await enrollmentSetup(t, { maxUses: 10 });
});
afterAll(() => t?.close());

const call = (method: "GET" | "POST" | "PUT", url: string, payload?: object, headers = setup.admin.auth) =>
  t.app.inject({ method, url, headers, payload });

const report = (updates: PatchReport["updates"], source: PatchReport["source"] = "apt"): PatchReport => ({
  source,
  updates,
  rebootPending: false,
  rebootSince: null,
  lastInstallAt: null,
  collectedAt: new Date().toISOString(),
});

const APT = [
  { name: "openssl", current: "3.0.11-1", available: "3.0.15-1", security: true },
  { name: "curl", current: "7.88.1-10", available: "7.88.1-10+deb12u8", security: true },
  { name: "tzdata", current: "2024a-0", available: "2025b-0", security: false },
];

async function deviceReporting(
  token: string,
  patch: PatchReport,
  before?: (deviceId: string) => Promise<unknown>,
) {
  const e = await enrollRaw(t, token);
  await before?.(e.deviceId);
  const agent = await rawAgent(t.wsUrl, { deviceId: e.deviceId, key: e.key, features: ["checks"] });
  await waitFor("the checks frame", async () =>
    agent.frames.some((f) => (f as { type: string }).type === "checks"),
  );
  agent.send({ type: "check.results", summary: true, results: [], patch });
  await waitFor("the patch status", async () =>
    t.db
      .selectFrom("patch_status")
      .select("device_id")
      .where("device_id", "=", e.deviceId)
      .where("collected_at", "=", new Date(patch.collectedAt))
      .executeTakeFirst(),
  );
  return { deviceId: e.deviceId, agent };
}

/** The next command frame the agent received after `seen` frames, parsed. */
async function nextCommand(agent: RawAgent, seen: number) {
  const frame = await waitFor("a command frame", async () =>
    agent.frames.slice(seen).find((f) => (f as { type: string }).type === "command"),
  );
  return JSON.parse((frame as { payload: string }).payload) as {
    id: string;
    command: { kind: string; manager: string; packages: string[] };
  };
}

async function runs(deviceId: string) {
  const res = await call("GET", `/api/v1/devices/${deviceId}/patch-installs`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items as Array<{
    id: string;
    status: string;
    trigger: string;
    error: string | null;
    retryOf: string | null;
    rebootRequired: boolean | null;
    requestedBy: string;
    items: Array<{
      name: string;
      target: string;
      status: string;
      versionFrom: string | null;
      versionTo: string | null;
      error: string | null;
    }>;
  }>;
}

describe("approving and installing updates", () => {
  it("approves only reported updates, sends them signed, records a result per update, retries the failed", async () => {
    const dev = await deviceReporting(setup.token.token, report(APT));
    const url = `/api/v1/devices/${dev.deviceId}/patch-installs`;

    const unknown = await call("POST", url, { select: "updates", updates: ["openssl", "nginx"] });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.message).toMatch(
      /body\.updates\.1.*"nginx" is not an update this device reported missing/,
    );
    const empty = await call("POST", url, { select: "updates", updates: [] });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error.message).toMatch(/updates/);
    const readonly = await makeUser(t, { role: "readonly" });
    expect((await call("POST", url, { select: "all" }, readonly.auth)).statusCode).toBe(403);
    const stranger = await makeUser(t, { role: "technician", clientIds: [other.client.id] });
    expect((await call("POST", url, { select: "all" }, stranger.auth)).statusCode).toBe(404);
    expect((await call("GET", url, undefined, stranger.auth)).statusCode).toBe(404);
    expect(await runs(dev.deviceId)).toEqual([]);

    // A technician of the client approves every security update.
    const tech = await makeUser(t, { role: "technician", clientIds: [setup.client.id] });
    const seen = dev.agent.frames.length;
    const created = await call("POST", url, { select: "security" }, tech.auth);
    expect(created.statusCode, created.body).toBe(201);
    const run = created.json();
    expect(run).toMatchObject({ status: "queued", trigger: "manual", requestedBy: tech.name });
    expect(run.items.map((i: { target: string; status: string }) => [i.target, i.status])).toEqual([
      ["openssl", "pending"],
      ["curl", "pending"],
    ]);
    const cmd = await nextCommand(dev.agent, seen);
    expect(cmd.command).toMatchObject({
      kind: "updates.install",
      manager: "apt",
      packages: ["openssl", "curl"],
    });
    const audit = await t.db
      .selectFrom("audit_log")
      .select(["actor_label", "after"])
      .where("action", "=", "patch.install_approved")
      .where("entity_id", "=", dev.deviceId)
      .executeTakeFirstOrThrow();
    expect(audit.actor_label).toBe(tech.name);
    expect(audit.after).toMatchObject({ runId: run.id, updates: ["openssl", "curl"], select: "security" });

    // One install at a time per device.
    const twice = await call("POST", url, { select: "all" });
    expect(twice.statusCode).toBe(409);

    dev.agent.send({ type: "command.started", commandId: cmd.id });
    await waitFor("the run running", async () => (await runs(dev.deviceId))[0]?.status === "running");
    dev.agent.send({
      type: "command.result",
      commandId: cmd.id,
      status: "failed",
      exitCode: 0,
      truncated: false,
      error: "1 of 2 updates failed",
      updates: [
        { name: "openssl", status: "installed", from: "3.0.11-1", to: "3.0.15-1" },
        {
          name: "curl",
          status: "failed",
          from: "7.88.1-10",
          error: "apt-get exit code 100: E: Unable to fetch some archives",
        },
      ],
      rebootRequired: true,
    });
    const partial = await waitFor("the run settled", async () => {
      const [r] = await runs(dev.deviceId);
      return r?.status === "partial" ? r : undefined;
    });
    expect(partial).toMatchObject({ rebootRequired: true, error: "1 of 2 updates failed" });
    expect(partial.items).toMatchObject([
      { target: "openssl", status: "installed", versionFrom: "3.0.11-1", versionTo: "3.0.15-1", error: null },
      { target: "curl", status: "failed", error: "apt-get exit code 100: E: Unable to fetch some archives" },
    ]);
    // The install counts as the device's, and the client's, last successful install.
    const health = (await call("GET", `/api/v1/clients/${setup.client.id}/health`)).json();
    expect(Date.now() - Date.parse(health.patch.lastInstallAt)).toBeLessThan(60_000);
    const status = (await call("GET", `/api/v1/devices/${dev.deviceId}/patch-status`)).json().status;
    expect(Date.now() - Date.parse(status.lastInstallAt)).toBeLessThan(60_000);

    // Retry: only the failed update, still reported missing.
    const seen2 = dev.agent.frames.length;
    const retried = await call("POST", `/api/v1/patch-installs/${partial.id}/retry`, undefined, tech.auth);
    expect(retried.statusCode, retried.body).toBe(201);
    expect(retried.json()).toMatchObject({ retryOf: partial.id, status: "queued" });
    expect(retried.json().items.map((i: { target: string }) => i.target)).toEqual(["curl"]);
    const cmd2 = await nextCommand(dev.agent, seen2);
    expect(cmd2.command.packages).toEqual(["curl"]);
    // An agent too old for installs refuses the command: the run fails saying so.
    dev.agent.send({ type: "command.rejected", commandId: cmd2.id, reason: "unsupported" });
    const refused = await waitFor("the refused run", async () => {
      const [r] = await runs(dev.deviceId);
      return r?.status === "failed" ? r : undefined;
    });
    expect(refused.error).toMatch(/refused the install.*unsupported/);
    expect(refused.items[0]).toMatchObject({ status: "failed", error: refused.error });
    // Its update is still missing: it can be retried from there too.
    expect((await call("POST", `/api/v1/patch-installs/${refused.id}/retry`)).statusCode).toBe(201);
    dev.agent.ws.close();
  });

  it("fails a run the offline device never received, and one whose agent went silent, with the reason", async () => {
    const dev = await deviceReporting(setup.token.token, report(APT));
    dev.agent.ws.close();
    await waitFor(
      "the device offline",
      async () =>
        !(
          await t.db
            .selectFrom("devices")
            .select("online")
            .where("id", "=", dev.deviceId)
            .executeTakeFirstOrThrow()
        ).online,
    );
    const url = `/api/v1/devices/${dev.deviceId}/patch-installs`;
    const created = await call("POST", url, { select: "updates", updates: ["tzdata"] });
    expect(created.statusCode, created.body).toBe(201);
    const runId = created.json().id;
    const command = await t.db
      .selectFrom("patch_install_runs as r")
      .innerJoin("device_commands as c", "c.id", "r.command_id")
      .select(["c.id", "c.status"])
      .where("r.id", "=", runId)
      .executeTakeFirstOrThrow();
    expect(command.status).toBe("queued");
    expect((await runs(dev.deviceId))[0]?.status).toBe("queued");
    // Its delivery window passes with the device still offline.
    await sql`update device_commands set expires_at = now() - interval '1 second' where id = ${command.id}`.execute(
      t.db,
    );
    await expireQueued(t.db);
    const [offline] = await runs(dev.deviceId);
    expect(offline).toMatchObject({ status: "failed" });
    expect(offline!.error).toMatch(/device was offline.*not delivered/);
    expect(offline!.items[0]).toMatchObject({ target: "tzdata", status: "failed", error: offline!.error });

    // Started, then nothing: past the install's limit and a grace, the run fails.
    const second = await call("POST", url, { select: "updates", updates: ["tzdata"] });
    expect(second.statusCode, second.body).toBe(201);
    await sql`update device_commands set status = 'running', started_at = now() - interval '2 hours'
      where id = (select command_id from patch_install_runs where id = ${second.json().id})`.execute(t.db);
    const [silent] = await runs(dev.deviceId);
    expect(silent).toMatchObject({ id: second.json().id, status: "failed" });
    expect(silent!.error).toMatch(/No result from the agent within 70 min/);
  });

  it("auto-approves a client's security updates at scan time when the client says so", async () => {
    const settingsUrl = `/api/v1/clients/${setup.client.id}/patch-settings`;
    expect((await call("GET", settingsUrl)).json()).toMatchObject({ autoInstallSecurity: false });
    const tech = await makeUser(t, { role: "technician", clientIds: [setup.client.id] });
    expect((await call("PUT", settingsUrl, { autoInstallSecurity: true }, tech.auth)).statusCode).toBe(403);
    const set = await call("PUT", settingsUrl, { autoInstallSecurity: true });
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json()).toMatchObject({ autoInstallSecurity: true, updatedBy: setup.admin.name });

    const dev = await deviceReporting(setup.token.token, report(APT));
    const cmd = await nextCommand(dev.agent, 0);
    expect(cmd.command.packages).toEqual(["openssl", "curl"]);
    const [auto] = await runs(dev.deviceId);
    expect(auto).toMatchObject({ trigger: "auto", requestedBy: "Auto-approval: security updates" });
    // The next scan does not approve them again while this run is open (nor for a day after).
    const seen = dev.agent.frames.length;
    dev.agent.send({ type: "check.results", summary: true, results: [], patch: report(APT) });
    await new Promise((r) => setTimeout(r, 500));
    expect(dev.agent.frames.slice(seen).some((f) => (f as { type: string }).type === "command")).toBe(false);
    expect(await runs(dev.deviceId)).toHaveLength(1);
    await call("PUT", settingsUrl, { autoInstallSecurity: false });
    dev.agent.ws.close();
  });

  it("installs auto-approved updates only while the client's window is open in the site's time zone", async () => {
    const third = await enrollmentSetup(t, { maxUses: 2 });
    const site = await t.db
      .insertInto("sites")
      .values({ client_id: third.client.id, name: "Main branch", timezone: "Asia/Kathmandu" })
      .returning("id")
      .executeTakeFirstOrThrow();
    // Kathmandu is UTC+05:45 all year: the window opens in an hour, for an hour.
    const now = new Date();
    const local = (now.getUTCHours() * 60 + now.getUTCMinutes() + 345) % 1440;
    const clock = (m: number) =>
      `${String(Math.floor((m % 1440) / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
    const url = `/api/v1/clients/${third.client.id}/patch-settings`;
    const bad = await call(
      "PUT",
      url,
      { autoInstallSecurity: true, installWindow: { start: "25:00", end: "03:00" } },
      third.admin.auth,
    );
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.message).toMatch(/installWindow\.start/);
    const window = { start: clock(local + 60), end: clock(local + 120) };
    const set = await call(
      "PUT",
      url,
      { autoInstallSecurity: true, installWindow: window },
      third.admin.auth,
    );
    expect(set.statusCode, set.body).toBe(200);
    expect(set.json()).toMatchObject({ autoInstallSecurity: true, installWindow: window });

    const dev = await deviceReporting(third.token.token, report(APT), (id) =>
      t.db.updateTable("devices").set({ site_id: site.id }).where("id", "=", id).execute(),
    );
    // The scan approves nothing outside the window, and the worker's pass waits for it to open.
    await new Promise((r) => setTimeout(r, 300));
    expect(dev.agent.frames.some((f) => (f as { type: string }).type === "command")).toBe(false);
    const deps = { db: t.db, hub: t.app.agents.hub, serverKey: t.app.agents.serverKey };
    expect(await autoInstallInWindows(deps, now)).toBe(0);
    expect(await runs(dev.deviceId)).toEqual([]);
    expect(await autoInstallInWindows(deps, new Date(now.getTime() + 90 * 60_000))).toBe(1);
    const cmd = await nextCommand(dev.agent, 0);
    expect(cmd.command.packages).toEqual(["openssl", "curl"]);
    expect((await runs(dev.deviceId))[0]).toMatchObject({ trigger: "auto", status: "queued" });
    // Once open, a run is not started twice.
    expect(await autoInstallInWindows(deps, new Date(now.getTime() + 95 * 60_000))).toBe(0);
    dev.agent.ws.close();
  });

  it("keeps installs and settings to their client under row-level security", async () => {
    const theirs = await deviceReporting(other.token.token, report(APT));
    const created = await call("POST", `/api/v1/devices/${theirs.deviceId}/patch-installs`, {
      select: "all",
    });
    expect(created.statusCode, created.body).toBe(201);
    theirs.agent.ws.close();
    const scope = { kind: "clients" as const, clientIds: [other.client.id] };
    const seen = await runInScope(scope, async () => ({
      runs: await t.db.selectFrom("patch_install_runs").select("client_id").execute(),
      items: await t.db.selectFrom("patch_install_items").select("client_id").execute(),
      settings: await t.db.selectFrom("patch_settings").select("client_id").execute(),
    }));
    expect(seen.runs.length).toBeGreaterThan(0);
    expect(seen.items.length).toBeGreaterThan(0);
    for (const rows of [seen.runs, seen.items, seen.settings])
      expect(rows.every((r) => r.client_id === other.client.id)).toBe(true);
    const mine = await t.db
      .selectFrom("patch_install_runs")
      .select(["id"])
      .where("client_id", "=", setup.client.id)
      .executeTakeFirstOrThrow();
    await expect(
      runInScope(scope, () =>
        t.db
          .insertInto("patch_install_items")
          .values({
            run_id: mine.id,
            client_id: setup.client.id,
            position: 99,
            name: "x",
            target: "x",
            security: false,
          })
          .execute(),
      ),
    ).rejects.toThrow(/row-level security/);
    await expect(
      runInScope(scope, () =>
        t.db
          .insertInto("patch_settings")
          .values({ client_id: setup.client.id, auto_install_security: true, updated_by_label: "x" })
          .execute(),
      ),
    ).rejects.toThrow(/row-level security/);
  });
});
