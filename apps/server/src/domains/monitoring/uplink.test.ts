import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestApp,
  makeClient,
  makeUser,
  rand,
  type TestApp,
  type TestUser,
} from "../../../test/helpers.ts";
import { asSystem } from "../../db/scope.ts";
import { ingestResults } from "./results.ts";
import { runSweep, type SweepSettings } from "./sweep.ts";

// A check watching a site's connection: when the library's line goes down, the probe's failing check is
// the site's outage at once (one incident, one P1), and the library's machines dropping join it.

const settings: SweepSettings = {
  offlineGraceSeconds: 60,
  recoverSeconds: 0,
  correlationSeconds: 0,
  // High on purpose: two machines down would not make a site outage by themselves.
  siteMinOffline: 10,
  siteOfflinePercent: 90,
  reopenSeconds: 900,
};
const ingest = { reopenSeconds: 900, groupSeconds: 120 };

let t: TestApp;
let admin: TestUser;
beforeAll(async () => {
  t = await createTestApp();
  admin = await makeUser(t, { role: "admin" });
});
afterAll(() => t.close());

async function device(clientId: string, siteId: string, hostname: string) {
  const d = await t.db
    .insertInto("devices")
    .values({
      client_id: clientId,
      site_id: siteId,
      hostname: rand(`${hostname}-`),
      platform: "linux",
      arch: "x64",
      os_name: "Linux",
      os_version: "12",
      agent_version: "test",
      public_key: "unused",
      online: true,
      last_seen_at: new Date(),
    })
    .returning(["id", "hostname"])
    .executeTakeFirstOrThrow();
  return d;
}
const site = (clientId: string, name: string) =>
  t.db
    .insertInto("sites")
    .values({ client_id: clientId, name, timezone: "America/New_York" })
    .returning("id")
    .executeTakeFirstOrThrow();

async function sweep() {
  for (let i = 0; i < 20; i++) {
    const out = await runSweep(t.db, settings);
    if (out) return out;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("sweep lock never free");
}

const post = (url: string, payload: object) =>
  t.app.inject({ method: "POST", url, headers: admin.auth, payload });
const ticketsOf = (clientId: string) =>
  t.db.selectFrom("tickets").selectAll().where("client_id", "=", clientId).orderBy("number").execute();
const notesOf = async (ticketId: string) =>
  (
    await t.db
      .selectFrom("timeline_entries")
      .select("body")
      .where("ticket_id", "=", ticketId)
      .where("kind", "=", "note")
      .orderBy("seq")
      .execute()
  ).map((r) => r.body);

let seq = 0;
const results = (checkId: string, state: "ok" | "critical", streak: number) => ({
  type: "check.results" as const,
  summary: false,
  results: [
    {
      checkId,
      state,
      output:
        state === "ok"
          ? `reply from 203.0.113.7 in 12 ms (${++seq})`
          : `100% packet loss to 203.0.113.7 (${++seq})`,
      streak,
      at: new Date().toISOString(),
    },
  ],
});

describe("a check watching a site's connection", () => {
  it("opens the site's outage with one P1 at once, takes the site's dropped machines, and resolves with them", async () => {
    // The MSP's own office runs the probe; the library is a client of it.
    const msp = await makeClient(t, rand("MSP office "));
    const office = await site(msp.id, "Office");
    const probe = await device(msp.id, office.id, "probe");
    const library = await makeClient(t, rand("Library "));
    const main = await site(library.id, "Main library");
    const pcs = [await device(library.id, main.id, "circ"), await device(library.id, main.id, "kiosk")];
    for (let i = 0; i < 3; i++) await device(library.id, main.id, "pc");

    const created = await post("/api/v1/monitoring/policies", {
      clientId: msp.id,
      deviceId: probe.id,
      name: "Library line",
      checks: [
        {
          name: "Library internet",
          config: { kind: "ping", host: "203.0.113.7" },
          severity: "high",
          failAfter: 2,
          uplinkSiteId: main.id,
        },
      ],
    });
    expect(created.statusCode, created.body).toBe(201);
    const check = created.json().checks[0];
    expect(check.uplink).toMatchObject({ siteId: main.id, siteName: "Main library", clientId: library.id });

    // One failure: pending, nothing opened.
    await asSystem(() => ingestResults(t.db, probe.id, results(check.id, "critical", 1), ingest));
    expect(await ticketsOf(library.id)).toHaveLength(0);
    // The second fires: the library's outage, one P1 on the library (not on the MSP's office).
    await asSystem(() => ingestResults(t.db, probe.id, results(check.id, "critical", 2), ingest));
    let tickets = await ticketsOf(library.id);
    expect(tickets).toHaveLength(1);
    expect(tickets[0]).toMatchObject({ priority: 1, type: "alert", source: "monitoring", site_id: main.id });
    expect(tickets[0]!.subject).toBe("Site offline: Main library (Library internet failing)");
    expect(tickets[0]!.description).toContain("100% packet loss to 203.0.113.7");
    expect(await ticketsOf(msp.id)).toHaveLength(0);
    const incident = await t.db
      .selectFrom("monitoring_incidents")
      .selectAll()
      .where("site_id", "=", main.id)
      .executeTakeFirstOrThrow();
    expect(incident).toMatchObject({ state: "open", ticket_id: tickets[0]!.id, client_id: library.id });

    // Still failing: the same alert, no second ticket.
    await asSystem(() => ingestResults(t.db, probe.id, results(check.id, "critical", 3), ingest));
    // Two of five machines drop: alone under the site threshold, but the site is already down.
    await sql`update devices set online = false, last_seen_at = now() - interval '5 minutes'
      where id = any(${pcs.map((p) => p.id)}::uuid[])`.execute(t.db);
    await sweep();
    await sweep();
    tickets = await ticketsOf(library.id);
    expect(tickets).toHaveLength(1);
    const offline = await t.db
      .selectFrom("monitoring_alerts")
      .selectAll()
      .where("client_id", "=", library.id)
      .execute();
    expect(offline).toHaveLength(2);
    expect(offline.every((a) => a.incident_id === incident.id && a.ticket_id === null)).toBe(true);
    expect((await notesOf(tickets[0]!.id)).some((n) => n.startsWith("Also offline now:"))).toBe(true);
    // The ticket's alerts are the probe's check and both machines.
    const onTicket = await t.app.inject({
      method: "GET",
      url: `/api/v1/tickets/${tickets[0]!.id}/alerts`,
      headers: admin.auth,
    });
    expect(onTicket.statusCode, onTicket.body).toBe(200);
    expect(onTicket.json().items ?? onTicket.json()).toHaveLength(3);

    // The line comes back: the check passes (noted), but the incident waits for the machines.
    await asSystem(() => ingestResults(t.db, probe.id, results(check.id, "ok", 1), ingest));
    await sweep();
    expect(
      (
        await t.db
          .selectFrom("monitoring_incidents")
          .select("state")
          .where("id", "=", incident.id)
          .executeTakeFirst()
      )?.state,
    ).toBe("open");
    expect((await notesOf(tickets[0]!.id)).some((n) => n.includes("is passing again"))).toBe(true);
    await sql`update devices set online = true, last_seen_at = now() where id = any(${pcs.map((p) => p.id)}::uuid[])`.execute(
      t.db,
    );
    await sweep();
    await sweep();
    const after = await t.db
      .selectFrom("monitoring_incidents")
      .select("state")
      .where("id", "=", incident.id)
      .executeTakeFirstOrThrow();
    expect(after.state).toBe("resolved");
    const ticket = await t.db
      .selectFrom("tickets")
      .select("is_open")
      .where("id", "=", tickets[0]!.id)
      .executeTakeFirstOrThrow();
    expect(ticket.is_open).toBe(false);

    // The line drops again soon after: a new outage of the site with the same alert, not a silent flap.
    await asSystem(() => ingestResults(t.db, probe.id, results(check.id, "critical", 1), ingest));
    const incidents = await t.db
      .selectFrom("monitoring_incidents")
      .selectAll()
      .where("site_id", "=", main.id)
      .orderBy("opened_at")
      .execute();
    expect(incidents).toHaveLength(2);
    expect(incidents[1]).toMatchObject({ state: "open" });
    expect(incidents[1]!.ticket_id).not.toBeNull();
    const probeAlerts = await t.db
      .selectFrom("monitoring_alerts")
      .selectAll()
      .where("device_id", "=", probe.id)
      .execute();
    expect(probeAlerts).toHaveLength(1);
    expect(probeAlerts[0]).toMatchObject({ state: "firing", incident_id: incidents[1]!.id });
  });

  it("refuses a connection check that is not a network probe, or of a site the caller cannot see", async () => {
    const client = await makeClient(t, rand("Clinic "));
    const s = await site(client.id, "Clinic");
    const disk = await post("/api/v1/monitoring/policies", {
      clientId: client.id,
      name: "Bad",
      checks: [
        { name: "Disk", config: { kind: "disk", volume: "/", minFreePercent: 10 }, uplinkSiteId: s.id },
      ],
    });
    expect(disk.statusCode).toBe(400);
    expect(disk.body).toContain("checks.0.uplinkSiteId");
    expect(disk.body).toContain("only a ping, TCP or HTTP check");

    const other = await makeClient(t, rand("Other "));
    const theirs = await site(other.id, "Theirs");
    const limited = await makeUser(t, { role: "admin", clientIds: [client.id] });
    const hidden = await t.app.inject({
      method: "POST",
      url: "/api/v1/monitoring/policies",
      headers: limited.auth,
      payload: {
        clientId: client.id,
        name: "Watch theirs",
        checks: [{ name: "Ping", config: { kind: "ping", host: "198.51.100.1" }, uplinkSiteId: theirs.id }],
      },
    });
    expect(hidden.statusCode).toBe(400);
    expect(hidden.body).toContain("checks.0.uplinkSiteId");
    expect(hidden.body).toContain("no such site");
    // Nothing half-written.
    expect(
      await t.db.selectFrom("monitoring_policies").select("id").where("name", "=", "Watch theirs").execute(),
    ).toHaveLength(0);
  });
});
