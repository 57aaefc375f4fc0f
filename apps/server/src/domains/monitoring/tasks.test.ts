import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, makeClient, makeUser, rand, type TestApp } from "../../../test/helpers.ts";
import { asSystem, runInScope, scopeForClients } from "../../db/scope.ts";
import type { AgentHub } from "../../gateway/hub.ts";
import { appendOutput, finishCommand } from "../agents/command-records.ts";
import { latestDue, nextDue, parseCron } from "./cron.ts";
import { judgeFinishedRuns, scheduleDueRuns } from "./task-scheduler.ts";

// Scheduled tasks against the real database: the cron in a site's zone, exactly one run per device and
// due time with two workers at once, a missed run caught up once on reconnect, and a failing run that
// opens an alert and a ticket which the next successful run resolves.

const iso = (d: Date | null) => d?.toISOString() ?? null;

describe("cron in a time zone", () => {
  it("keeps wall-clock times across daylight saving time, in the gap and in the overlap", () => {
    const nine = parseCron("0 9 * * *");
    // New York: 09:00 EST is 14:00Z before the change (8 March 2026), 09:00 EDT is 13:00Z after.
    expect(iso(nextDue(nine, "America/New_York", new Date("2026-03-07T15:00:00Z")))).toBe(
      "2026-03-08T13:00:00.000Z",
    );
    expect(iso(nextDue(nine, "America/New_York", new Date("2026-03-06T15:00:00Z")))).toBe(
      "2026-03-07T14:00:00.000Z",
    );
    // 02:30 does not exist on 8 March: it runs once, at 03:30 EDT (07:30Z).
    const gap = parseCron("30 2 * * *");
    expect(iso(nextDue(gap, "America/New_York", new Date("2026-03-08T05:00:00Z")))).toBe(
      "2026-03-08T07:30:00.000Z",
    );
    expect(iso(nextDue(gap, "America/New_York", new Date("2026-03-08T07:30:00Z")))).toBe(
      "2026-03-09T06:30:00.000Z",
    );
    // 01:30 happens twice on 1 November: it runs once, the first time (EDT, 05:30Z).
    const overlap = parseCron("30 1 * * *");
    expect(iso(nextDue(overlap, "America/New_York", new Date("2026-11-01T04:00:00Z")))).toBe(
      "2026-11-01T05:30:00.000Z",
    );
    expect(iso(nextDue(overlap, "America/New_York", new Date("2026-11-01T05:30:00Z")))).toBe(
      "2026-11-02T06:30:00.000Z",
    );
    // Lord Howe moves by half an hour; weekdays by name in London.
    expect(iso(nextDue(nine, "Australia/Lord_Howe", new Date("2026-04-04T12:00:00Z")))).toBe(
      "2026-04-04T22:30:00.000Z",
    );
    const monday = parseCron("15 6 * * MON");
    expect(iso(nextDue(monday, "Europe/London", new Date("2026-03-25T00:00:00Z")))).toBe(
      "2026-03-30T05:15:00.000Z",
    );
    // The latest due time at or before now, not before `since`.
    expect(
      iso(
        latestDue(
          nine,
          "America/New_York",
          new Date("2026-03-08T13:05:00Z"),
          new Date("2026-03-08T00:00:00Z"),
        ),
      ),
    ).toBe("2026-03-08T13:00:00.000Z");
    expect(
      latestDue(nine, "America/New_York", new Date("2026-03-08T12:59:00Z"), new Date("2026-03-08T00:00:00Z")),
    ).toBe(null);
  });

  it("refuses a bad expression naming the field", () => {
    expect(() => parseCron("61 * * * *")).toThrow(/minute: 61 is outside 0-59/);
    expect(() => parseCron("* * * * ")).toThrow(/needs 5 fields/);
    expect(() => parseCron("* 5-2 * * *")).toThrow(/hour: range 5-2 runs backwards/);
    expect(() => parseCron("* * * FOO *")).toThrow(/month: "FOO" is not a number/);
    expect(() => parseCron("*/0 * * * *")).toThrow(/minute: step/);
    expect([...parseCron("*/20 1-3 1,15 * 7").minute]).toEqual([0, 20, 40]);
  });
});

describe("scheduled tasks", () => {
  let t: TestApp;
  const sent: string[] = [];
  const hub = {
    deliver: async (deviceId: string, _frame: string) => {
      sent.push(deviceId);
      return true;
    },
  } as unknown as AgentHub;
  const settings = { reopenSeconds: 900, groupSeconds: 0 };
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());
  const deps = () => ({ db: t.db, hub, serverKey: t.app.agents.serverKey });

  async function setup(zone = "America/New_York", devices = 2) {
    const client = await makeClient(t);
    const admin = await makeUser(t, { role: "admin" });
    const site = await t.db
      .insertInto("sites")
      .values({ client_id: client.id, name: "HQ", timezone: zone })
      .returning("id")
      .executeTakeFirstOrThrow();
    const ids: string[] = [];
    for (let i = 0; i < devices; i++)
      ids.push(
        (
          await t.db
            .insertInto("devices")
            .values({
              client_id: client.id,
              site_id: site.id,
              hostname: rand("pc-"),
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
        ).id,
      );
    const api = (method: "GET" | "POST" | "PUT" | "DELETE", url: string, payload?: object) =>
      t.app.inject({ method, url, headers: admin.auth, payload });
    const policy = (
      await api("POST", "/api/v1/monitoring/policies", { name: "Servers", clientId: client.id })
    ).json();
    return { client, admin, ids, api, policyId: policy.id as string };
  }

  async function addTask(s: Awaited<ReturnType<typeof setup>>, body: object) {
    const res = await s.api("POST", `/api/v1/monitoring/policies/${s.policyId}/tasks`, {
      name: rand("Backup "),
      interpreter: "bash",
      script: "echo hi",
      ...body,
    });
    expect(res.statusCode).toBe(201);
    const task = res.json();
    await sql`update monitoring_tasks set schedule_from = '2026-01-01T00:00:00Z' where id = ${task.id}`.execute(
      t.db,
    );
    return task as { id: string; version: number };
  }

  const runsOf = (taskId: string) =>
    t.db
      .selectFrom("monitoring_task_runs")
      .selectAll()
      .where("task_id", "=", taskId)
      .orderBy("due_at")
      .execute();
  const commandsOf = (deviceIds: string[]) =>
    t.db
      .selectFrom("device_commands")
      .selectAll()
      .where("device_id", "in", deviceIds)
      .orderBy("created_at")
      .execute();

  it("validates the cron at save, naming the field, and declares who may change tasks", async () => {
    const s = await setup();
    const bad = await s.api("POST", `/api/v1/monitoring/policies/${s.policyId}/tasks`, {
      name: "Nightly",
      interpreter: "bash",
      script: "true",
      cron: "0 25 * * *",
    });
    expect(bad.statusCode).toBe(400);
    expect(JSON.stringify(bad.json())).toContain("body.cron");
    expect(JSON.stringify(bad.json())).toContain("hour: 25 is outside 0-23");
    const tech = await makeUser(t, { role: "technician" });
    const denied = await t.app.inject({
      method: "POST",
      url: `/api/v1/monitoring/policies/${s.policyId}/tasks`,
      headers: tech.auth,
      payload: { name: "x", interpreter: "bash", script: "true", cron: "* * * * *" },
    });
    expect(denied.statusCode).toBe(403);
    const task = await addTask(s, { cron: "0 3 * * *" });
    const edited = await s.api("PUT", `/api/v1/monitoring/tasks/${task.id}`, {
      version: task.version,
      name: "Nightly",
      interpreter: "sh",
      script: "true",
      cron: "0 4 * * 1-5",
    });
    expect(edited.json()).toMatchObject({ name: "Nightly", cron: "0 4 * * 1-5", version: task.version + 1 });
    const stale = await s.api("PUT", `/api/v1/monitoring/tasks/${task.id}`, {
      version: task.version,
      name: "Nightly",
      interpreter: "sh",
      script: "true",
      cron: "0 4 * * *",
    });
    expect(stale.statusCode).toBe(412);
    expect((await s.api("GET", `/api/v1/monitoring/policies/${s.policyId}/tasks`)).json().items).toHaveLength(
      1,
    );
    expect((await s.api("DELETE", `/api/v1/monitoring/tasks/${task.id}`)).statusCode).toBe(204);
    expect((await s.api("GET", `/api/v1/monitoring/policies/${s.policyId}/tasks`)).json().items).toHaveLength(
      0,
    );
  });

  it("runs each due time exactly once per device with two workers, at the site's local time", async () => {
    const s = await setup("America/New_York", 3);
    const task = await addTask(s, { cron: "0 9 * * *" });
    // 09:00 in New York on 9 March (after the change) is 13:00Z; both workers pass at 13:00:20Z.
    const now = new Date("2026-03-09T13:00:20Z");
    const [a, b] = await Promise.all([scheduleDueRuns(deps(), now), scheduleDueRuns(deps(), now)]);
    expect(a.created + b.created).toBe(3);
    const runs = await runsOf(task.id);
    expect(runs.map((r) => r.due_at.toISOString())).toEqual(Array(3).fill("2026-03-09T13:00:00.000Z"));
    const commands = await commandsOf(s.ids);
    expect(commands).toHaveLength(3);
    expect(commands.every((c) => c.status === "sent" && c.kind === "script.run")).toBe(true);
    expect(commands[0]!.command).toMatchObject({
      kind: "script.run",
      interpreter: "bash",
      script: "echo hi",
    });
    expect(sent.filter((d) => s.ids.includes(d)).sort()).toEqual([...s.ids].sort());
    // The same due time again (a third worker, a later pass) claims nothing.
    expect((await scheduleDueRuns(deps(), new Date("2026-03-09T13:00:40Z"))).created).toBe(0);
    expect(await commandsOf(s.ids)).toHaveLength(3);
    // A later pass before the next due time adds nothing.
    expect((await scheduleDueRuns(deps(), new Date("2026-03-10T12:59:00Z"))).created).toBe(0);
    expect(await runsOf(task.id)).toHaveLength(3);
    expect((await scheduleDueRuns(deps(), new Date("2026-03-10T13:00:05Z"))).created).toBe(3);
  });

  it("catches a missed run up once on reconnect, or records it missed", async () => {
    const s = await setup("Europe/London", 1);
    const [device] = s.ids;
    const catchUp = await addTask(s, { cron: "0 * * * *", runMissed: true });
    const skip = await addTask(s, { cron: "0 * * * *", runMissed: false });
    await sql`update devices set online = false where id = ${device}`.execute(t.db);
    // Three due times while offline: one command waits, the later runs are skipped; the other task misses.
    for (const h of ["10", "11", "12"]) await scheduleDueRuns(deps(), new Date(`2026-06-01T${h}:00:10Z`));
    const runs = await runsOf(catchUp.id);
    expect(runs.map((r) => r.status)).toEqual(["queued", "skipped", "skipped"]);
    expect((await runsOf(skip.id)).map((r) => r.status)).toEqual(["missed", "missed", "missed"]);
    const queued = await commandsOf([device!]);
    expect(queued).toHaveLength(1);
    expect(queued[0]).toMatchObject({ status: "queued" });
    expect(queued[0]!.expires_at.getTime()).toBeGreaterThan(Date.now() + 86_400_000);
    // The gateway claims it on reconnect (claimQueued), the agent runs it, the run is judged.
    const { claimQueued } = await import("../agents/command-records.ts");
    const claimed = await asSystem(() => claimQueued(t.db, device!));
    expect(claimed.map((c) => c.id)).toEqual([queued[0]!.id]);
    await asSystem(() =>
      finishCommand(t.db, device!, {
        type: "command.result",
        commandId: queued[0]!.id,
        status: "succeeded",
        exitCode: 0,
        truncated: false,
      }),
    );
    await judgeFinishedRuns(t.db, settings);
    expect((await runsOf(catchUp.id)).map((r) => r.status)).toEqual(["succeeded", "skipped", "skipped"]);
    expect(await asSystem(() => claimQueued(t.db, device!))).toHaveLength(0);
  });

  it("a failing run opens an alert and a ticket; the next successful run resolves both", async () => {
    const s = await setup("UTC", 1);
    const [device] = s.ids;
    const task = await addTask(s, { cron: "*/5 * * * *", severity: "high", name: "Backup" });
    const runAt = async (
      at: string,
      status: "succeeded" | "failed" | "timed_out",
      exitCode: number | null,
    ) => {
      await scheduleDueRuns(deps(), new Date(at));
      const c = (await commandsOf([device!])).at(-1)!;
      await asSystem(() => appendOutput(t.db, device!, c.id, "stderr", `disk full at ${at}`));
      await asSystem(() =>
        finishCommand(t.db, device!, {
          type: "command.result",
          commandId: c.id,
          status,
          exitCode,
          truncated: false,
        }),
      );
      return judgeFinishedRuns(t.db, settings);
    };
    const alerts = () =>
      t.db.selectFrom("monitoring_alerts").selectAll().where("check_key", "=", `task:${task.id}`).execute();

    expect(await runAt("2026-06-01T10:00:01Z", "failed", 3)).toBe(1);
    let [alert] = await alerts();
    expect(alert).toMatchObject({
      state: "firing",
      kind: "task",
      name: "Backup",
      severity: "high",
      device_id: device,
    });
    expect(alert!.output).toContain("Exited with code 3.");
    expect(alert!.output).toContain("disk full");
    const ticket = await t.db
      .selectFrom("tickets")
      .selectAll()
      .where("id", "=", alert!.ticket_id!)
      .executeTakeFirstOrThrow();
    expect(ticket).toMatchObject({ priority: 2, is_open: true });

    // A timeout keeps the same alert open.
    await runAt("2026-06-01T10:05:01Z", "timed_out", null);
    expect(await alerts()).toHaveLength(1);
    expect((await alerts())[0]!.output).toContain("Timed out after 300 s.");

    await runAt("2026-06-01T10:10:01Z", "succeeded", 0);
    [alert] = await alerts();
    expect(alert).toMatchObject({ state: "resolved", resolution: "check passing" });
    const closed = await t.db
      .selectFrom("tickets")
      .select("is_open")
      .where("id", "=", ticket.id)
      .executeTakeFirstOrThrow();
    expect(closed.is_open).toBe(false);

    // The device's Monitoring section: newest first, with result and output.
    const runs = (await s.api("GET", `/api/v1/devices/${device}/task-runs`)).json().items;
    expect(runs.map((r: { status: string }) => r.status)).toEqual(["succeeded", "timed_out", "failed"]);
    expect(runs[2]).toMatchObject({ taskName: "Backup", exitCode: 3, dueAt: "2026-06-01T10:00:00.000Z" });

    // Failing again, then the policy is deleted: the alert does not stay open with nothing behind it.
    await runAt("2026-06-01T11:00:01Z", "failed", 1);
    expect((await alerts()).filter((a) => a.state === "firing")).toHaveLength(1);
    expect((await s.api("DELETE", `/api/v1/monitoring/policies/${s.policyId}`)).statusCode).toBe(204);
    expect((await alerts()).every((a) => a.state === "resolved")).toBe(true);
  });

  it("keeps tasks and runs inside their client (row-level security) and 404s another client's", async () => {
    const a = await setup("UTC", 1);
    const b = await setup("UTC", 1);
    const ta = await addTask(a, { cron: "0 * * * *" });
    const tb = await addTask(b, { cron: "0 * * * *" });
    await scheduleDueRuns(deps(), new Date("2026-06-02T08:00:03Z"));
    const seen = await runInScope(scopeForClients([a.client.id]), async () => ({
      tasks: await t.db
        .selectFrom("monitoring_tasks")
        .select("id")
        .where("id", "in", [ta.id, tb.id])
        .execute(),
      runs: await t.db
        .selectFrom("monitoring_task_runs")
        .select("task_id")
        .where("task_id", "in", [ta.id, tb.id])
        .execute(),
    }));
    expect(seen.tasks.map((r) => r.id)).toEqual([ta.id]);
    expect(seen.runs.map((r) => r.task_id)).toEqual([ta.id]);
    const forged = runInScope(scopeForClients([a.client.id]), () =>
      t.db
        .insertInto("monitoring_task_runs")
        .values({
          task_id: tb.id,
          device_id: b.ids[0]!,
          client_id: b.client.id,
          due_at: new Date(),
          status: "queued",
        })
        .execute(),
    );
    await expect(forged).rejects.toThrow();
    const limited = await makeUser(t, { role: "admin", clientIds: [a.client.id] });
    for (const url of [
      `/api/v1/monitoring/policies/${b.policyId}/tasks`,
      `/api/v1/devices/${b.ids[0]}/task-runs`,
    ])
      expect((await t.app.inject({ method: "GET", url, headers: limited.auth })).statusCode).toBe(404);
    const del = await t.app.inject({
      method: "DELETE",
      url: `/api/v1/monitoring/tasks/${tb.id}`,
      headers: limited.auth,
    });
    expect(del.statusCode).toBe(404);
  });
});
