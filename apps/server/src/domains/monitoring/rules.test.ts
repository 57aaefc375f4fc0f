import { type Kysely, sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestApp,
  isolatedDatabase,
  makeClient,
  makeTeam,
  makeUser,
  rand,
  type TestApp,
  type TestUser,
} from "../../../test/helpers.ts";
import { connectDatabase } from "../../db/database.ts";
import { down, up } from "../../migrations/202612052010_device_tags_and_rule_lists.ts";
import { decideTicket } from "./rules.ts";
import { runSweep, type SweepSettings } from "./sweep.ts";

// Ticket rules against the real database: ordered lists (the client's, then the MSP's), conditions on
// severity, alert kind and business hours on the client's SLA calendar, judged at the instant the alert
// fired (data, never the wall clock: the same answers under any TZ the process runs in).

const settings: SweepSettings = {
  offlineGraceSeconds: 60,
  recoverSeconds: 0,
  correlationSeconds: 0,
  siteMinOffline: 2,
  siteOfflinePercent: 50,
  reopenSeconds: 900,
};

// Chicago is UTC-6 in late November. 2026-11-24 and 2026-12-01 are Tuesdays; the 1st is a holiday.
const TUESDAY_2PM = new Date("2026-11-24T20:00:00Z");
const TUESDAY_10PM = new Date("2026-11-25T04:00:00Z");
const HOLIDAY_2PM = new Date("2026-12-01T20:00:00Z");

let t: TestApp;
let admin: TestUser;
beforeAll(async () => {
  t = await createTestApp();
  admin = await makeUser(t, { role: "admin" });
});
afterAll(() => t.close());

const api = (
  method: "GET" | "POST" | "PUT" | "DELETE",
  url: string,
  payload?: object,
  headers = admin.auth,
) => t.app.inject({ method, url, headers, payload });

/** A client on a Chicago office-hours SLA calendar (Mon-Fri 08:00-17:00) with 2026-12-01 a holiday. */
async function clientWithCalendar() {
  const client = await makeClient(t);
  const cal = await t.db
    .insertInto("sla_calendars")
    .values({
      name: rand("Chicago office "),
      time_zone: "America/Chicago",
      always_open: false,
      hours: JSON.stringify([1, 2, 3, 4, 5].map((day) => ({ day, start: 480, end: 1020 }))),
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  await t.db
    .insertInto("sla_holidays")
    .values({ calendar_id: cal.id, date: "2026-12-01", name: "Closed" })
    .execute();
  const policy = await t.db
    .insertInto("sla_policies")
    .values({
      name: rand("Chicago SLA "),
      calendar_id: cal.id,
      // A whole policy as the SLA admin saves it: the SLA pages of other tests in this database read it.
      targets: JSON.stringify(
        Object.fromEntries(["1", "2", "3", "4"].map((p) => [p, { firstResponse: null, resolution: null }])),
      ),
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  await t.db
    .insertInto("client_sla_policies")
    .values({ client_id: client.id, policy_id: policy.id })
    .execute();
  const device = await t.db
    .insertInto("devices")
    .values({
      client_id: client.id,
      hostname: rand("srv-"),
      platform: "linux",
      arch: "x64",
      os_name: "Linux",
      os_version: "12",
      agent_version: "test",
      public_key: "unused",
      online: true,
      last_seen_at: new Date(),
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  return { client, calendarId: cal.id, deviceId: device.id };
}

/** One sweep pass (another test file's sweep may hold the lock a moment: bounded retries). */
async function sweep() {
  for (let i = 0; i < 100; i++) {
    if (await runSweep(t.db, settings)) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("the sweep lock stayed taken");
}

async function rule(body: object) {
  const res = await api("POST", "/api/v1/monitoring/ticket-rules", body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; version: number; position: number };
}

/** A firing alert as the results path leaves it when a ticket could not be opened yet, at `firedAt`. */
async function firing(
  c: { client: { id: string }; deviceId: string },
  kind: string,
  severity: string,
  firedAt: Date,
) {
  return t.db
    .insertInto("monitoring_alerts")
    .values({
      client_id: c.client.id,
      device_id: c.deviceId,
      check_key: rand("k-"),
      kind,
      name: `${kind} ${rand()}`,
      severity: severity as "high",
      state: "firing",
      fired_at: firedAt,
      first_failed_at: firedAt,
      output: "failing",
    })
    .returning("id")
    .executeTakeFirstOrThrow();
}

const ticketOfAlert = async (alertId: string) => {
  const a = await t.db
    .selectFrom("monitoring_alerts as a")
    .leftJoin("tickets as t", "t.id", "a.ticket_id")
    .select(["a.state", "a.no_ticket", "t.priority", "t.team_id", "t.assignee_id", "t.type", "t.source"])
    .where("a.id", "=", alertId)
    .executeTakeFirstOrThrow();
  return a;
};

describe("ticket rules", () => {
  it("picks the rule by business hours on the client's calendar, check kind and severity; first match wins", async () => {
    const c = await clientWithCalendar();
    const day = await makeTeam(t);
    const onCall = await makeUser(t, { role: "technician", clientIds: [c.client.id] });
    await rule({ clientId: c.client.id, name: "Backups wait", checkKinds: ["backup"], openTicket: false });
    await rule({ clientId: c.client.id, name: "Office", businessHours: "during", teamId: day.id });
    await rule({
      clientId: c.client.id,
      name: "Night",
      businessHours: "outside",
      minSeverity: "high",
      assigneeId: onCall.id,
      priority: 1,
      resolveOnRecovery: false,
    });
    const office = await firing(c, "service", "high", TUESDAY_2PM);
    const night = await firing(c, "service", "high", TUESDAY_10PM);
    const holiday = await firing(c, "service", "high", HOLIDAY_2PM);
    const backup = await firing(c, "backup", "critical", TUESDAY_2PM);
    const quietNight = await firing(c, "service", "medium", TUESDAY_10PM);
    await sweep();

    expect(await ticketOfAlert(office.id)).toMatchObject({
      priority: 2,
      team_id: day.id,
      assignee_id: null,
      type: "alert",
      source: "monitoring",
    });
    expect(await ticketOfAlert(night.id)).toMatchObject({
      priority: 1,
      team_id: null,
      assignee_id: onCall.id,
    });
    expect(await ticketOfAlert(holiday.id)).toMatchObject({ priority: 1, assignee_id: onCall.id });
    // No rule for a medium alert at night: the default (a ticket with its severity's priority, unassigned).
    expect(await ticketOfAlert(quietNight.id)).toMatchObject({
      priority: 3,
      team_id: null,
      assignee_id: null,
    });
    // The no-ticket rule: the alert stays firing and on the Alerts page, with no ticket.
    expect(await ticketOfAlert(backup.id)).toMatchObject({
      state: "firing",
      no_ticket: true,
      priority: null,
    });
    const listed = (await api("GET", `/api/v1/alerts?clientId=${c.client.id}`)).json().items;
    expect(listed.find((a: { id: string }) => a.id === backup.id)).toMatchObject({
      state: "firing",
      ticket: null,
    });

    // The night rule said recovery only notes its ticket; the office rule resolves.
    await sql`update monitoring_alerts set state = 'resolved', resolved_at = now() where id = any(${[office.id, night.id]}::uuid[])`.execute(
      t.db,
    );
    const { resolveTicketUnlessShared } = await import("./tickets.ts");
    const ids = await t.db
      .selectFrom("monitoring_alerts")
      .select(["id", "ticket_id"])
      .where("id", "in", [office.id, night.id])
      .execute();
    await t.db.transaction().execute(async (trx) => {
      for (const r of ids) await resolveTicketUnlessShared(trx, r.ticket_id!, "passing again");
    });
    const statuses = await t.db
      .selectFrom("tickets")
      .select(["id", "status_category"])
      .where(
        "id",
        "in",
        ids.map((r) => r.ticket_id!),
      )
      .execute();
    const byAlert = new Map(
      ids.map((r) => [r.id, statuses.find((s) => s.id === r.ticket_id)!.status_category]),
    );
    expect(byAlert.get(office.id)).toBe("resolved");
    expect(byAlert.get(night.id)).toBe("new");
  });

  it("tries the client's list before the MSP's, follows a new order, and skips hours it cannot judge", async () => {
    const c = await clientWithCalendar();
    const plain = await makeClient(t);
    const first = await rule({
      clientId: c.client.id,
      name: "Criticals P2",
      minSeverity: "critical",
      priority: 2,
    });
    const second = await rule({
      clientId: c.client.id,
      name: "Services P4",
      checkKinds: ["service"],
      priority: 4,
    });
    expect([first.position, second.position]).toEqual([0, 1]);
    const facts = { clientId: c.client.id, severity: "critical" as const, kind: "service", at: TUESDAY_2PM };
    expect((await decideTicket(t.db, facts)).priority).toBe(2);
    const bad = await api("POST", "/api/v1/monitoring/ticket-rules/order", {
      clientId: c.client.id,
      ids: [second.id],
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.issues[0].path).toBe("body.ids");
    const reordered = await api("POST", "/api/v1/monitoring/ticket-rules/order", {
      clientId: c.client.id,
      ids: [second.id, first.id],
    });
    expect(reordered.statusCode, reordered.body).toBe(200);
    expect(reordered.json().items.map((r: { id: string }) => r.id)).toEqual([second.id, first.id]);
    expect((await decideTicket(t.db, facts)).priority).toBe(4);

    // MSP-wide rules come after every client's own (tried in a transaction that is rolled back, so
    // other tests sharing the database never see them).
    await t.db
      .transaction()
      .execute(async (trx) => {
        const team = await makeTeam({ db: trx as unknown as TestApp["db"] });
        await trx
          .insertInto("monitoring_ticket_rules")
          .values({ client_id: null, team_id: team.id, updated_at: new Date() })
          .execute();
        // c's own list matches first; a client without rules gets the MSP's.
        expect((await decideTicket(trx, facts)).teamId).toBeNull();
        expect((await decideTicket(trx, { ...facts, clientId: plain.id })).teamId).toBe(team.id);
        // A business-hours rule for a client with no SLA calendar cannot be judged: it never matches.
        await trx
          .insertInto("monitoring_ticket_rules")
          .values({
            client_id: plain.id,
            business_hours: "during",
            open_ticket: false,
            updated_at: new Date(),
          })
          .execute();
        expect(await decideTicket(trx, { ...facts, clientId: plain.id })).toMatchObject({
          openTicket: true,
          teamId: team.id,
        });
        throw new Error("rollback");
      })
      .catch((err: Error) => {
        if (err.message !== "rollback") throw err;
      });
  });

  it("judges a chosen calendar in its own zone whatever the process's TZ", async () => {
    const c = await clientWithCalendar();
    const sydney = await t.db
      .insertInto("sla_calendars")
      .values({
        name: rand("Sydney "),
        time_zone: "Australia/Sydney",
        always_open: false,
        hours: JSON.stringify([{ day: 3, start: 540, end: 1020 }]),
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    await rule({ clientId: c.client.id, businessHours: "during", calendarId: sydney.id, priority: 4 });
    // Tuesday 20:00 UTC is Wednesday 07:00 in Sydney (UTC+11): before opening. 23:00 UTC is 10:00 there.
    const facts = { clientId: c.client.id, severity: "high" as const, kind: "http", at: TUESDAY_2PM };
    expect((await decideTicket(t.db, facts)).priority).toBe(2);
    expect((await decideTicket(t.db, { ...facts, at: new Date("2026-11-24T23:00:00Z") })).priority).toBe(4);
  });

  it("validates a rule at save and names the field; limited staff cannot touch the MSP's list", async () => {
    const c = await clientWithCalendar();
    const team = await makeTeam(t);
    const cases: Array<[object, string]> = [
      [{ checkKinds: ["nope"] }, "body.checkKinds.0"],
      [{ businessHours: "sometimes" }, "body.businessHours"],
      [{ businessHours: "during", calendarId: "00000000-0000-4000-8000-00000000dead" }, "body.calendarId"],
      [{ priority: 7 }, "body.priority"],
      [{ openTicket: false, teamId: team.id }, "body.teamId"],
      [{ teamId: "00000000-0000-4000-8000-00000000dead" }, "body.teamId"],
      [{ minSeverity: "urgent" }, "body.minSeverity"],
    ];
    for (const [body, path] of cases) {
      const res = await api("POST", "/api/v1/monitoring/ticket-rules", { clientId: c.client.id, ...body });
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect(res.json().error.details.issues[0].path).toBe(path);
    }
    const r = await rule({ clientId: c.client.id, name: "Edit me" });
    const stale = await api("PUT", `/api/v1/monitoring/ticket-rules/${r.id}`, { version: r.version + 5 });
    expect(stale.statusCode).toBe(412);
    const edited = await api("PUT", `/api/v1/monitoring/ticket-rules/${r.id}`, {
      version: r.version,
      name: "Edited",
      checkKinds: ["offline", "offline"],
      businessHours: "outside",
    });
    expect(edited.statusCode, edited.body).toBe(200);
    expect(edited.json()).toMatchObject({
      name: "Edited",
      checkKinds: ["offline"],
      businessHours: "outside",
    });
    const dispatcher = await makeUser(t, { role: "dispatcher", clientIds: [c.client.id] });
    const msp = await api("POST", "/api/v1/monitoring/ticket-rules", { clientId: null }, dispatcher.auth);
    expect(msp.statusCode).toBe(400);
    expect(msp.json().error.details.issues[0].path).toBe("body.clientId");
    expect(
      (await api("DELETE", `/api/v1/monitoring/ticket-rules/${r.id}`, undefined, dispatcher.auth)).statusCode,
    ).toBe(204);
    const audit = await t.db
      .selectFrom("audit_log")
      .select("action")
      .where("entity_id", "=", r.id)
      .orderBy("id")
      .execute();
    expect(audit.map((a) => a.action)).toEqual([
      "monitoring.ticket_rule_create",
      "monitoring.ticket_rule_update",
      "monitoring.ticket_rule_delete",
    ]);
  });

  it("migrates rules of the old shape without losing them or what their severity floor meant", async () => {
    const url = await isolatedDatabase();
    const { db, close } = connectDatabase(url, { max: 1 });
    try {
      // The migration is typed for any schema (it runs before the app's types hold).
      const raw = db as unknown as Kysely<unknown>;
      await down(raw);
      const client = await makeClient({ db });
      const team = await makeTeam({ db });
      await sql`insert into monitoring_ticket_rules (client_id, min_severity, team_id, resolve_on_recovery)
        values (${client.id}, 'high', ${team.id}, false), (null, 'low', null, true)`.execute(db);
      await up(raw);
      const rows = await db
        .selectFrom("monitoring_ticket_rules")
        .selectAll()
        .orderBy(sql`client_id nulls last`)
        .orderBy("position")
        .execute();
      expect(rows).toMatchObject([
        { client_id: client.id, position: 0, min_severity: "high", team_id: team.id, open_ticket: true },
        { client_id: client.id, position: 1, min_severity: "low", open_ticket: false },
        { client_id: null, position: 0, min_severity: "low", open_ticket: true, resolve_on_recovery: true },
      ]);
      const at = TUESDAY_2PM;
      expect(
        await decideTicket(db, { clientId: client.id, severity: "critical", kind: "ping", at }),
      ).toMatchObject({
        openTicket: true,
        teamId: team.id,
        resolveOnRecovery: false,
      });
      // Below the old floor: still an alert only, not the MSP's rule.
      expect(
        await decideTicket(db, { clientId: client.id, severity: "medium", kind: "ping", at }),
      ).toMatchObject({
        openTicket: false,
      });
    } finally {
      await close();
    }
  });
});
