import http from "node:http";
import type { AddressInfo } from "node:net";
import type { LiveEvent } from "@switchboard/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, makeClient, makeUser, type TestApp, type TestUser } from "../../../test/helpers.ts";
import { startBoss } from "../../lib/jobs.ts";
import { EventDispatcher } from "./dispatcher.ts";

let t: TestApp;
let base: string;

beforeAll(async () => {
  t = await createTestApp();
  await t.app.listen({ port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
});
afterAll(() => t.close());

/** Reads SSE events until `until` says stop or the time runs out; always closes the connection. */
function readStream(
  user: TestUser,
  opts: { lastEventId?: number; until: (e: LiveEvent[]) => boolean; ms?: number },
) {
  return new Promise<{ events: LiveEvent[]; ready: boolean }>((resolve, reject) => {
    const events: LiveEvent[] = [];
    let ready = false;
    const headers: Record<string, string> = { ...user.auth };
    if (opts.lastEventId !== undefined) headers["last-event-id"] = String(opts.lastEventId);
    const req = http.get(`${base}/api/v1/events/stream`, { headers }, (res) => {
      let buf = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buf += chunk;
        let i = buf.indexOf("\n\n");
        while (i >= 0) {
          const block = buf.slice(0, i);
          buf = buf.slice(i + 2);
          const type = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (type === "ready") ready = true;
          else if (data && type !== "signal") events.push(JSON.parse(data));
          i = buf.indexOf("\n\n");
        }
        if (ready && opts.until(events)) finish();
      });
    });
    const timer = setTimeout(finish, opts.ms ?? 5000);
    function finish() {
      clearTimeout(timer);
      req.destroy();
      resolve({ events, ready });
    }
    req.on("error", (err) => (ready ? finish() : reject(err)));
  });
}

const waitReady = async (user: TestUser) => {
  // The stream is subscribed once it says ready; a tiny poll on the hub is enough for the test.
  for (let i = 0; i < 50 && t.deps.live.subscriberCount === 0; i++)
    await new Promise((r) => setTimeout(r, 20));
  return user;
};

describe("live event stream", () => {
  it("delivers a new ticket to a technician who may see it, and not to one limited to another client", async () => {
    const client = await makeClient(t);
    const other = await makeClient(t);
    const tech = await makeUser(t);
    const limited = await makeUser(t, { clientIds: [other.id] });
    const subject = `Library machines offline ${Date.now()}`;
    const seen = readStream(tech, { until: (es) => es.some((e) => e.payload.subject === subject) });
    const unseen = readStream(limited, { until: () => false, ms: 1500 });
    await waitReady(tech);
    await new Promise((r) => setTimeout(r, 100));
    const res = await t.app.inject({
      method: "POST",
      url: "/api/v1/tickets",
      headers: tech.auth,
      payload: { subject, clientId: client.id, priority: 1 },
    });
    expect(res.statusCode).toBe(201);
    const got = await seen;
    const e = got.events.find((x) => x.payload.subject === subject);
    expect(e).toMatchObject({ type: "ticket.created", ticketId: res.json().id, clientId: client.id });
    const hidden = await unseen;
    expect(hidden.ready).toBe(true);
    expect(hidden.events.some((x) => x.payload.subject === subject)).toBe(false);
  });

  it("replays what was missed after Last-Event-ID", async () => {
    const client = await makeClient(t);
    const tech = await makeUser(t);
    const before = await t.db
      .selectFrom("domain_events")
      .select((eb) => eb.fn.max("id").as("id"))
      .executeTakeFirstOrThrow();
    const created: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await t.app.inject({
        method: "POST",
        url: "/api/v1/tickets",
        headers: tech.auth,
        payload: { subject: `missed ${i}`, clientId: client.id },
      });
      created.push(r.json().id);
    }
    const { events } = await readStream(tech, {
      lastEventId: Number(before.id ?? 0),
      until: (es) => created.every((id) => es.some((e) => e.ticketId === id)),
    });
    const ids = events.filter((e) => created.includes(e.ticketId ?? "")).map((e) => e.ticketId);
    expect(ids).toEqual(created);
  });
});

describe("outbox dispatcher", () => {
  it("hands each committed event to a durable job exactly once", async () => {
    const boss = await startBoss(t.url, { supervise: false });
    const dispatcher = new EventDispatcher(t.db, boss);
    const handled: number[] = [];
    dispatcher.register({
      name: `test-${Date.now()}`,
      types: ["ticket.created"],
      handle: async (e) => void handled.push(e.id),
    });
    try {
      await dispatcher.start(null, 60_000);
      const client = await makeClient(t);
      const tech = await makeUser(t);
      const r = await t.app.inject({
        method: "POST",
        url: "/api/v1/tickets",
        headers: tech.auth,
        payload: { subject: "dispatch me", clientId: client.id },
      });
      const event = await t.db
        .selectFrom("domain_events")
        .select("id")
        .where("ticket_id", "=", r.json().id)
        .executeTakeFirstOrThrow();
      await dispatcher.drain();
      for (let i = 0; i < 100 && !handled.includes(event.id); i++)
        await new Promise((res) => setTimeout(res, 100));
      expect(handled.filter((id) => id === event.id)).toHaveLength(1);
      const row = await t.db
        .selectFrom("domain_events")
        .select("dispatched_at")
        .where("id", "=", event.id)
        .executeTakeFirstOrThrow();
      expect(row.dispatched_at).not.toBeNull();
      // Another pass (other test files keep adding events to this shared database) does not hand the
      // same event out again.
      await dispatcher.drain();
      await new Promise((res) => setTimeout(res, 1500));
      expect(handled.filter((id) => id === event.id)).toHaveLength(1);
      const again = await t.db
        .selectFrom("domain_events")
        .select("dispatched_at")
        .where("id", "=", event.id)
        .executeTakeFirstOrThrow();
      expect(again.dispatched_at).toEqual(row.dispatched_at);
    } finally {
      dispatcher.stop();
      await boss.stop({ graceful: false });
    }
  });
});
