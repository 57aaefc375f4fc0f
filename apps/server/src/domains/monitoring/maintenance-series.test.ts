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
import { extendMaintenanceSeries } from "./maintenance-series.ts";
import { runSweep, type SweepSettings } from "./sweep.ts";

// Recurring maintenance windows in the site's time zone: "every Sunday 02:00-04:00 at the library" holds
// alerts' tickets back during each window, in winter and in summer, and ending the series lets them through.

const settings: SweepSettings = {
  offlineGraceSeconds: 60,
  recoverSeconds: 0,
  correlationSeconds: 0,
  siteMinOffline: 2,
  siteOfflinePercent: 50,
  reopenSeconds: 900,
};

let t: TestApp;
let admin: TestUser;
beforeAll(async () => {
  t = await createTestApp();
  admin = await makeUser(t, { role: "admin" });
});
afterAll(() => t.close());

const api = (method: "GET" | "POST" | "DELETE", url: string, payload?: object) =>
  t.app.inject({ method, url, headers: admin.auth, payload });

async function libraryWith(devices: number, zone = "America/Chicago") {
  const client = await makeClient(t, rand("Library "));
  const site = await t.db
    .insertInto("sites")
    .values({ client_id: client.id, name: "Main branch", timezone: zone })
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
            hostname: rand("lib-"),
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
          .executeTakeFirstOrThrow()
      ).id,
    );
  return { clientId: client.id, siteId: site.id, ids };
}

const local = (iso: string, zone: string) =>
  new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    weekday: "short",
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
  }).format(new Date(iso));

async function sweep() {
  for (let i = 0; i < 20; i++) {
    const out = await runSweep(t.db, settings);
    if (out) return out;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error("sweep lock never free");
}

describe("recurring maintenance windows", () => {
  it("writes each Sunday's 02:00-04:00 in the site's zone and lists the series with its next window", async () => {
    const lib = await libraryWith(1);
    const res = await api("POST", "/api/v1/monitoring/maintenance-series", {
      clientId: lib.clientId,
      siteId: lib.siteId,
      cron: "0 2 * * 0",
      durationMinutes: 120,
      reason: "Sunday patching",
    });
    expect(res.statusCode, res.body).toBe(201);
    const series = res.json();
    expect(series).toMatchObject({ timeZone: "America/Chicago", cron: "0 2 * * 0", durationMinutes: 120 });
    expect(local(series.next.startsAt, "America/Chicago")).toBe("Sun 02:00");
    expect(Date.parse(series.next.endsAt) - Date.parse(series.next.startsAt)).toBe(2 * 3600_000);

    const occurrences = await t.db
      .selectFrom("monitoring_maintenance")
      .selectAll()
      .where("series_id", "=", series.id)
      .orderBy("starts_at")
      .execute();
    expect(occurrences.length).toBe(2);
    for (const o of occurrences) {
      expect(local(o.starts_at.toISOString(), "America/Chicago")).toBe("Sun 02:00");
      expect(o).toMatchObject({ client_id: lib.clientId, site_id: lib.siteId, reason: "Sunday patching" });
    }
    // Listed as one series, not as its occurrences; an occurrence cannot be ended on its own.
    const list = (await api("GET", `/api/v1/monitoring/maintenance?clientId=${lib.clientId}`)).json();
    expect(list.items).toEqual([]);
    expect(list.series.map((s: { id: string }) => s.id)).toEqual([series.id]);
    expect((await api("DELETE", `/api/v1/monitoring/maintenance/${occurrences[0]!.id}`)).statusCode).toBe(
      404,
    );

    // Written again by a sweep: nothing doubles.
    await sweep();
    expect(
      await t.db
        .selectFrom("monitoring_maintenance")
        .select("id")
        .where("series_id", "=", series.id)
        .execute(),
    ).toHaveLength(2);
  });

  it("keeps 02:00 local across the end of daylight saving time", async () => {
    const lib = await libraryWith(0);
    const row = await t.db
      .insertInto("monitoring_maintenance_series")
      .values({
        client_id: lib.clientId,
        site_id: lib.siteId,
        cron: "0 2 * * 0",
        duration_minutes: 60,
        time_zone: "America/Chicago",
        until: "2026-11-01",
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    // As a sweep on Saturday 24 October 2026 would write them: CDT (UTC-5), then CST (UTC-6) from 1 November.
    await asSystem(() =>
      t.db.transaction().execute((trx) => extendMaintenanceSeries(trx, new Date("2026-10-24T12:00:00Z"))),
    );
    const starts = (
      await t.db
        .selectFrom("monitoring_maintenance")
        .select("starts_at")
        .where("series_id", "=", row.id)
        .orderBy("starts_at")
        .execute()
    ).map((r) => r.starts_at.toISOString());
    // 8 November is after the series' last day.
    expect(starts).toEqual(["2026-10-25T07:00:00.000Z", "2026-11-01T08:00:00.000Z"]);
  });

  it("holds an offline alert's ticket during the window, and ending the series lets it through", async () => {
    const lib = await libraryWith(1, "Australia/Lord_Howe");
    // A daily window that started this very minute, local time at the site.
    const parts = Object.fromEntries(
      new Intl.DateTimeFormat("en-US", {
        timeZone: "Australia/Lord_Howe",
        hour: "numeric",
        minute: "numeric",
        hourCycle: "h23",
      })
        .formatToParts(new Date())
        .map((p) => [p.type, p.value]),
    );
    const res = await api("POST", "/api/v1/monitoring/maintenance-series", {
      clientId: lib.clientId,
      siteId: lib.siteId,
      cron: `${Number(parts.minute)} ${Number(parts.hour)} * * *`,
      durationMinutes: 30,
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().next.now).toBe(true);

    await sql`update devices set online = false, last_seen_at = now() - interval '5 minutes'
      where id = ${lib.ids[0]}`.execute(t.db);
    await sweep();
    await sweep();
    const alert = await t.db
      .selectFrom("monitoring_alerts")
      .selectAll()
      .where("device_id", "=", lib.ids[0]!)
      .executeTakeFirstOrThrow();
    expect(alert).toMatchObject({ state: "firing", ticket_id: null });

    expect((await api("DELETE", `/api/v1/monitoring/maintenance-series/${res.json().id}`)).statusCode).toBe(
      204,
    );
    await sweep();
    const after = await t.db
      .selectFrom("monitoring_alerts")
      .select("ticket_id")
      .where("id", "=", alert.id)
      .executeTakeFirstOrThrow();
    expect(after.ticket_id).not.toBeNull();
    const audit = await t.db
      .selectFrom("audit_log")
      .select("action")
      .where("entity_id", "=", res.json().id)
      .execute();
    expect(audit.map((a) => a.action).sort()).toEqual([
      "monitoring.maintenance_series_create",
      "monitoring.maintenance_series_delete",
    ]);
  });

  it("refuses a bad schedule or scope and names the field", async () => {
    const lib = await libraryWith(0);
    const other = await libraryWith(0);
    const cases: Array<[object, string, string]> = [
      [{ cron: "*/5 * * * *" }, "cron", "one minute of the hour"],
      [{ cron: "0 25 * * *" }, "cron", "hour: 25 is outside 0-23"],
      [{ durationMinutes: 2 }, "durationMinutes", ""],
      [{ siteId: other.siteId }, "siteId", "no such site of this client"],
      [{ until: "next week" }, "until", ""],
    ];
    for (const [patch, field, reason] of cases) {
      const res = await api("POST", "/api/v1/monitoring/maintenance-series", {
        clientId: lib.clientId,
        cron: "0 2 * * 0",
        durationMinutes: 60,
        ...patch,
      });
      expect(res.statusCode, JSON.stringify(patch)).toBe(400);
      expect(res.body).toContain(field);
      if (reason) expect(res.body).toContain(reason);
    }
    expect(
      await t.db
        .selectFrom("monitoring_maintenance_series")
        .select("id")
        .where("client_id", "=", lib.clientId)
        .execute(),
    ).toHaveLength(0);
  });
});
