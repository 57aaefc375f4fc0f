import { randomUUID } from "node:crypto";
import { sql as raw } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeUser, rand } from "../../../test/helpers.ts";
import { runInScope, scopeForClients } from "../../db/scope.ts";
import type { AgentHub } from "../../gateway/hub.ts";
import {
  enrollmentSetup,
  enrollRaw,
  type GatewayApp,
  type RawAgent,
  rawAgent,
  startGatewayApp,
  waitFor,
} from "../../gateway/test-support.ts";
import { scheduleDueRuns } from "./task-scheduler.ts";

// Device tags and tag policies, with simulated agents against the real server, gateway and database:
// which checks a tagged device is given (and given again at once when its tags change), where a tag
// policy sits in inheritance, and who may tag what.

let t: GatewayApp;
let a: Awaited<ReturnType<typeof enrollmentSetup>>;
let b: Awaited<ReturnType<typeof enrollmentSetup>>;
const api = (
  method: "GET" | "POST" | "PUT" | "DELETE",
  url: string,
  payload?: object,
  headers = a.admin.auth,
) => t.app.inject({ method, url, headers, payload });

beforeAll(async () => {
  t = await startGatewayApp({ MONITORING_REOPEN_SECONDS: "900", AGENT_HEARTBEAT_SECONDS: "60" });
  a = await enrollmentSetup(t, { maxUses: 20 });
  b = await enrollmentSetup(t, { maxUses: 20 });
});
afterAll(() => t?.close());

interface ChecksFrame {
  type: "checks";
  payload: string;
}
const checkFrames = (agent: RawAgent) =>
  agent.frames.filter((f) => (f as { type: string }).type === "checks") as ChecksFrame[];
/** The names of the checks in the agent's latest frame, once it has received `count` frames. */
const latestChecks = async (agent: RawAgent, count: number) => {
  const frames = await waitFor(`checks frame #${count}`, async () => {
    const f = checkFrames(agent);
    return f.length >= count ? f : undefined;
  });
  const payload = JSON.parse(frames[count - 1]!.payload) as {
    checks: Array<{ id: string; name: string; config: { kind: string; minFreePercent?: number } }>;
  };
  return payload.checks;
};

/** Waits for a frame after the first `after` whose checks pass `ok`; returns those checks. */
const frameAfter = async (
  agent: RawAgent,
  after: number,
  ok: (checks: Awaited<ReturnType<typeof latestChecks>>) => boolean = () => true,
) =>
  waitFor(`a checks frame after #${after}`, async () => {
    const frames = checkFrames(agent);
    for (const f of frames.slice(after).reverse()) {
      const checks = (JSON.parse(f.payload) as { checks: Awaited<ReturnType<typeof latestChecks>> }).checks;
      if (ok(checks)) return checks;
    }
    return undefined;
  });

async function connect(token: string) {
  const e = await enrollRaw(t, token);
  const agent = await rawAgent(t.wsUrl, { deviceId: e.deviceId, key: e.key, features: ["checks"] });
  await latestChecks(agent, 1);
  return { deviceId: e.deviceId, agent };
}
const tag = (deviceId: string, tags: string[], headers = a.admin.auth) =>
  api("PUT", `/api/v1/devices/${deviceId}/tags`, { tags }, headers);
async function policy(body: object) {
  const res = await api("POST", "/api/v1/monitoring/policies", body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; tag: string | null; checks: Array<{ id: string; name: string }> };
}
const tagName = () => `t-${randomUUID().slice(0, 8)}`;

describe("device tags and tag policies", () => {
  it("normalises tags, refuses bad ones naming the field, and shows them on the device list", async () => {
    const { deviceId, agent } = await connect(a.token.token);
    const ok = await tag(deviceId, ["  SQL-Server ", "backup", "sql-server"]);
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().tags).toEqual(["backup", "sql-server"]);
    const list = await api("GET", `/api/v1/devices?clientId=${a.client.id}`);
    expect(list.json().items.find((d: { id: string }) => d.id === deviceId).tags).toEqual([
      "backup",
      "sql-server",
    ]);
    for (const [tags, path] of [
      [["ok", "has space"], "body.tags.1"],
      [["-dash-first"], "body.tags.0"],
      [["x".repeat(41)], "body.tags.0"],
      [Array.from({ length: 21 }, (_, i) => `t${i}`), "body.tags"],
    ] as const) {
      const bad = await tag(deviceId, [...tags]);
      expect(bad.statusCode, bad.body).toBe(400);
      expect(bad.json().error.details.issues[0].path).toBe(path);
    }
    const audit = await t.db
      .selectFrom("audit_log")
      .select(["before", "after"])
      .where("action", "=", "device.tags_set")
      .where("entity_id", "=", deviceId)
      .execute();
    expect(audit).toEqual([{ before: { tags: [] }, after: { tags: ["backup", "sql-server"] } }]);
    const scope = await api("POST", "/api/v1/monitoring/policies", {
      clientId: a.client.id,
      siteId: null,
      deviceId,
      tag: "backup",
      name: "Both",
    });
    expect(scope.statusCode).toBe(400);
    expect(scope.json().error.details.issues[0].path).toBe("body.tag");
    agent.ws.close();
  });

  it("gives a tagged device the tag policy's checks at once, after the site's and before its own", async () => {
    const backup = tagName();
    const site = await t.db
      .insertInto("sites")
      .values({ client_id: a.client.id, name: "Branch", timezone: "UTC" })
      .returning("id")
      .executeTakeFirstOrThrow();
    const one = await connect(a.token.token);
    const two = await connect(a.token.token);
    const other = await connect(b.token.token);
    for (const d of [one, two])
      await t.db.updateTable("devices").set({ site_id: site.id }).where("id", "=", d.deviceId).execute();
    await policy({
      clientId: a.client.id,
      siteId: site.id,
      name: "Branch site",
      checks: [{ name: `Data ${backup}`, config: { kind: "disk", volume: "/data", minFreePercent: 5 } }],
    });
    // The client's tag policy: a stricter disk threshold (overrides the site's) and a backup check.
    await policy({
      clientId: a.client.id,
      tag: backup,
      name: "Backup servers",
      checks: [
        { name: `Data ${backup}`, config: { kind: "disk", volume: "/data", minFreePercent: 30 } },
        { name: `Nightly ${backup}`, config: { kind: "process", process: "backupd" }, failAfter: 1 },
      ],
    });
    // The device's own policy still wins over the tag's.
    await policy({
      clientId: a.client.id,
      deviceId: two.deviceId,
      name: "Two's own",
      checks: [{ name: `Data ${backup}`, config: { kind: "disk", volume: "/data", minFreePercent: 50 } }],
    });
    const mine = (checks: Awaited<ReturnType<typeof latestChecks>>) =>
      checks
        .filter((c) => c.name.endsWith(backup))
        .map((c) => `${c.name.split(" ")[0]}:${c.config.minFreePercent ?? "-"}`)
        .sort();
    // Policies made after the agents connected were pushed to them: the site's only, untagged.
    expect(mine(await frameAfter(one.agent, 1, (c) => mine(c).length > 0))).toEqual(["Data:5"]);

    const seen = [one, two, other].map((d) => checkFrames(d.agent).length);
    expect((await tag(one.deviceId, [backup.toUpperCase()])).statusCode).toBe(200);
    expect((await tag(two.deviceId, [backup])).statusCode).toBe(200);
    expect((await tag(other.deviceId, [backup])).statusCode).toBe(200);
    expect(mine(await frameAfter(one.agent, seen[0]!))).toEqual(["Data:30", "Nightly:-"]);
    expect(mine(await frameAfter(two.agent, seen[1]!))).toEqual(["Data:50", "Nightly:-"]);
    // Another client's device with the same tag: the client's tag policy does not reach it.
    expect(mine(await frameAfter(other.agent, seen[2]!))).toEqual([]);
    const monitoring = (await api("GET", `/api/v1/devices/${one.deviceId}/monitoring`)).json();
    expect(
      monitoring.checks
        .filter((c: { check: { name: string } }) => c.check.name.endsWith(backup))
        .map((c: { policyName: string }) => c.policyName)
        .sort(),
    ).toEqual(["Backup servers", "Backup servers"]);

    // The backup check fails: an alert and its ticket. Untagging removes the checks and resolves both.
    const nightly = (await frameAfter(one.agent, seen[0]!)).find((c) => c.name.startsWith("Nightly"))!;
    one.agent.send({
      type: "check.results",
      summary: false,
      results: [
        {
          checkId: nightly.id,
          state: "critical",
          output: "backupd not running",
          streak: 1,
          at: new Date().toISOString(),
        },
      ],
    });
    const fired = await waitFor("the backup alert", async () => {
      const items = (await api("GET", `/api/v1/alerts?deviceId=${one.deviceId}&state=all`)).json().items;
      return items.find((x: { checkId: string; ticket: unknown }) => x.checkId === nightly.id && x.ticket);
    });
    const before = checkFrames(one.agent).length;
    expect((await tag(one.deviceId, [])).statusCode).toBe(200);
    expect(mine(await frameAfter(one.agent, before))).toEqual(["Data:5"]);
    const alert = (await api("GET", `/api/v1/alerts/${fired.id}`)).json();
    expect(alert).toMatchObject({ state: "resolved" });
    const ticket = (await api("GET", `/api/v1/tickets/${fired.ticket.id}`)).json();
    expect(ticket.status.category).toBe("resolved");
    for (const d of [one, two, other]) d.agent.ws.close();
  });

  it("an MSP-wide tag policy reaches every client's tagged devices; limited staff cannot reach past theirs", async () => {
    const sql = tagName();
    const da = await connect(a.token.token);
    const db = await connect(b.token.token);
    await policy({
      clientId: null,
      tag: sql,
      name: `SQL ${sql}`,
      checks: [{ name: `MSSQL ${sql}`, config: { kind: "service", service: "mssqlserver" } }],
    });
    for (const d of [da, db]) {
      const n = checkFrames(d.agent).length;
      expect((await tag(d.deviceId, [sql])).statusCode).toBe(200);
      const names = (await frameAfter(d.agent, n)).map((c) => c.name);
      expect(names).toContain(`MSSQL ${sql}`);
    }

    // A dispatcher of client A only: tags A's devices, not B's; cannot make an MSP-wide tag policy.
    const limited = await makeUser(t, { role: "dispatcher", clientIds: [a.client.id] });
    expect((await tag(da.deviceId, [sql, "mine"], limited.auth)).statusCode).toBe(200);
    expect((await tag(db.deviceId, [], limited.auth)).statusCode).toBe(404);
    const msp = await api(
      "POST",
      "/api/v1/monitoring/policies",
      { clientId: null, tag: sql, name: "Nope" },
      limited.auth,
    );
    expect(msp.statusCode).toBe(403);
    const known = (await api("GET", "/api/v1/device-tags", undefined, limited.auth)).json().items as string[];
    expect(known).toContain("mine");
    // B's devices carry tags too (the first test's are A's); none of B's own shows to A's dispatcher.
    expect((await tag(db.deviceId, [sql, `only-b-${sql}`])).statusCode).toBe(200);
    const knownAgain = (await api("GET", "/api/v1/device-tags", undefined, limited.auth)).json()
      .items as string[];
    expect(knownAgain).not.toContain(`only-b-${sql}`);
    // Read-only staff cannot tag.
    const reader = await makeUser(t, { role: "readonly" });
    expect((await tag(da.deviceId, [], reader.auth)).statusCode).toBe(403);
    for (const d of [da, db]) d.agent.ws.close();
  });

  it("runs a tag policy's scheduled task on the client's tagged devices only; RLS keeps it the client's", async () => {
    const backup = tagName();
    // In a UTC site each: the cron is read in the device's site zone (not the MSP's, which other tests set).
    const device = async (clientId: string) =>
      (
        await t.db
          .insertInto("devices")
          .values({
            client_id: clientId,
            site_id: (
              await t.db
                .insertInto("sites")
                .values({ client_id: clientId, name: rand("Store "), timezone: "UTC" })
                .returning("id")
                .executeTakeFirstOrThrow()
            ).id,
            hostname: rand("nas-"),
            platform: "linux",
            arch: "x64",
            os_name: "Linux",
            os_version: "12",
            agent_version: "test",
            public_key: "unused",
            online: true,
            last_seen_at: new Date(),
            enrolled_at: new Date("2026-01-01T00:00:00Z"),
          })
          .returning("id")
          .executeTakeFirstOrThrow()
      ).id;
    const [tagged, untagged, otherClients] = [
      await device(a.client.id),
      await device(a.client.id),
      await device(b.client.id),
    ];
    for (const id of [tagged, otherClients]) expect((await tag(id, [backup])).statusCode).toBe(200);
    const p = await policy({ clientId: a.client.id, tag: backup, name: `Backups ${backup}` });
    const created = await api("POST", `/api/v1/monitoring/policies/${p.id}/tasks`, {
      name: `Verify ${backup}`,
      interpreter: "bash",
      script: "test -f /backup/latest",
      // One day a year, long past: no other test's scheduler pass (real now, March, June) finds it due.
      cron: "0 6 15 2 *",
    });
    expect(created.statusCode, created.body).toBe(201);
    const taskId = created.json().id as string;
    await raw`update monitoring_tasks set schedule_from = '2026-02-01T00:00:00Z' where id = ${taskId}`.execute(
      t.db,
    );
    const hub = { deliver: async () => true } as unknown as AgentHub;
    // 06:00 in the sites' zone on 15 February.
    await scheduleDueRuns(
      { db: t.db, hub, serverKey: t.app.agents.serverKey },
      new Date("2026-02-15T06:00:10Z"),
    );
    const runs = await t.db
      .selectFrom("monitoring_task_runs")
      .select("device_id")
      .where("task_id", "=", taskId)
      .execute();
    expect(runs.map((r) => r.device_id)).toEqual([tagged]);
    expect(runs.map((r) => r.device_id)).not.toContain(untagged);

    // Row-level security: in B's scope, A's tag policy and A's devices' tags are out of sight and reach.
    const seen = await runInScope(scopeForClients([b.client.id]), () =>
      t.db.selectFrom("monitoring_policies").select("id").where("id", "=", p.id).execute(),
    );
    expect(seen).toEqual([]);
    const changed = await runInScope(scopeForClients([b.client.id]), () =>
      t.db
        .updateTable("devices")
        .set({ tags: ["stolen"] })
        .where("id", "=", tagged)
        .executeTakeFirst(),
    );
    expect(Number(changed.numUpdatedRows)).toBe(0);
    const forged = runInScope(scopeForClients([b.client.id]), () =>
      t.db
        .insertInto("monitoring_policies")
        .values({ client_id: a.client.id, tag: backup, name: "Forged" })
        .execute(),
    );
    await expect(forged).rejects.toThrow(/row-level security/);
  });
});
