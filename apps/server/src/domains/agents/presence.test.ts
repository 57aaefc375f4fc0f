import { sql } from "kysely";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { makeClient, rand } from "../../../test/helpers.ts";
import { connectDatabase } from "../../db/database.ts";
import { sweepStale } from "./presence.ts";

// The stale sweep against the real database. Devices here were last seen two days ago and the sweep is
// asked for one day, so it touches no other test's devices; another gateway's sweep in a parallel test
// may take ours, so the assertions are on state and event counts, not on who swept.
describe("stale sweep", () => {
  const handle = connectDatabase(inject("databaseUrl"), { max: 2 });
  const db = handle.db;
  let clientId: string;
  afterAll(() => handle.close());
  beforeAll(async () => {
    clientId = (await makeClient({ db })).id;
  });

  const device = async (lastSeen: string) =>
    (
      await db
        .insertInto("devices")
        .values({
          client_id: clientId,
          hostname: rand("pc-"),
          platform: "linux",
          arch: "x64",
          os_name: "Linux",
          os_version: "12",
          agent_version: "test",
          public_key: "unused",
          online: true,
          gateway_id: rand("gw:"),
          last_seen_at: sql<Date>`now() - ${lastSeen}::interval`,
        })
        .returning("id")
        .executeTakeFirstOrThrow()
    ).id;
  const state = async (id: string) =>
    await db
      .selectFrom("devices")
      .select(["online", "gateway_id"])
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
  const offlineEvents = async (id: string) =>
    (
      await db
        .selectFrom("domain_events")
        .select("payload")
        .where("type", "=", "device.offline")
        .where(sql<boolean>`payload->>'deviceId' = ${id}`)
        .execute()
    ).map((e) => e.payload);

  it("marks silent devices offline with one device.offline event each and leaves fresh ones online", async () => {
    const silent = await device("2 days");
    const fresh = await device("1 minute");
    await sweepStale(db, 86_400);
    await sweepStale(db, 86_400);
    expect(await state(silent)).toEqual({ online: false, gateway_id: null });
    expect((await state(fresh)).online).toBe(true);
    const events = await offlineEvents(silent);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ deviceId: silent, reason: "no heartbeat" });
    expect(await offlineEvents(fresh)).toHaveLength(0);
  });

  it("skips a row a handshake holds instead of waiting for it (the two used to deadlock)", async () => {
    const held = await device("2 days");
    const other = await device("2 days");
    // A second connection holds the row as markOnlineBatch does between its lock and its commit.
    const c = new pg.Client({ connectionString: inject("databaseUrl") });
    await c.connect();
    try {
      await c.query("begin");
      await c.query("select id from devices where id = $1 for update", [held]);
      const swept = await Promise.race([
        sweepStale(db, 86_400).then(() => "done"),
        new Promise((r) => setTimeout(() => r("waited"), 5000)),
      ]);
      expect(swept).toBe("done");
      expect((await state(other)).online).toBe(false);
      expect((await state(held)).online).toBe(true);
      // The handshake commits: the device is back online and no sweep has to run.
      await c.query("update devices set last_seen_at = now() where id = $1", [held]);
      await c.query("commit");
    } finally {
      await c.end();
    }
    await sweepStale(db, 86_400);
    expect((await state(held)).online).toBe(true);
    expect(await offlineEvents(held)).toHaveLength(0);
  });
});
