import { randomBytes } from "node:crypto";
import { sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  connectAppDatabase,
  createTestApp,
  isolatedDatabase,
  makeClient,
  makeContact,
  makeTeam,
  makeUser,
  type TestApp,
  type TestUser,
} from "../../../test/helpers.ts";
import { runInScope } from "../../db/scope.ts";
import { type Boss, startBoss } from "../../lib/jobs.ts";
import { OUTBOUND_QUEUE } from "../email/outbound.ts";
import { waitFor } from "../email/test-support.ts";
import { createSlaQueues, fireTimers, recomputeOpenTickets, startSlaWorkers } from "./jobs.ts";
import { recomputeTicketSla, type SlaDeps, TIMER_QUEUE } from "./recompute.ts";

// The SLA clock on a real PostgreSQL with a controlled clock: business hours in Chicago, a pause while
// waiting on the client that the customer's mail ends, re-targeting on priority and policy changes, and
// warnings and breaches announced once each, by durable timers, whichever process runs them.

const WAITING_ON_CLIENT = "00000000-0000-4000-8000-000000000004";
const OPEN = "00000000-0000-4000-8000-000000000002";

let t: TestApp;
let admin: TestUser;
let deps: SlaDeps;
let chicagoId: string;
let gold: string;
let silver: string;
let fast: string;

const at = (iso: string) => new Date(iso);
const call = async (method: string, url: string, payload?: unknown, user: TestUser = admin) => {
  const res = await t.app.inject({
    method: method as "GET",
    url,
    headers: user.auth,
    payload: payload as object,
  });
  return { status: res.statusCode, body: res.statusCode === 204 ? null : res.json() };
};

async function clientOn(policyId: string) {
  const client = await makeClient(t);
  const contact = await makeContact(t, client.id);
  expect((await call("PUT", `/api/v1/clients/${client.id}/sla-policy`, { policyId })).status).toBe(200);
  return { clientId: client.id, contactId: contact.id };
}

async function ticketAt(c: { clientId: string; contactId: string }, createdAt: string, priority = 2) {
  const res = await call("POST", "/api/v1/tickets", {
    subject: "Server down",
    clientId: c.clientId,
    contactId: c.contactId,
    priority,
  });
  expect(res.status).toBe(201);
  const id = res.body.id as string;
  await sql`update tickets set created_at = ${at(createdAt)} where id = ${id}`.execute(t.db);
  return id;
}

/** Moves the newest timeline entry of a kind (the change just made) to the instant it is supposed to have happened. */
async function backdateLast(ticketId: string, when: string) {
  await sql`update timeline_entries set created_at = ${at(when)}
    where id = (select id from timeline_entries where ticket_id = ${ticketId} order by seq desc limit 1)`.execute(
    t.db,
  );
}

const stored = (ticketId: string) =>
  t.db
    .selectFrom("tickets as t")
    .innerJoin("ticket_slas as s", "s.ticket_id", "t.id")
    .select(["t.sla_due_at", "t.sla_state", "s.first_response_due_at", "s.resolution_due_at", "s.paused"])
    .where("t.id", "=", ticketId)
    .executeTakeFirstOrThrow();

const timelineEvents = async (ticketId: string, type: string) =>
  (
    await sql<{ n: number }>`select count(*)::int as n from timeline_entries
      where ticket_id = ${ticketId} and kind = 'event' and event->>'type' = ${type}`.execute(t.db)
  ).rows[0]!.n;

beforeAll(async () => {
  t = await createTestApp({}, await isolatedDatabase());
  admin = await makeUser(t, { role: "admin" });
  deps = { db: t.db, config: t.deps.config, blobs: t.deps.blobs, boss: null };
  const cal = await call("POST", "/api/v1/sla/calendars", {
    name: "Chicago office",
    timeZone: "America/Chicago",
    hours: [1, 2, 3, 4, 5].map((day) => ({ day, start: "08:00", end: "17:00" })),
    holidays: [{ date: "2026-03-16", name: "Staff day" }],
  });
  expect(cal.status).toBe(201);
  chicagoId = cal.body.id;
  const targets = (p2: [number, number], p1: [number, number]) => ({
    "1": { firstResponse: p1[0], resolution: p1[1] },
    "2": { firstResponse: p2[0], resolution: p2[1] },
    "3": { firstResponse: 240, resolution: 2400 },
    "4": { firstResponse: null, resolution: null },
  });
  gold = (
    await call("POST", "/api/v1/sla/policies", {
      name: "Gold",
      calendarId: chicagoId,
      targets: targets([60, 480], [15, 240]),
    })
  ).body.id;
  silver = (
    await call("POST", "/api/v1/sla/policies", {
      name: "Silver",
      calendarId: chicagoId,
      targets: targets([120, 960], [30, 480]),
    })
  ).body.id;
  const always = await call("POST", "/api/v1/sla/calendars", {
    name: "Round the clock",
    timeZone: "UTC",
    alwaysOpen: true,
  });
  fast = (
    await call("POST", "/api/v1/sla/policies", {
      name: "Fast",
      calendarId: always.body.id,
      targets: targets([1, 3], [1, 3]),
    })
  ).body.id;
});
afterAll(() => t?.close());

describe("SLA calendars and policies", () => {
  it("refuses calendars that make no sense, naming the field", async () => {
    const zone = await call("POST", "/api/v1/sla/calendars", {
      name: "Mars",
      timeZone: "Mars/Olympus",
      hours: [],
    });
    expect(zone.status).toBe(400);
    expect(zone.body.error.details.issues[0].path).toBe("body.timeZone");
    const overlap = await call("POST", "/api/v1/sla/calendars", {
      name: "Overlap",
      timeZone: "UTC",
      hours: [
        { day: 1, start: "08:00", end: "12:00" },
        { day: 1, start: "11:00", end: "17:00" },
      ],
    });
    expect(overlap.status).toBe(400);
    expect(overlap.body.error.details.issues[0].path).toBe("body.hours.1");
    const none = await call("POST", "/api/v1/sla/calendars", { name: "Never", timeZone: "UTC", hours: [] });
    expect(none.body.error.details.issues[0].path).toBe("body.hours");
    const tech = await makeUser(t, { role: "technician" });
    expect(
      (await call("POST", "/api/v1/sla/calendars", { name: "X", timeZone: "UTC", alwaysOpen: true }, tech))
        .status,
    ).toBe(403);
  });
});

describe("the stored clock", () => {
  it("a P2 opened Friday 16:30 in Chicago is due Monday at the right minute, and the queue sorts on it", async () => {
    const c = await clientOn(gold);
    const id = await ticketAt(c, "2026-03-06T22:30:00Z");
    await recomputeTicketSla(deps, id, at("2026-03-07T12:00:00Z"));
    expect(await stored(id)).toMatchObject({
      first_response_due_at: at("2026-03-09T13:30:00Z"), // Monday 08:30 CDT, after the DST change
      resolution_due_at: at("2026-03-09T20:30:00Z"),
      sla_due_at: at("2026-03-09T13:30:00Z"),
      sla_state: "running",
    });
    const later = await ticketAt(c, "2026-03-09T14:00:00Z");
    await recomputeTicketSla(deps, later, at("2026-03-09T14:10:00Z"));
    const list = await call("GET", `/api/v1/tickets?clientId=${c.clientId}&sort=sla_due`);
    expect(list.body.items.map((x: { id: string }) => x.id)).toEqual([id, later]);
    expect(list.body.items[0].sla).toEqual({ state: "running", dueAt: "2026-03-09T13:30:00.000Z" });
    // The end of the day's "due before the morning": only what falls due before the instant given.
    const overnight = await call(
      "GET",
      `/api/v1/tickets?clientId=${c.clientId}&sort=sla_due&slaDueBefore=2026-03-09T14:30:00Z`,
    );
    expect(overnight.body.items.map((x: { id: string }) => x.id)).toEqual([id]);
  });

  it("waiting on the client two days does not breach; the customer's mail restarts the clock", async () => {
    const c = await clientOn(gold);
    const id = await ticketAt(c, "2026-03-09T13:00:00Z"); // Monday 08:00 CDT
    const tk = await call("GET", `/api/v1/tickets/${id}`);
    await call("PATCH", `/api/v1/tickets/${id}`, { version: tk.body.version, statusId: WAITING_ON_CLIENT });
    await backdateLast(id, "2026-03-09T13:40:00Z");
    await recomputeTicketSla(deps, id, at("2026-03-11T14:00:00Z"));
    expect(await stored(id)).toMatchObject({ sla_state: "paused", sla_due_at: null, paused: true });
    expect(await timelineEvents(id, "sla_breached")).toBe(0);

    // The customer writes back by mail (Wednesday 10:00 CDT): the status still says waiting, the clock runs.
    await t.db
      .insertInto("timeline_entries")
      .values({
        ticket_id: id,
        kind: "email",
        visibility: "public",
        author_contact_id: c.contactId,
        body: "Done",
      })
      .execute();
    await backdateLast(id, "2026-03-11T15:00:00Z");
    await recomputeTicketSla(deps, id, at("2026-03-11T15:05:00Z"));
    expect(await stored(id)).toMatchObject({
      sla_state: "running",
      first_response_due_at: at("2026-03-11T15:20:00Z"),
    });
    const view = await call("GET", `/api/v1/tickets/${id}/sla`);
    expect(view.body.segments.map((s: { state: string }) => s.state)).toEqual([
      "running",
      "paused",
      "running",
    ]);
    expect(view.body.segments[2].reason).toBe("the customer replied");
  });

  it("a priority change re-targets from the start; a policy change keeps the pauses", async () => {
    const c = await clientOn(gold);
    const id = await ticketAt(c, "2026-03-10T13:00:00Z"); // Tuesday 08:00 CDT
    let v = (await call("GET", `/api/v1/tickets/${id}`)).body.version;
    await call("PATCH", `/api/v1/tickets/${id}`, { version: v, statusId: WAITING_ON_CLIENT });
    await backdateLast(id, "2026-03-10T14:00:00Z"); // 60 business minutes used
    v = (await call("GET", `/api/v1/tickets/${id}`)).body.version;
    await call("PATCH", `/api/v1/tickets/${id}`, { version: v, statusId: OPEN });
    await backdateLast(id, "2026-03-12T13:00:00Z"); // Thursday 08:00: two days paused
    await recomputeTicketSla(deps, id, at("2026-03-12T13:30:00Z"));
    expect((await stored(id)).resolution_due_at).toEqual(at("2026-03-12T20:00:00Z")); // 420 left: 15:00

    v = (await call("GET", `/api/v1/tickets/${id}`)).body.version;
    await call("PATCH", `/api/v1/tickets/${id}`, { version: v, priority: 1 });
    await recomputeTicketSla(deps, id, at("2026-03-12T13:30:00Z"));
    expect((await stored(id)).resolution_due_at).toEqual(at("2026-03-12T16:00:00Z")); // P1: 180 left

    await call("PUT", `/api/v1/clients/${c.clientId}/sla-policy`, { policyId: silver });
    await recomputeTicketSla(deps, id, at("2026-03-12T13:30:00Z"));
    // Silver P1: 480 minutes; the 60 used before the pause still count, the paused days still do not.
    expect((await stored(id)).resolution_due_at).toEqual(at("2026-03-12T20:00:00Z"));
  });

  it("a holiday on the calendar is skipped", async () => {
    const c = await clientOn(gold);
    const id = await ticketAt(c, "2026-03-13T21:30:00Z"); // Friday 16:30; Monday 16 March is a holiday
    await recomputeTicketSla(deps, id, at("2026-03-13T21:40:00Z"));
    expect((await stored(id)).first_response_due_at).toEqual(at("2026-03-17T13:30:00Z"));
  });

  it("the first public reply meets the first-response target", async () => {
    const c = await clientOn(gold);
    const id = await ticketAt(c, "2026-03-10T13:00:00Z");
    await call("POST", `/api/v1/tickets/${id}/timeline`, { kind: "reply", body: "On it" });
    await backdateLast(id, "2026-03-10T13:20:00Z");
    await recomputeTicketSla(deps, id, at("2026-03-10T13:30:00Z"));
    const view = await call("GET", `/api/v1/tickets/${id}/sla`);
    expect(view.body.firstResponse).toMatchObject({ status: "met", metAt: "2026-03-10T13:20:00.000Z" });
    expect(await stored(id)).toMatchObject({ sla_due_at: at("2026-03-10T21:00:00Z"), sla_state: "running" });
  });
});

describe("recompute all", () => {
  it("recomputes every open ticket of a client in parallel chunks, even on a pool smaller than the chunks", async () => {
    const c = await clientOn(gold);
    await sql`insert into tickets (subject, client_id, type, source, priority, status_id, status_category,
        created_at, updated_at, last_activity_at, status_changed_at, search_vector)
      select 'Bulk ' || i, ${c.clientId}, 'incident', 'email', 2, ${OPEN}, 'open',
        ${at("2026-03-10T13:00:00Z")}, now(), now(), now(), ''
      from generate_series(1, 80) i`.execute(t.db);
    // Two connections for four chunks in flight: every read of a chunk must use its own transaction.
    const small = await connectAppDatabase(t.url, { max: 2 });
    try {
      const n = await recomputeOpenTickets({ ...deps, db: small.db }, c.clientId);
      expect(n).toBe(80);
    } finally {
      await small.close();
    }
    const rows = await sql<{
      n: number;
      due: Date;
    }>`select count(*)::int as n, min(s.first_response_due_at) as due
      from ticket_slas s join tickets tk on tk.id = s.ticket_id
      where tk.client_id = ${c.clientId} and s.policy_id = ${gold}`.execute(t.db);
    expect(rows.rows[0]).toEqual({ n: 80, due: at("2026-03-10T14:00:00Z") });
  });
});

describe("warnings and breaches", () => {
  it("each is announced once, however many runs race for it", async () => {
    const c = await clientOn(fast);
    const id = await ticketAt(c, "2026-03-10T13:00:00Z");
    await recomputeTicketSla(deps, id, at("2026-03-10T13:00:50Z")); // past 75% of 1 minute
    await recomputeTicketSla(deps, id, at("2026-03-10T13:00:55Z"));
    expect(await timelineEvents(id, "sla_warning")).toBe(1);
    await Promise.all([1, 2, 3, 4].map(() => recomputeTicketSla(deps, id, at("2026-03-10T13:01:30Z"))));
    expect(await timelineEvents(id, "sla_breached")).toBe(1);
    const events = await sql<{ n: number }>`select count(*)::int as n from domain_events
      where ticket_id = ${id} and type = 'sla.breached'`.execute(t.db);
    expect(events.rows[0]!.n).toBe(1);
    expect(await stored(id)).toMatchObject({ sla_state: "breached", sla_due_at: at("2026-03-10T13:01:00Z") });
  });

  it("a breach found long after its time is recorded, but mails and pages nobody", async () => {
    // A policy given to a client with old open tickets: their breaches are history, not emergencies.
    const c = await clientOn(fast);
    const id = await ticketAt(c, "2026-03-10T13:00:00Z");
    await recomputeTicketSla(deps, id, at("2026-03-12T13:00:00Z"));
    expect(await timelineEvents(id, "sla_breached")).toBe(2); // first response and resolution
    expect(await timelineEvents(id, "sla_warning")).toBe(0);
    const events = await t.db
      .selectFrom("domain_events")
      .select(["type", "payload"])
      .where("ticket_id", "=", id)
      .where("type", "like", "sla.%")
      .execute();
    const breaches = events.filter((e) => e.type === "sla.breached");
    expect(breaches).toHaveLength(2);
    for (const b of breaches) expect(b.payload).toMatchObject({ quiet: true });
    expect(events.some((e) => e.type === "sla.warning")).toBe(false);
  });

  it("a durable timer fires at the due time in one of two processes, once, even when scheduled twice", async () => {
    const schema = `pgboss_sla_${randomBytes(4).toString("hex")}`;
    const bosses: Boss[] = [];
    const stops: Array<() => Promise<void>> = [];
    try {
      // The process that computes the clock schedules the timer and stops; two others run the jobs.
      const first = await startBoss(t.url, { schema, supervise: false, schedule: false });
      bosses.push(first);
      await (await startSlaWorkers({ ...deps, boss: first })).stop();
      const c = await clientOn(fast);
      const id = await ticketAt(c, new Date(Date.now() - 57_000).toISOString()); // due in about 3 s
      await recomputeTicketSla({ ...deps, boss: first }, id);
      expect(await timelineEvents(id, "sla_breached")).toBe(0);
      await first.send(TIMER_QUEUE, { ticketId: id }, { startAfter: 4 }); // a duplicate, as a retry would make
      for (let i = 0; i < 2; i++) {
        const boss = await startBoss(t.url, { schema, supervise: false, schedule: false });
        bosses.push(boss);
        stops.push((await startSlaWorkers({ ...deps, boss }, { pollingIntervalSeconds: 0.5 })).stop);
      }
      await waitFor(async () => (await timelineEvents(id, "sla_breached")) === 1, 20_000);
      const fired = await t.db
        .selectFrom("ticket_slas")
        .select("first_response_breach_notified_at")
        .where("ticket_id", "=", id)
        .executeTakeFirstOrThrow();
      const due = (await stored(id)).sla_due_at!;
      expect(fired.first_response_breach_notified_at!.getTime()).toBeGreaterThanOrEqual(due.getTime());
      // Every timer job of this ticket that is due has run (the duplicate too; the resolution's timers
      // wait for their own minutes), and nothing was announced twice.
      await waitFor(async () => {
        const { rows } = await sql<{ n: number }>`select count(*)::int as n from ${sql.raw(schema)}.job
          where name = ${TIMER_QUEUE} and data->>'ticketId' = ${id} and start_after <= now() and state <> 'completed'`.execute(
          t.db,
        );
        return rows[0]!.n === 0;
      }, 20_000);
      expect(await timelineEvents(id, "sla_breached")).toBe(1);
    } finally {
      for (const stop of stops) await stop();
      for (const b of bosses) await b.stop({ graceful: false, timeout: 2000 });
    }
  });
});

describe("a burst of timers", () => {
  it("fires each ticket once in set-based chunks; a ticket that fails fails only its own timers", async () => {
    const c = await clientOn(fast);
    const ago = new Date(Date.now() - 90_000).toISOString(); // first response due 30 s ago: a breach now
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push(await ticketAt(c, ago));
    const sorted = [...ids].sort();
    const bad = sorted[3]!; // in the first chunk of 25, with 24 neighbours
    // A fault in that one ticket's write, raised by PostgreSQL (installed as the database owner).
    const owner = new pg.Client({ connectionString: t.url });
    await owner.connect();
    let failed: Map<string, string>;
    try {
      await owner.query(`create function sla_test_refuse() returns trigger language plpgsql as $$
        begin
          if new.ticket_id = '${bad}'::uuid then raise exception 'refused for the test'; end if;
          return new;
        end $$`);
      await owner.query(`create trigger sla_test_refuse before insert or update on ticket_slas
        for each row execute function sla_test_refuse()`);
      // Every ticket's warning and due timers in one fetched batch: each ticket twice.
      failed = await fireTimers(deps, [...ids, ...[...ids].reverse()]);
    } finally {
      await owner.query("drop trigger if exists sla_test_refuse on ticket_slas");
      await owner.query("drop function if exists sla_test_refuse()");
      await owner.end();
    }
    expect([...failed.keys()]).toEqual([bad]);
    expect(failed.get(bad)).toContain("refused for the test");
    for (const id of ids) expect(await timelineEvents(id, "sla_breached")).toBe(id === bad ? 0 : 1);
    const events = await t.db
      .selectFrom("domain_events")
      .select(["ticket_id", "payload"])
      .where("ticket_id", "in", ids)
      .where("type", "=", "sla.breached")
      .execute();
    expect(events).toHaveLength(29);
    for (const e of events) expect(e.payload).toMatchObject({ target: "first_response", quiet: false });
    // Its retry, once the fault is gone, announces it; the others are not announced again.
    expect((await fireTimers(deps, ids)).size).toBe(0);
    for (const id of ids) expect(await timelineEvents(id, "sla_breached")).toBe(1);
  });
  it("mails each breach to its assignee, or to the team's active members when nobody is assigned", async () => {
    const schema = `pgboss_sla_${randomBytes(4).toString("hex")}`;
    const boss = await startBoss(t.url, { schema, supervise: false, schedule: false });
    try {
      await createSlaQueues(boss);
      await boss.createQueue(OUTBOUND_QUEUE); // mails are queued here, delivered by nobody in this test
      const team = await makeTeam(t);
      const [lead, a, b, gone] = await Promise.all([
        makeUser(t),
        makeUser(t, { teamIds: [team.id] }),
        makeUser(t, { teamIds: [team.id] }),
        makeUser(t, { teamIds: [team.id] }),
      ]);
      await t.db.updateTable("users").set({ active: false }).where("id", "=", gone!.id).execute();
      const c = await clientOn(fast);
      const ago = new Date(Date.now() - 90_000).toISOString();
      const [assigned, toTeam, toNobody] = [
        await ticketAt(c, ago),
        await ticketAt(c, ago),
        await ticketAt(c, ago),
      ];
      await t.db.updateTable("tickets").set({ assignee_id: lead!.id }).where("id", "=", assigned!).execute();
      await t.db.updateTable("tickets").set({ team_id: team.id }).where("id", "=", toTeam!).execute();
      await t.db.updateTable("tickets").set({ assignee_id: gone!.id }).where("id", "=", toNobody!).execute();
      expect([...(await fireTimers({ ...deps, boss }, [assigned!, toTeam!, toNobody!])).values()]).toEqual(
        [],
      );
      const mails = await t.db
        .selectFrom("email_messages")
        .select(["ticket_id", "to_addresses", "subject"])
        .where("ticket_id", "in", [assigned!, toTeam!, toNobody!])
        .where("template", "=", "sla_breach")
        .execute();
      const to = (id: string) =>
        mails
          .filter((m) => m.ticket_id === id)
          .flatMap((m) => m.to_addresses)
          .sort();
      expect(to(assigned!)).toEqual([lead!.email]);
      expect(to(toTeam!)).toEqual([a!.email, b!.email].sort());
      expect(to(toNobody!)).toEqual([]);
      expect(mails.every((m) => m.subject?.startsWith("SLA breached: first response on #"))).toBe(true);
    } finally {
      await boss.stop({ graceful: false, timeout: 2000 });
    }
  });
});

describe("the SLA report", () => {
  it("counts met and breached per client and priority for the month; a month that does not exist is a 400", async () => {
    const c = await clientOn(gold);
    const met = await ticketAt(c, "2026-03-10T13:00:00Z");
    await call("POST", `/api/v1/tickets/${met}/timeline`, { kind: "reply", body: "On it" });
    await backdateLast(met, "2026-03-10T13:20:00Z");
    await recomputeTicketSla(deps, met, at("2026-03-10T13:30:00Z"));
    const late = await ticketAt(c, "2026-03-10T13:00:00Z");
    await recomputeTicketSla(deps, late, at("2026-03-10T15:00:00Z"));
    const report = await call("GET", "/api/v1/reports/sla?month=2026-03");
    expect(report.status).toBe(200);
    const row = report.body.rows.find((r: { client: { id: string } }) => r.client.id === c.clientId);
    expect(row).toMatchObject({
      priority: 2,
      tickets: 2,
      firstResponseMet: 1,
      firstResponseBreached: 1,
      medianFirstResponseMinutes: 20,
    });
    const bad = await call("GET", "/api/v1/reports/sla?month=2026-13");
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues[0].path).toBe("query.month");
  });
});

describe("row-level security", () => {
  it("a client-limited scope sees only its clients' clocks and contract levels", async () => {
    const a = await clientOn(gold);
    const b = await clientOn(silver);
    const ta = await ticketAt(a, "2026-03-10T13:00:00Z");
    const tb = await ticketAt(b, "2026-03-10T13:00:00Z");
    await recomputeTicketSla(deps, ta, at("2026-03-10T13:10:00Z"));
    await recomputeTicketSla(deps, tb, at("2026-03-10T13:10:00Z"));
    const seen = await runInScope({ kind: "clients", clientIds: [a.clientId] }, async () => ({
      slas: await t.db.selectFrom("ticket_slas").select("client_id").execute(),
      levels: await t.db.selectFrom("client_sla_policies").select("client_id").execute(),
    }));
    expect(new Set(seen.slas.map((r) => r.client_id))).toEqual(new Set([a.clientId]));
    expect(seen.levels.map((r) => r.client_id)).toEqual([a.clientId]);
    const limited = await makeUser(t, { role: "admin", clientIds: [a.clientId] });
    expect((await call("GET", `/api/v1/tickets/${tb}/sla`, undefined, limited)).status).toBe(404);
    expect((await call("GET", `/api/v1/tickets/${ta}/sla`, undefined, limited)).status).toBe(200);
  });
});
