import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, makeClient, makeTeam, makeUser, rand, type TestApp } from "../../../test/helpers.ts";
import { runInScope, scopeForClients } from "../../db/scope.ts";
import { startBoss } from "../../lib/jobs.ts";
import { createEmailQueues } from "../email/jobs.ts";
import { toLiveEvent } from "../events/queries.ts";
import { mailP1 } from "./notify.ts";
import { runSweep, type SweepSettings } from "./sweep.ts";

// The server's own monitoring against the real database: devices' presence as the gateways write it.
const settings: SweepSettings = {
  offlineGraceSeconds: 60,
  recoverSeconds: 0,
  correlationSeconds: 0,
  siteMinOffline: 2,
  siteOfflinePercent: 50,
  reopenSeconds: 900,
};

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(() => t.close());

async function siteWith(clientId: string, name: string, devices: number) {
  const site = await t.db
    .insertInto("sites")
    .values({ client_id: clientId, name, timezone: "Europe/London" })
    .returning("id")
    .executeTakeFirstOrThrow();
  const ids: string[] = [];
  for (let i = 0; i < devices; i++) {
    const d = await t.db
      .insertInto("devices")
      .values({
        client_id: clientId,
        site_id: site.id,
        hostname: rand(`${name.toLowerCase().replace(/\W/g, "")}-`),
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
    ids.push(d.id);
  }
  return { siteId: site.id, ids };
}

/** As the gateway leaves a device it lost `ago` seconds ago. */
const goOffline = (ids: string[], ago = 300) =>
  sql`update devices set online = false, gateway_id = null, last_seen_at = now() - make_interval(secs => ${ago})
      where id = any(${ids}::uuid[])`.execute(t.db);
const comeBack = (ids: string[]) =>
  sql`update devices set online = true, last_seen_at = now() where id = any(${ids}::uuid[])`.execute(t.db);

const alertsOf = (clientId: string) =>
  t.db
    .selectFrom("monitoring_alerts")
    .selectAll()
    .where("client_id", "=", clientId)
    .orderBy("number")
    .execute();
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

async function sweep(s: Partial<SweepSettings> = {}) {
  // Another worker's sweep may hold the lock for a moment; ours then runs on the next tick.
  for (let i = 0; i < 20; i++) {
    const out = await runSweep(t.db, { ...settings, ...s });
    if (out) return out;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("sweep lock never free");
}

describe("device offline monitoring", () => {
  it("a library whose machines go dark together is one incident and one P1 ticket, resolved when they return", async () => {
    const client = await makeClient(t, rand("Library "));
    const lib = await siteWith(client.id, "Main library", 5);
    // A device that went quiet only 10 s ago is inside the grace period: nothing yet.
    await goOffline(lib.ids.slice(0, 4));
    await goOffline(lib.ids.slice(4), 10);
    await sweep();
    await sweep();
    const alerts = await alertsOf(client.id);
    expect(alerts).toHaveLength(4);
    expect(new Set(alerts.map((a) => a.incident_id)).size).toBe(1);
    expect(alerts.every((a) => a.state === "firing" && a.ticket_id === null)).toBe(true);
    let tickets = await ticketsOf(client.id);
    expect(tickets).toHaveLength(1);
    expect(tickets[0]).toMatchObject({ priority: 1, type: "alert", source: "monitoring" });
    expect(tickets[0]!.subject).toBe("Site offline: Main library (4 of 5 devices)");

    // The fifth passes its grace period: attached to the same incident, noted on the same ticket.
    await sql`update devices set last_seen_at = now() - interval '5 minutes' where id = ${lib.ids[4]}`.execute(
      t.db,
    );
    await sweep();
    expect(await ticketsOf(client.id)).toHaveLength(1);
    expect((await alertsOf(client.id)).every((a) => a.incident_id === alerts[0]!.incident_id)).toBe(true);
    expect((await notesOf(tickets[0]!.id)).some((n) => n.startsWith("Also offline now:"))).toBe(true);

    // They come back: the first sweep starts their recovery, the next resolves the alerts, the incident
    // and the ticket, with a note for each device.
    await comeBack(lib.ids);
    await sweep();
    await sweep();
    expect((await alertsOf(client.id)).every((a) => a.state === "resolved")).toBe(true);
    const incident = await t.db
      .selectFrom("monitoring_incidents")
      .selectAll()
      .where("id", "=", alerts[0]!.incident_id!)
      .executeTakeFirstOrThrow();
    expect(incident.state).toBe("resolved");
    tickets = await ticketsOf(client.id);
    expect(tickets).toHaveLength(1);
    expect(tickets[0]!.status_category).toBe("resolved");
    const notes = await notesOf(tickets[0]!.id);
    expect(notes.filter((n) => / is back online \(offline for/.test(n))).toHaveLength(5);
    expect(notes.at(-1)).toMatch(/^Every device of the site is back online/);
  });

  it("one machine of a site offline is its own ticket; repeated sweeps and a flap never open a second", async () => {
    const client = await makeClient(t);
    const office = await siteWith(client.id, "Office", 3);
    const server = office.ids[0]!;
    await goOffline([server]);
    await sweep();
    await sweep();
    let alerts = await alertsOf(client.id);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]!.incident_id).toBeNull();
    let tickets = await ticketsOf(client.id);
    expect(tickets).toHaveLength(1);
    expect(tickets[0]).toMatchObject({ priority: 2, subject: expect.stringContaining("is offline") });

    // Back for a moment and gone again before the recovery time: still the same firing alert, a flap.
    await comeBack([server]);
    await sweep({ recoverSeconds: 600 });
    await goOffline([server]);
    await sweep({ recoverSeconds: 600 });
    alerts = await alertsOf(client.id);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ state: "firing", flaps: 1 });

    // Recovered, then offline again within the reopen window: the same alert and ticket reopen.
    await comeBack([server]);
    await sweep();
    await sweep();
    expect((await ticketsOf(client.id))[0]!.status_category).toBe("resolved");
    await goOffline([server]);
    await sweep();
    alerts = await alertsOf(client.id);
    expect(alerts).toHaveLength(1);
    expect(alerts[0]).toMatchObject({ state: "firing", flaps: 2 });
    tickets = await ticketsOf(client.id);
    expect(tickets).toHaveLength(1);
    expect(tickets[0]!.status_category).toBe("open");
    expect((await notesOf(tickets[0]!.id)).at(-1)).toMatch(/went offline again/);
  });

  it("a maintenance window holds tickets back but not the alert; the ticket comes when it ends", async () => {
    const client = await makeClient(t);
    const site = await siteWith(client.id, "Branch", 2);
    const win = await t.db
      .insertInto("monitoring_maintenance")
      .values({
        client_id: client.id,
        site_id: site.siteId,
        starts_at: new Date(Date.now() - 60_000),
        ends_at: new Date(Date.now() + 3_600_000),
        reason: "ISP work",
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    await goOffline(site.ids);
    await sweep();
    expect(await alertsOf(client.id)).toHaveLength(2);
    expect(await ticketsOf(client.id)).toHaveLength(0);
    await t.db
      .updateTable("monitoring_maintenance")
      .set({ ends_at: new Date(Date.now() - 1000) })
      .where("id", "=", win.id)
      .execute();
    await sweep();
    const tickets = await ticketsOf(client.id);
    expect(tickets).toHaveLength(1);
    expect(tickets[0]!.priority).toBe(1);
  });

  it("alerts are confined to their client by row-level security", async () => {
    const a = await makeClient(t);
    const b = await makeClient(t);
    const sa = await siteWith(a.id, "A", 1);
    const sb = await siteWith(b.id, "B", 1);
    await goOffline([...sa.ids, ...sb.ids]);
    await sweep();
    const seen = await runInScope(scopeForClients([a.id]), () =>
      t.db
        .selectFrom("monitoring_alerts")
        .select("client_id")
        .where("client_id", "in", [a.id, b.id])
        .execute(),
    );
    expect(seen.map((r) => r.client_id)).toEqual([a.id]);
    const forged = runInScope(scopeForClients([a.id]), () =>
      t.db
        .insertInto("monitoring_alerts")
        .values({
          client_id: b.id,
          device_id: sb.ids[0]!,
          check_key: "x",
          kind: "tcp",
          name: "x",
          severity: "low",
          state: "firing",
        })
        .execute(),
    );
    await expect(forged).rejects.toThrow(/row-level security/);
  });

  it("mails a P1 to the admins and dispatchers who see the client, once, honouring their preference", async () => {
    const client = await makeClient(t);
    const other = await makeClient(t);
    const admin = await makeUser(t, { role: "admin" });
    const dispatcher = await makeUser(t, { role: "dispatcher", clientIds: [client.id] });
    const elsewhere = await makeUser(t, { role: "dispatcher", clientIds: [other.id] });
    const quiet = await makeUser(t, { role: "admin" });
    const tech = await makeUser(t, { role: "technician" });
    await t.db
      .insertInto("user_notification_preferences")
      .values({ user_id: quiet.id, monitoring_p1: false, updated_at: new Date() })
      .execute();
    const site = await siteWith(client.id, "Annex", 2);
    await goOffline(site.ids);
    await sweep();
    const row = await t.db
      .selectFrom("domain_events")
      .selectAll()
      .where("type", "=", "monitoring.ticket_opened")
      .where("client_id", "=", client.id)
      .executeTakeFirstOrThrow();
    const boss = await startBoss(t.url, { supervise: false, schedule: false });
    try {
      const deps = { db: t.db, blobs: t.deps.blobs, boss, config: t.deps.config };
      await createEmailQueues(deps);
      await mailP1(deps, toLiveEvent(row));
      await mailP1(deps, toLiveEvent(row)); // redelivered: nobody is mailed twice
    } finally {
      await boss.stop({ graceful: false });
    }
    const mails = await t.db
      .selectFrom("email_messages")
      .select(["to_addresses", "subject"])
      .where("ticket_id", "=", row.ticket_id)
      .where("template", "=", "monitoring_p1")
      .execute();
    const to = mails.flatMap((m) => m.to_addresses);
    expect(to).toContain(admin.email);
    expect(to).toContain(dispatcher.email);
    expect(to).not.toContain(elsewhere.email);
    expect(to).not.toContain(quiet.email);
    expect(to).not.toContain(tech.email);
    expect(to.filter((e) => e === admin.email)).toHaveLength(1);
    expect(mails[0]!.subject).toMatch(/^P1 #\d+: Site offline: Annex \(2 of 2 devices\)$/);
  });

  it("follows the client's ticket rule: severity floor, team and assignee, recovery noted only", async () => {
    const client = await makeClient(t);
    const admin = await makeUser(t, { role: "admin" });
    const team = await makeTeam(t);
    const tech = await makeUser(t, { role: "technician", clientIds: [client.id] });
    const post = (body: object) =>
      t.app.inject({
        method: "POST",
        url: "/api/v1/monitoring/ticket-rules",
        headers: admin.auth,
        payload: body,
      });
    const bad = await post({ clientId: client.id, teamId: "00000000-0000-4000-8000-00000000dead" });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.issues[0].path).toBe("body.teamId");
    const set = await post({
      clientId: client.id,
      minSeverity: "critical",
      teamId: team.id,
      assigneeId: tech.id,
      resolveOnRecovery: false,
    });
    expect(set.statusCode, set.body).toBe(201);
    // Below the floor: a second rule in the client's list keeps the rest as alerts only.
    expect((await post({ clientId: client.id, openTicket: false })).statusCode).toBe(201);

    // One machine of four offline: a high alert, below the floor: an alert, never a ticket.
    const site = await siteWith(client.id, "Depot", 4);
    await goOffline(site.ids.slice(0, 1));
    await sweep();
    await sweep();
    expect(await alertsOf(client.id)).toMatchObject([{ state: "firing", ticket_id: null, no_ticket: true }]);
    expect(await ticketsOf(client.id)).toHaveLength(0);

    // The whole site: critical, a ticket for the rule's team and technician.
    await goOffline(site.ids);
    await sweep();
    let tickets = await ticketsOf(client.id);
    expect(tickets).toHaveLength(1);
    expect(tickets[0]).toMatchObject({ priority: 1, team_id: team.id, assignee_id: tech.id });

    // Back: the alerts and incident resolve, the ticket is only noted (the technician closes it).
    await comeBack(site.ids);
    await sweep();
    await sweep();
    expect((await alertsOf(client.id)).every((a) => a.state === "resolved")).toBe(true);
    tickets = await ticketsOf(client.id);
    expect(tickets[0]!.status_category).toBe("new");
    expect((await notesOf(tickets[0]!.id)).at(-1)).toMatch(/^Every device of the site is back online/);
  });
});
