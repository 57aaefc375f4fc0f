import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, makeClient, makeUser, type TestApp, type TestUser } from "../../../test/helpers.ts";

let t: TestApp;
let tech: TestUser;
let admin: TestUser;
let clientId: string;
let ticketId: string;

const call = async (user: TestUser, method: string, url: string, payload?: unknown) => {
  const res = await t.app.inject({
    method: method as "GET",
    url,
    headers: user.auth,
    payload: payload as object,
  });
  return { status: res.statusCode, body: res.statusCode === 204 ? null : res.json() };
};

beforeAll(async () => {
  t = await createTestApp();
  tech = await makeUser(t);
  admin = await makeUser(t, { role: "admin" });
  clientId = (await makeClient(t)).id;
  ticketId = (await call(tech, "POST", "/api/v1/tickets", { subject: "CRM install", clientId })).body.id;
});
afterAll(() => t.close());

describe("the timer", () => {
  it("runs on the server (a reload finds it), starting another stops the first, and stopping logs at least a minute", async () => {
    const started = await call(tech, "POST", "/api/v1/timer/start", {
      ticketId,
      workType: "remote",
      note: "install",
    });
    expect(started.status).toBe(200);
    expect(started.body.running).toMatchObject({ ticketId, clientId, endedAt: null, minutes: null });
    // A new page load asks the server.
    const reloaded = await call(tech, "GET", "/api/v1/timer");
    expect(reloaded.body.running.id).toBe(started.body.running.id);

    const second = await call(tech, "POST", "/api/v1/timer/start", { clientId, workType: "project" });
    expect(second.body.stopped).toMatchObject({ id: started.body.running.id, minutes: 1 });
    expect(second.body.running.clientId).toBe(clientId);
    const stopped = await call(tech, "POST", "/api/v1/timer/stop", { note: "configured" });
    expect(stopped.body).toMatchObject({ running: null, stopped: { note: "configured", minutes: 1 } });
    expect((await call(tech, "GET", "/api/v1/timer")).body.running).toBeNull();
  });

  it("refuses time for a client the technician may not see, or for nothing at all", async () => {
    const other = await makeClient(t);
    const limited = await makeUser(t, { clientIds: [clientId] });
    const res = await call(limited, "POST", "/api/v1/timer/start", { clientId: other.id });
    expect(res.status).toBe(400);
    expect(res.body.error.details.issues[0].path).toBe("body.clientId");
    const none = await call(tech, "POST", "/api/v1/time-entries", {
      startedAt: "2026-11-02T14:00:00Z",
      minutes: 30,
    });
    expect(none.body.error.details.issues[0].path).toBe("body.ticketId");
    const dst = await call(tech, "POST", "/api/v1/time-entries", {
      clientId,
      startedAt: "2026-11-02T14:00:00Z",
      minutes: 2000,
    });
    expect(dst.body.error.details.issues[0].path).toBe("body.minutes");
  });
});

describe("entries and timesheets", () => {
  it("flags overlapping entries of one technician", async () => {
    const a = await call(tech, "POST", "/api/v1/time-entries", {
      ticketId,
      startedAt: "2026-10-20T14:00:00Z",
      minutes: 60,
    });
    const b = await call(tech, "POST", "/api/v1/time-entries", {
      ticketId,
      startedAt: "2026-10-20T14:30:00Z",
      minutes: 60,
    });
    const c = await call(tech, "POST", "/api/v1/time-entries", {
      ticketId,
      startedAt: "2026-10-20T16:00:00Z",
      minutes: 30,
    });
    expect([a.body.overlaps, b.body.overlaps, c.body.overlaps]).toEqual([false, true, false]);
    const list = (
      await call(
        tech,
        "GET",
        `/api/v1/time-entries?ticketId=${ticketId}&from=2026-10-20T00:00:00Z&to=2026-10-21T00:00:00Z`,
      )
    ).body;
    expect(list.filter((e: { overlaps: boolean }) => e.overlaps)).toHaveLength(2);
  });

  it("cuts a technician's week at their local midnight across the end of daylight saving time", async () => {
    const ny = await makeUser(t);
    await t.db.updateTable("users").set({ timezone: "America/New_York" }).where("id", "=", ny.id).execute();
    // Sunday 1 November 2026, 23:30 in New York (after the clocks went back): still that week.
    await call(ny, "POST", "/api/v1/time-entries", {
      clientId,
      startedAt: "2026-11-02T04:30:00Z",
      minutes: 20,
    });
    // Monday 2 November, 00:30 in New York: the next week.
    await call(ny, "POST", "/api/v1/time-entries", {
      clientId,
      startedAt: "2026-11-02T05:30:00Z",
      minutes: 40,
    });
    const week = (await call(ny, "GET", "/api/v1/timesheets?week=2026-10-29")).body;
    expect(week.weekStart).toBe("2026-10-26");
    expect(week.days.at(-1)).toEqual({ date: "2026-11-01", billable: 20, nonBillable: 0 });
    expect(week.totalMinutes).toBe(20);
    const next = (await call(ny, "GET", "/api/v1/timesheets?week=2026-11-02")).body;
    expect(next.days[0]).toEqual({ date: "2026-11-02", billable: 40, nonBillable: 0 });
  });

  it("locks a week once approved (a change is refused with the way out), and an admin can reopen it", async () => {
    const user = await makeUser(t);
    const entry = (
      await call(user, "POST", "/api/v1/time-entries", {
        clientId,
        startedAt: "2026-09-08T14:00:00Z",
        minutes: 45,
      })
    ).body;
    const submitted = await call(user, "POST", "/api/v1/timesheets/submit", { week: "2026-09-08" });
    expect(submitted.body).toMatchObject({ status: "submitted", totalMinutes: 45 });
    // Only admins and dispatchers decide, and a rejection says why.
    expect(
      (await call(user, "POST", `/api/v1/timesheets/${submitted.body.id}/decision`, { decision: "approve" }))
        .status,
    ).toBe(403);
    const reject = await call(admin, "POST", `/api/v1/timesheets/${submitted.body.id}/decision`, {
      decision: "reject",
    });
    expect(reject.body.error.details.issues[0].path).toBe("body.note");
    const approved = await call(admin, "POST", `/api/v1/timesheets/${submitted.body.id}/decision`, {
      decision: "approve",
    });
    expect(approved.body.status).toBe("approved");
    expect(approved.body.entries[0].locked).toBe(true);

    const edit = await call(user, "PATCH", `/api/v1/time-entries/${entry.id}`, {
      version: entry.version,
      note: "x",
    });
    expect(edit.status).toBe(409);
    const add = await call(user, "POST", "/api/v1/time-entries", {
      clientId,
      startedAt: "2026-09-09T14:00:00Z",
      minutes: 10,
    });
    expect(add.status).toBe(409);
    expect((await call(user, "DELETE", `/api/v1/time-entries/${entry.id}`)).status).toBe(409);

    const reopened = await call(admin, "POST", `/api/v1/timesheets/${submitted.body.id}/decision`, {
      decision: "reopen",
      note: "fix Tuesday",
    });
    expect(reopened.body.status).toBe("open");
    expect(
      (
        await call(user, "PATCH", `/api/v1/time-entries/${entry.id}`, {
          version: entry.version,
          note: "fixed",
        })
      ).status,
    ).toBe(200);
    const audit = await t.db
      .selectFrom("audit_log")
      .select("action")
      .where("entity_id", "=", submitted.body.id)
      .orderBy("id")
      .execute();
    expect(audit.map((a) => a.action)).toEqual(["timesheet.submit", "timesheet.approve", "timesheet.reopen"]);
  });
});
