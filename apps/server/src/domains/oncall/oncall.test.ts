import { sql } from "kysely";
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestApp,
  isolatedDatabase,
  makeClient,
  makeContact,
  makeUser,
  type TestApp,
  type TestUser,
} from "../../../test/helpers.ts";
import { startSmsStub } from "../../../test/sms-stub.ts";
import { runInScope } from "../../db/scope.ts";
import { smsProviderFromConfig } from "../../lib/sms.ts";
import { startEmailStack, startReceiver, waitFor } from "../email/test-support.ts";
import { createSlaQueues, onTicketEvent, startSlaWorkers } from "../sla/jobs.ts";
import { recomputeTicketSla, type SlaDeps } from "../sla/recompute.ts";
import { deliverPage, ESCALATE_QUEUE, escalatePage, pageIfOutOfHours } from "./pages.ts";

// The on-call night: a P1 outside business hours pages the on-call technician by SMS (a loopback
// Twilio stand-in) and mail (loopback SMTP); unacknowledged, it escalates to the backup; the signed link
// in the page acknowledges it and nothing more is sent; a provider failure is visible and retried.

let t: TestApp;
let sms: Awaited<ReturnType<typeof startSmsStub>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let stack: Awaited<ReturnType<typeof startEmailStack>>;
let deps: SlaDeps;
let admin: TestUser;
let ana: TestUser;
let ben: TestUser;
let rotaId: string;
let clientId: string;
let contactId: string;

const call = async (method: string, url: string, payload?: unknown, user: TestUser | null = admin) => {
  const res = await t.app.inject({
    method: method as "GET",
    url,
    headers: user?.auth ?? {},
    payload: payload as object,
  });
  return { status: res.statusCode, body: res.statusCode === 204 ? null : res.json() };
};

async function newTicket(subject: string, priority = 1) {
  const res = await call("POST", "/api/v1/tickets", { subject, clientId, contactId, priority });
  return res.body as { id: string; number: number };
}

async function page(ticketId: string, now: Date, reason = "p1") {
  return t.db
    .transaction()
    .execute((trx) =>
      pageIfOutOfHours(deps, trx, { clientId, ticketId, reason, summary: "P1 server down", now }),
    );
}

beforeAll(async () => {
  sms = await startSmsStub();
  receiver = await startReceiver();
  const url = await isolatedDatabase();
  t = await createTestApp(
    {
      ...sms.env,
      SWITCHBOARD_SMTP_RELAY_URL: `smtp://127.0.0.1:${receiver.port}`,
      SWITCHBOARD_EMAIL_FROM: "desk@msp.example",
      SWITCHBOARD_PUBLIC_URL: "https://desk.msp.example",
    },
    url,
  );
  stack = await startEmailStack({ db: t.db, blobs: t.deps.blobs, config: t.deps.config }, url, {
    listener: false,
  });
  t.deps.boss = stack.deps.boss;
  await createSlaQueues(stack.deps.boss);
  deps = {
    db: t.db,
    config: t.deps.config,
    blobs: t.deps.blobs,
    boss: stack.deps.boss,
    sms: smsProviderFromConfig(t.deps.config),
  };
  admin = await makeUser(t, { role: "admin" });
  ana = await makeUser(t, { name: "Ana Night" });
  ben = await makeUser(t, { name: "Ben Backup" });
  await t.db.updateTable("users").set({ phone: "+15175550101" }).where("id", "=", ana.id).execute();
  await t.db.updateTable("users").set({ phone: "+15175550102" }).where("id", "=", ben.id).execute();
  const client = await makeClient(t);
  clientId = client.id;
  contactId = (await makeContact(t, clientId)).id;
  const cal = await call("POST", "/api/v1/sla/calendars", {
    name: "Office hours",
    timeZone: "America/Chicago",
    hours: [1, 2, 3, 4, 5].map((day) => ({ day, start: "08:00", end: "17:00" })),
  });
  const rota = await call("POST", "/api/v1/oncall/rotations", {
    name: "Nights",
    timeZone: "America/Chicago",
    period: "weekly",
    handover: "17:00",
    anchorDate: "2026-11-02",
    escalateAfterMinutes: 10,
    maxRounds: 1,
    pages: true,
    calendarId: cal.body.id,
    memberIds: [ana.id, ben.id],
  });
  expect(rota.status).toBe(201);
  rotaId = rota.body.id;
});

afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
  await sms?.close();
  await t?.close();
});

describe("on-call", () => {
  it("shows who is on call and the calendar, with gaps as nobody", async () => {
    const list = await call("GET", "/api/v1/oncall/rotations");
    expect(list.body[0].members.map((m: { name: string }) => m.name)).toEqual(["Ana Night", "Ben Backup"]);
    const shifts = await call(
      "GET",
      `/api/v1/oncall/rotations/${rotaId}/shifts?from=2026-11-01T00:00:00Z&to=2026-11-17T00:00:00Z`,
    );
    // Nobody before the first hand-over (Monday 2 Nov 17:00 CST = 23:00Z), then Ana, then Ben.
    expect(
      shifts.body.shifts.map((s: { user: { name: string } | null; start: string }) => [
        s.user?.name ?? null,
        s.start,
      ]),
    ).toEqual([
      [null, "2026-11-01T00:00:00.000Z"],
      ["Ana Night", "2026-11-02T23:00:00.000Z"],
      ["Ben Backup", "2026-11-09T23:00:00.000Z"],
      ["Ana Night", "2026-11-16T23:00:00.000Z"],
    ]);
  });

  it("a technician takes a shift for themselves, not for someone else; the calendar shows the override", async () => {
    const body = { startsAt: "2026-11-20T00:00:00Z", endsAt: "2026-11-21T00:00:00Z" };
    const forBen = await call(
      "POST",
      `/api/v1/oncall/rotations/${rotaId}/overrides`,
      { ...body, userId: ben.id },
      ana,
    );
    expect(forBen.status).toBe(403);
    // Ana holds that week; Ben takes the Friday himself.
    const mine = await call(
      "POST",
      `/api/v1/oncall/rotations/${rotaId}/overrides`,
      { ...body, userId: ben.id },
      ben,
    );
    expect(mine.status).toBe(201);
    const shifts = await call(
      "GET",
      `/api/v1/oncall/rotations/${rotaId}/shifts?from=2026-11-19T00:00:00Z&to=2026-11-22T00:00:00Z`,
    );
    expect(
      shifts.body.shifts.map((s: { user: { name: string }; start: string; override: boolean }) => [
        s.user.name,
        s.start,
        s.override,
      ]),
    ).toEqual([
      ["Ana Night", "2026-11-19T00:00:00.000Z", false],
      ["Ben Backup", "2026-11-20T00:00:00.000Z", true],
      ["Ana Night", "2026-11-21T00:00:00.000Z", false],
    ]);
    const bad = await call(
      "POST",
      `/api/v1/oncall/rotations/${rotaId}/overrides`,
      { ...body, endsAt: body.startsAt, userId: ana.id },
      ana,
    );
    expect(bad.status).toBe(400);
    const remove = (who: TestUser) =>
      call("DELETE", `/api/v1/oncall/rotations/${rotaId}/overrides/${mine.body.id}`, undefined, who);
    expect((await remove(ana)).status).toBe(403); // Ben's shift is Ben's to give back
    expect((await remove(ben)).status).toBe(204);
  });

  it("a P1 at 22:00 pages the on-call technician; unacknowledged it pages the backup; the link stops it", async () => {
    const ticket = await newTicket("Server room on fire");
    // Thursday 3 Dec 10:00 CST: business hours, nobody is paged.
    expect(await page(ticket.id, new Date("2026-12-03T16:00:00Z"))).toBeNull();
    // 22:00 CST (04:00Z the next day): Ana's week (anchor 2 Nov + 4 weeks).
    const pageId = (await page(ticket.id, new Date("2026-12-04T04:00:00Z")))!;
    expect(pageId).toBeTruthy();
    const sent = sms.messages.length;
    await deliverPage(deps, pageId, 0);
    expect(sms.messages.length).toBe(sent + 1);
    expect(sms.messages.at(-1)!.to).toBe("+15175550101");
    expect(sms.messages.at(-1)!.body).toContain("https://desk.msp.example/page-ack#t=");
    const mail = await waitFor(() => Promise.resolve(receiver.mails.find((m) => m.to.includes(ana.email))));
    const parsed = await simpleParser(mail.raw);
    expect(parsed.subject).toContain("PAGE: P1 server down");
    expect(parsed.text).toContain("/page-ack#t=");
    // The escalation is a durable job, due ten minutes later.
    const { rows } = await sql<{ start_after: Date }>`select start_after from ${sql.raw(stack.schema)}.job
      where name = ${ESCALATE_QUEUE} and data->>'pageId' = ${pageId}`.execute(t.db);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.start_after.getTime() - Date.now()).toBeGreaterThan(9 * 60_000);

    // Nobody answered: the escalation (run here as the job would) pages Ben; running it twice changes nothing.
    expect(await escalatePage(deps, pageId, 0)).toBe("paging");
    expect(await escalatePage(deps, pageId, 0)).toBeNull();
    await deliverPage(deps, pageId, 1);
    expect(sms.messages.at(-1)!.to).toBe("+15175550102");

    // Ben acknowledges from the link in his text.
    const token = decodeURIComponent(sms.messages.at(-1)!.body.split("#t=")[1]!);
    expect((await call("POST", "/api/v1/oncall/ack", { token: `${token}x` }, null)).status).toBe(404);
    const ack = await call("POST", "/api/v1/oncall/ack", { token }, null);
    expect(ack.body).toMatchObject({ status: "acknowledged" });
    const count = sms.messages.length;
    expect(await escalatePage(deps, pageId, 1)).toBeNull();
    await deliverPage(deps, pageId, 1);
    expect(sms.messages.length).toBe(count);
    const pages = await call("GET", "/api/v1/oncall/pages?status=all");
    expect(pages.body.find((p: { id: string }) => p.id === pageId)).toMatchObject({
      status: "acknowledged",
      acknowledgedBy: { id: ben.id, name: "Ben Backup" },
    });
    // The same ticket is not paged twice for the same reason.
    expect(await page(ticket.id, new Date("2026-12-04T04:30:00Z"))).toBeNull();
  });

  it("a failed text shows the provider's reason and the retry sends it", async () => {
    const ticket = await newTicket("Firewall down");
    const pageId = (await page(ticket.id, new Date("2026-12-04T04:00:00Z")))!;
    sms.failNext(503, "Service unavailable");
    const { retry } = await deliverPage(deps, pageId, 0);
    expect(retry?.message).toContain("Service unavailable");
    let shown = (await call("GET", "/api/v1/oncall/pages")).body.find((p: { id: string }) => p.id === pageId);
    expect(shown.deliveries.find((d: { channel: string }) => d.channel === "sms")).toMatchObject({
      status: "failed",
      error: "the SMS provider refused the message: Service unavailable",
    });
    const before = sms.messages.length;
    const again = await call("POST", `/api/v1/oncall/pages/${pageId}/retry`, undefined, ana);
    expect(again.status).toBe(200);
    expect(sms.messages.length).toBe(before + 1);
    shown = again.body;
    expect(
      shown.deliveries
        .filter((d: { channel: string; status: string }) => d.channel === "sms")
        .map((d: { status: string }) => d.status),
    ).toEqual(["failed", "sent"]);
    // The mail went once, not again with the retry.
    expect(shown.deliveries.filter((d: { channel: string }) => d.channel === "email")).toHaveLength(1);
    expect((await call("POST", `/api/v1/oncall/pages/${pageId}/ack`, undefined, ana)).body.status).toBe(
      "acknowledged",
    );
  });

  it("a P1 ticket pages through the job workers, end to end", async () => {
    // A rota without a calendar pages at any hour: the test does not depend on the time it runs.
    await call("PUT", `/api/v1/oncall/rotations/${rotaId}`, {
      name: "Nights",
      timeZone: "America/Chicago",
      period: "daily",
      handover: "17:00",
      anchorDate: "2026-11-02",
      escalateAfterMinutes: 10,
      maxRounds: 1,
      pages: true,
      calendarId: null,
      memberIds: [ben.id, ana.id],
    });
    const workers = await startSlaWorkers(
      { ...deps, boss: stack.deps.boss },
      { pollingIntervalSeconds: 0.5 },
    );
    try {
      const before = sms.messages.length;
      const ticket = await newTicket("Email down for everyone");
      const created = await t.db
        .selectFrom("domain_events")
        .selectAll()
        .where("ticket_id", "=", ticket.id)
        .where("type", "=", "ticket.created")
        .executeTakeFirstOrThrow();
      await onTicketEvent(deps, {
        id: created.id,
        type: created.type,
        clientId,
        ticketId: ticket.id,
        actorUserId: admin.id,
        payload: created.payload as Record<string, unknown>,
        at: created.created_at.toISOString(),
      });
      await waitFor(async () => sms.messages.length > before, 15_000);
      expect(sms.messages.at(-1)!.body).toContain(`#${ticket.number}`);
      const timeline = await call("GET", `/api/v1/tickets/${ticket.id}/timeline`);
      expect(JSON.stringify(timeline.body)).toContain("page_started");
    } finally {
      await workers.stop();
    }
  });

  it("an SLA breach happening now pages the on-call technician; the same breach found a day late does not", async () => {
    const always = (await call("GET", "/api/v1/sla/calendars")).body.find(
      (c: { name: string }) => c.name === "24/7",
    );
    const policy = await call("POST", "/api/v1/sla/policies", {
      name: "Minute",
      calendarId: always.id,
      targets: {
        "1": { firstResponse: 1, resolution: 600 },
        "2": { firstResponse: 1, resolution: 600 },
        "3": { firstResponse: 1, resolution: 600 },
        "4": { firstResponse: 1, resolution: 600 },
      },
    });
    const other = await makeClient(t);
    const otherContact = await makeContact(t, other.id);
    await call("PUT", `/api/v1/clients/${other.id}/sla-policy`, { policyId: policy.body.id });
    const ticketAt = async (createdAt: string) => {
      const res = await call("POST", "/api/v1/tickets", {
        subject: "Backups failing",
        clientId: other.id,
        contactId: otherContact.id,
        priority: 3,
      });
      await sql`update tickets set created_at = ${createdAt} where id = ${res.body.id}`.execute(t.db);
      return res.body.id as string;
    };
    const fresh = await ticketAt("2026-12-04T04:00:00Z");
    await recomputeTicketSla(deps, fresh, new Date("2026-12-04T04:01:30Z"));
    const stale = await ticketAt("2026-12-03T04:00:00Z");
    await recomputeTicketSla(deps, stale, new Date("2026-12-04T04:01:30Z"));
    const pages = await t.db
      .selectFrom("pages")
      .select(["ticket_id", "reason"])
      .where("client_id", "=", other.id)
      .execute();
    expect(pages).toEqual([{ ticket_id: fresh, reason: "first_response_breach" }]);
  });

  it("a rota with nobody on it makes a page that shows as undeliverable, not a silence", async () => {
    await call("PUT", `/api/v1/oncall/rotations/${rotaId}`, {
      name: "Nights",
      timeZone: "America/Chicago",
      period: "weekly",
      handover: "17:00",
      anchorDate: "2026-11-02",
      pages: true,
      calendarId: null,
      memberIds: [],
    });
    const ticket = await newTicket("Nobody home");
    const pageId = await page(ticket.id, new Date("2026-12-04T04:00:00Z"));
    const shown = (await call("GET", "/api/v1/oncall/pages")).body.find(
      (p: { id: string }) => p.id === pageId,
    );
    expect(shown).toMatchObject({ status: "exhausted", paging: null });
  });

  it("pages and their deliveries are the client's rows: another client's scope sees none of them", async () => {
    const other = await makeClient(t);
    const seen = await runInScope({ kind: "clients", clientIds: [other.id] }, async () => ({
      pages: await t.db.selectFrom("pages").select("id").execute(),
      deliveries: await t.db.selectFrom("page_deliveries").select("id").execute(),
    }));
    expect(seen).toEqual({ pages: [], deliveries: [] });
    const mine = await runInScope({ kind: "clients", clientIds: [clientId] }, () =>
      t.db.selectFrom("page_deliveries").select("id").execute(),
    );
    expect(mine.length).toBeGreaterThan(0);
    const limited = await makeUser(t, { role: "dispatcher", clientIds: [other.id] });
    expect((await call("GET", "/api/v1/oncall/pages?status=all", undefined, limited)).body).toEqual([]);
    const anyPage = await t.db.selectFrom("pages").select("id").executeTakeFirstOrThrow();
    expect((await call("POST", `/api/v1/oncall/pages/${anyPage.id}/ack`, undefined, limited)).status).toBe(
      404,
    );
  });
});
