import { mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, makeClient, makeTeam, makeUser, rand, type TestApp } from "../../../test/helpers.ts";
import type { App } from "../../app.ts";
import type { Actor } from "../auth/actor.ts";
import type { Signal } from "../events/live.ts";
import { registerWebApp } from "./static.ts";

async function makeTicket(t: TestApp, clientId: string, opts: { assigneeId?: string; teamId?: string } = {}) {
  const status = await t.db
    .selectFrom("ticket_statuses")
    .select(["id", "category"])
    .where("name", "=", "Open")
    .executeTakeFirstOrThrow();
  return t.db
    .insertInto("tickets")
    .values({
      subject: rand("Printer jam "),
      client_id: clientId,
      type: "incident",
      source: "phone",
      priority: 3,
      status_id: status.id,
      status_category: status.category,
      assignee_id: opts.assigneeId ?? null,
      team_id: opts.teamId ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

describe("console support API", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(() => t.close());

  it("saves, replaces, lists and deletes my views, each audited, and keeps them to me", async () => {
    const me = await makeUser(t);
    const other = await makeUser(t);
    const save = (filters: Record<string, string | string[]>) =>
      t.app.inject({
        method: "POST",
        url: "/api/v1/views",
        headers: me.auth,
        payload: { name: "Dental P1s", filters },
      });
    const first = await save({ queue: "all", priority: "1" });
    expect(first.statusCode).toBe(201);
    const second = await save({ queue: "all", priority: ["1", "2"] });
    expect(second.statusCode).toBe(201);
    const list = await t.app.inject({ method: "GET", url: "/api/v1/views", headers: me.auth });
    expect(list.json()).toEqual([
      expect.objectContaining({ name: "Dental P1s", filters: { queue: "all", priority: ["1", "2"] } }),
    ]);
    const theirs = await t.app.inject({ method: "GET", url: "/api/v1/views", headers: other.auth });
    expect(theirs.json()).toEqual([]);
    const id = second.json().id;
    const stolen = await t.app.inject({ method: "DELETE", url: `/api/v1/views/${id}`, headers: other.auth });
    expect(stolen.statusCode).toBe(404);
    const del = await t.app.inject({ method: "DELETE", url: `/api/v1/views/${id}`, headers: me.auth });
    expect(del.statusCode).toBe(204);
    const audit = await t.db
      .selectFrom("audit_log")
      .select("action")
      .where("actor_user_id", "=", me.id)
      .orderBy("id")
      .execute();
    expect(audit.map((a) => a.action)).toEqual([
      "saved_view.create",
      "saved_view.replace",
      "saved_view.delete",
    ]);
  });

  it("names the field when a view is invalid", async () => {
    const me = await makeUser(t);
    const res = await t.app.inject({
      method: "POST",
      url: "/api/v1/views",
      headers: me.auth,
      payload: { name: "", filters: {} },
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.issues[0].path).toBe("body.name");
  });

  it("broadcasts presence to those who may see the ticket's client, and hides other clients' tickets", async () => {
    const clientA = await makeClient(t);
    const clientB = await makeClient(t);
    const ticket = await makeTicket(t, clientA.id);
    const alice = await makeUser(t, { name: "Alice Presence" });
    const limited = await makeUser(t, { clientIds: [clientB.id] });
    const seen: Signal[] = [];
    const hidden: Signal[] = [];
    const watcher: Actor = {
      kind: "user",
      userId: null,
      name: "w",
      role: "technician",
      clientIds: null,
      teamIds: [],
      via: "token",
      timezone: "UTC",
    };
    const offA = t.deps.live.subscribe(
      watcher,
      () => {},
      (s) => seen.push(s),
    );
    const offB = t.deps.live.subscribe(
      { ...watcher, clientIds: [clientB.id] },
      () => {},
      (s) => hidden.push(s),
    );
    try {
      const res = await t.app.inject({
        method: "POST",
        url: `/api/v1/tickets/${ticket.id}/presence`,
        headers: alice.auth,
        payload: { state: "typing" },
      });
      expect(res.statusCode).toBe(204);
      const deadline = Date.now() + 5000;
      while (seen.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      expect(seen[0]).toMatchObject({
        type: "presence",
        ticketId: ticket.id,
        userId: alice.id,
        payload: { name: "Alice Presence", state: "typing" },
      });
      expect(hidden).toEqual([]);
    } finally {
      offA();
      offB();
    }
    const forbidden = await t.app.inject({
      method: "POST",
      url: `/api/v1/tickets/${ticket.id}/presence`,
      headers: limited.auth,
      payload: { state: "viewing" },
    });
    expect(forbidden.statusCode).toBe(404);
    const bad = await t.app.inject({
      method: "POST",
      url: `/api/v1/tickets/${ticket.id}/presence`,
      headers: alice.auth,
      payload: { state: "dancing" },
    });
    expect(bad.statusCode).toBe(400);
  });

  it("lists what others changed on my tickets since I last looked, then nothing after I mark it seen", async () => {
    const client = await makeClient(t);
    const team = await makeTeam(t);
    const me = await makeUser(t, { teamIds: [team.id] });
    const colleague = await makeUser(t, { name: "Colleague" });
    const mine = await makeTicket(t, client.id, { assigneeId: me.id });
    const teamTicket = await makeTicket(t, client.id, { teamId: team.id });
    const notMine = await makeTicket(t, client.id, { assigneeId: colleague.id });
    const event = (ticketId: string, type: string, actorId: string) =>
      t.db
        .insertInto("domain_events")
        .values({ type, ticket_id: ticketId, client_id: client.id, actor_user_id: actorId, payload: "{}" })
        .execute();
    await event(mine.id, "ticket.timeline_added", colleague.id);
    await event(mine.id, "ticket.updated", colleague.id);
    await event(mine.id, "ticket.updated", me.id); // my own change is not news to me
    await event(teamTicket.id, "ticket.created", colleague.id);
    await event(notMine.id, "ticket.updated", colleague.id);

    const res = await t.app.inject({ method: "GET", url: "/api/v1/me/changes", headers: me.auth });
    expect(res.statusCode).toBe(200);
    const byId = new Map(res.json().items.map((i: { ticketId: string }) => [i.ticketId, i]));
    expect([...byId.keys()].sort()).toEqual([mine.id, teamTicket.id].sort());
    expect(byId.get(mine.id)).toMatchObject({
      number: Number(mine.number),
      count: 2,
      lastActor: "Colleague",
      client: { id: client.id, name: client.name },
    });
    expect((byId.get(mine.id) as { kinds: string[] }).kinds.sort()).toEqual([
      "ticket.timeline_added",
      "ticket.updated",
    ]);

    const seen = await t.app.inject({
      method: "POST",
      url: "/api/v1/me/changes/seen",
      headers: me.auth,
      payload: {},
    });
    expect(seen.statusCode).toBe(204);
    const after = await t.app.inject({ method: "GET", url: "/api/v1/me/changes", headers: me.auth });
    expect(after.json().items).toEqual([]);
  });
});

describe("console hosting", () => {
  let app: App;
  beforeAll(async () => {
    const root = await mkdtemp(path.join(os.tmpdir(), "sb-web-"));
    await writeFile(path.join(root, "index.html"), "<!doctype html><title>Switchboard</title>");
    const f = Fastify();
    f.get("/api/v1/real", async () => ({ ok: true }));
    f.get("/healthz", async () => ({ status: "ok" }));
    await registerWebApp(f as unknown as App, root);
    await f.ready();
    app = f as unknown as App;
  });
  afterAll(() => app.close());

  it("serves the console at / and for deep links, but never shadows server paths", async () => {
    for (const url of ["/", "/tickets/1042", "/queues/mine?sort=age"]) {
      const res = await app.inject({ method: "GET", url });
      expect(res.statusCode, url).toBe(200);
      expect(res.body).toContain("<title>Switchboard</title>");
      expect(res.headers["cache-control"]).toBe("no-cache");
    }
    expect((await app.inject({ method: "GET", url: "/api/v1/real" })).json()).toEqual({ ok: true });
    expect((await app.inject({ method: "GET", url: "/healthz" })).json()).toEqual({ status: "ok" });
    for (const url of ["/api/v1/nope", "/api/nope", "/metrics/x", "/agent/ws", "/readyz/x"]) {
      const res = await app.inject({ method: "GET", url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error.code).toBe("not_found");
    }
  });
});
