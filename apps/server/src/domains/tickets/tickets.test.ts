import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestApp,
  makeClient,
  makeContact,
  makeTeam,
  makeUser,
  type TestApp,
  type TestUser,
  uuid,
} from "../../../test/helpers.ts";

let t: TestApp;
let tech: TestUser;
let clientA: { id: string; name: string };
let clientB: { id: string; name: string };
let team: { id: string };
let statuses: Record<string, string>;

const post = (user: TestUser, url: string, payload: unknown, headers: Record<string, string> = {}) =>
  t.app.inject({ method: "POST", url, payload: payload as object, headers: { ...user.auth, ...headers } });
const get = (user: TestUser, url: string) => t.app.inject({ method: "GET", url, headers: user.auth });
const patch = (user: TestUser, url: string, payload: unknown) =>
  t.app.inject({ method: "PATCH", url, payload: payload as object, headers: user.auth });

async function newTicket(user: TestUser, body: Record<string, unknown> = {}) {
  const res = await post(user, "/api/v1/tickets", { subject: "Printer jam", clientId: clientA.id, ...body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

beforeAll(async () => {
  t = await createTestApp();
  clientA = await makeClient(t);
  clientB = await makeClient(t);
  team = await makeTeam(t);
  tech = await makeUser(t, { teamIds: [team.id] });
  const rows = await t.db
    .selectFrom("ticket_statuses")
    .select(["id", "category"])
    .where("builtin", "=", true)
    .execute();
  statuses = Object.fromEntries(rows.map((r) => [r.category, r.id]));
});
afterAll(() => t.close());

describe("creating tickets", () => {
  it("creates a phone-intake ticket with its call log, audit row and event", async () => {
    const contact = await makeContact(t, clientA.id, { phone: "(555) 201-3344", vip: true });
    const ticket = await newTicket(tech, {
      subject: "Password reset after the weekend",
      contactId: contact.id,
      source: "phone",
      priority: 2,
      tags: ["Password", "AD"],
      call: {
        direction: "inbound",
        number: "555-201-3344",
        durationSeconds: 240,
        notes: "Verified by callback",
      },
    });
    expect(ticket).toMatchObject({
      subject: "Password reset after the weekend",
      priority: 2,
      source: "phone",
      status: { category: "new" },
      client: { id: clientA.id },
      contact: { id: contact.id, vip: true },
      tags: ["password", "ad"],
      version: 1,
    });
    expect(ticket.number).toBeGreaterThanOrEqual(1000);
    const view = (await get(tech, `/api/v1/tickets/${ticket.id}`)).json();
    // The create answers with exactly what a later read shows (it is built without reading back).
    expect(ticket).toEqual({ ...view.ticket, lastActivityAt: ticket.lastActivityAt });
    expect(view.timeline).toHaveLength(1);
    expect(view.timeline[0]).toMatchObject({
      kind: "call",
      visibility: "internal",
      body: "Verified by callback",
      call: { direction: "inbound", number: "555-201-3344", durationSeconds: 240 },
      author: { type: "user", id: tech.id },
    });
    const audit = await t.db.selectFrom("audit_log").selectAll().where("entity_id", "=", ticket.id).execute();
    expect(audit.map((a) => a.action)).toContain("ticket.create");
    expect(audit[0]?.actor_user_id).toBe(tech.id);
    const events = await t.db
      .selectFrom("domain_events")
      .selectAll()
      .where("ticket_id", "=", ticket.id)
      .execute();
    expect(events.map((e) => e.type)).toEqual(["ticket.created"]);
  });

  it("names each bad field and why", async () => {
    const res = await post(tech, "/api/v1/tickets", {
      subject: "",
      clientId: "nope",
      priority: 7,
      type: "urgent",
    });
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error.code).toBe("validation_failed");
    const byPath = Object.fromEntries(
      error.details.issues.map((i: { path: string; message: string }) => [i.path, i.message]),
    );
    expect(Object.keys(byPath)).toEqual(
      expect.arrayContaining(["body.subject", "body.clientId", "body.priority", "body.type"]),
    );
    expect(byPath["body.priority"]).toMatch(/1 \(P1, critical\) to 4/);
  });

  it("refuses references that do not exist or belong to another client", async () => {
    const foreign = await makeContact(t, clientB.id);
    const res = await post(tech, "/api/v1/tickets", {
      subject: "x",
      clientId: clientA.id,
      contactId: foreign.id,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.issues[0]).toEqual({
      path: "body.contactId",
      message: "is not a contact of this client",
    });
    // An id that exists nowhere gets exactly the same answer: no oracle for other clients' records.
    const unknown = await post(tech, "/api/v1/tickets", {
      subject: "x",
      clientId: clientA.id,
      contactId: uuid(),
    });
    expect(unknown.json().error.details.issues[0]).toEqual(res.json().error.details.issues[0]);
    const res2 = await post(tech, "/api/v1/tickets", { subject: "x", clientId: uuid() });
    expect(res2.json().error.details.issues[0]).toEqual({ path: "body.clientId", message: "no such client" });
  });

  it("makes one ticket for a retried create with the same Idempotency-Key", async () => {
    const key = `retry-${uuid()}`;
    const body = { subject: "VPN down at the law office", clientId: clientA.id };
    const [a, b] = await Promise.all([
      post(tech, "/api/v1/tickets", body, { "idempotency-key": key }),
      post(tech, "/api/v1/tickets", body, { "idempotency-key": key }),
    ]);
    const c = await post(tech, "/api/v1/tickets", body, { "idempotency-key": key });
    expect([a.statusCode, b.statusCode, c.statusCode]).toEqual([201, 201, 201]);
    expect(new Set([a.json().id, b.json().id, c.json().id]).size).toBe(1);
    expect(c.headers["idempotent-replayed"]).toBe("true");
    const count = await t.db
      .selectFrom("tickets")
      .select((eb) => eb.fn.countAll<number>().as("n"))
      .where("subject", "=", body.subject)
      .where("client_id", "=", clientA.id)
      .executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(1);
    const reused = await post(
      tech,
      "/api/v1/tickets",
      { ...body, subject: "other" },
      { "idempotency-key": key },
    );
    expect(reused.statusCode).toBe(422);
    expect(reused.json().error.code).toBe("idempotency_key_reused");
  });
});

describe("updating tickets", () => {
  it("refuses a stale version with 412 and the current state", async () => {
    const ticket = await newTicket(tech);
    const first = await patch(tech, `/api/v1/tickets/${ticket.id}`, { version: 1, priority: 1 });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ priority: 1, version: 2 });
    const stale = await patch(tech, `/api/v1/tickets/${ticket.id}`, { version: 1, subject: "Overwrite" });
    expect(stale.statusCode).toBe(412);
    const { error } = stale.json();
    expect(error.code).toBe("version_conflict");
    expect(error.details.current).toMatchObject({
      id: ticket.id,
      priority: 1,
      version: 2,
      subject: "Printer jam",
    });
  });

  it("parks a ticket waiting on the client, records the change and lists it in Waiting", async () => {
    const client = await makeClient(t);
    const ticket = await newTicket(tech, {
      subject: "ISP outage at the dental office",
      teamId: team.id,
      clientId: client.id,
    });
    const res = await patch(tech, `/api/v1/tickets/${ticket.id}`, {
      version: 1,
      statusId: statuses.waiting_client,
      assigneeId: tech.id,
    });
    expect(res.json()).toMatchObject({ status: { category: "waiting_client" }, assignee: { id: tech.id } });
    const waiting = (await get(tech, `/api/v1/tickets?queue=waiting&clientId=${client.id}`)).json();
    expect(waiting.items.map((i: { id: string }) => i.id)).toEqual([ticket.id]);
    const view = (await get(tech, `/api/v1/tickets/${ticket.id}`)).json();
    const types = view.timeline.map((e: { event: { type: string } | null }) => e.event?.type);
    expect(types).toEqual(expect.arrayContaining(["status_changed", "assignee_changed"]));
    const statusEvent = view.timeline.find(
      (e: { event: { type: string } | null }) => e.event?.type === "status_changed",
    );
    expect(statusEvent.event.to).toMatchObject({ name: "Waiting on client", category: "waiting_client" });
    const audit = await t.db
      .selectFrom("audit_log")
      .selectAll()
      .where("entity_id", "=", ticket.id)
      .where("action", "=", "ticket.update")
      .executeTakeFirstOrThrow();
    expect(audit.before).toMatchObject({ status_category: "new", assignee_id: null });
    expect(audit.after).toMatchObject({ status_category: "waiting_client", assignee_id: tech.id });
  });

  it("will not resolve a parent with open children, nor edit a closed ticket", async () => {
    const parent = await newTicket(tech, { subject: "CRM install project", type: "project_task" });
    const child = await newTicket(tech, { subject: "Install CRM on reception PC", parentId: parent.id });
    const res = await patch(tech, `/api/v1/tickets/${parent.id}`, {
      version: 1,
      statusId: statuses.resolved,
    });
    expect(res.statusCode).toBe(409);
    expect(res.json().error.message).toContain(`#${child.number}`);
    const parentView = (await get(tech, `/api/v1/tickets/${parent.id}`)).json();
    expect(parentView.ticket.children.map((c: { id: string }) => c.id)).toEqual([child.id]);

    const closed = await patch(tech, `/api/v1/tickets/${child.id}`, {
      version: 1,
      statusId: statuses.closed,
    });
    expect(closed.json().closedAt).not.toBeNull();
    const edit = await patch(tech, `/api/v1/tickets/${child.id}`, { version: 2, subject: "changed" });
    expect(edit.statusCode).toBe(409);
    expect(edit.json().error.code).toBe("invalid_transition");
  });
});

describe("merging", () => {
  it("moves the timeline and contacts, and the old number redirects", async () => {
    const c1 = await makeContact(t, clientA.id);
    const c2 = await makeContact(t, clientA.id);
    const target = await newTicket(tech, {
      subject: "Outlook keeps asking for a password",
      contactId: c1.id,
    });
    const source = await newTicket(tech, { subject: "Outlook password prompt again", contactId: c2.id });
    await post(tech, `/api/v1/tickets/${source.id}/timeline`, { kind: "note", body: "tried a new profile" });
    const res = await post(tech, `/api/v1/tickets/${source.id}/merge`, { intoTicketId: target.id });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().otherContacts.map((c: { id: string }) => c.id)).toEqual([c2.id]);

    const byOld = await get(tech, `/api/v1/tickets/by-number/${source.number}`);
    expect(byOld.json().ticket.id).toBe(target.id);
    const bodies = byOld.json().timeline.map((e: { body: string }) => e.body);
    expect(bodies).toContain("tried a new profile");
    const merged = (await get(tech, `/api/v1/tickets/${source.id}`)).json().ticket;
    expect(merged).toMatchObject({
      mergedInto: { id: target.id, number: target.number },
      status: { category: "closed" },
    });
    const again = await post(tech, `/api/v1/tickets/${source.id}/merge`, { intoTicketId: target.id });
    expect(again.statusCode).toBe(409);
  });
});

describe("queues", () => {
  it("filters mine, unassigned in my teams and follow-ups, and pages without gaps", async () => {
    const client = await makeClient(t);
    const me = await makeUser(t, { teamIds: [team.id] });
    const mine = [];
    for (let i = 0; i < 5; i++) {
      mine.push(
        await newTicket(me, {
          clientId: client.id,
          assigneeId: me.id,
          priority: (i % 4) + 1,
          subject: `mine ${i}`,
        }),
      );
    }
    const unassigned = await newTicket(me, { clientId: client.id, teamId: team.id, subject: "nobody's" });
    const followUp = await newTicket(me, {
      clientId: client.id,
      assigneeId: me.id,
      followUpAt: new Date(Date.now() - 60_000).toISOString(),
    });

    const pages: string[][] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 10; i++) {
      const res = await get(me, `/api/v1/tickets?queue=mine&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      const body = res.json();
      pages.push(body.items.map((x: { id: string }) => x.id));
      cursor = body.nextCursor;
      if (!cursor) break;
    }
    const ids = pages.flat();
    expect(ids).toHaveLength(6);
    expect(new Set(ids).size).toBe(6);
    const all = (await get(me, "/api/v1/tickets?queue=mine&limit=50")).json().items;
    const prios = all.map((x: { priority: number }) => x.priority);
    expect(prios).toEqual([...prios].sort((a: number, b: number) => a - b));

    const un = (await get(me, `/api/v1/tickets?queue=unassigned&clientId=${client.id}`)).json().items;
    expect(un.map((x: { id: string }) => x.id)).toEqual([unassigned.id]);
    const fu = (await get(me, `/api/v1/tickets?queue=follow_ups&clientId=${client.id}`)).json().items;
    expect(fu.map((x: { id: string }) => x.id)).toEqual([followUp.id]);
    const p1 = (await get(me, `/api/v1/tickets?queue=mine&priority=1`)).json().items;
    expect(p1.every((x: { priority: number }) => x.priority === 1)).toBe(true);
    const bad = await get(me, "/api/v1/tickets?cursor=garbage");
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.issues[0].path).toBe("query.cursor");
  });
});

describe("client separation", () => {
  it("a technician limited to client A cannot read, list or change client B's tickets", async () => {
    const limited = await makeUser(t, { clientIds: [clientA.id] });
    const theirs = await newTicket(tech, { clientId: clientB.id, subject: "Law office scanner" });
    const read = await get(limited, `/api/v1/tickets/${theirs.id}`);
    const unknown = await get(limited, `/api/v1/tickets/${uuid()}`);
    expect(read.statusCode).toBe(404);
    expect(read.json()).toEqual(unknown.json());
    expect((await get(limited, `/api/v1/tickets/by-number/${theirs.number}`)).statusCode).toBe(404);
    const list = (await get(limited, "/api/v1/tickets?queue=all&limit=200&state=any")).json().items;
    expect(list.length).toBeGreaterThan(0);
    expect(list.every((x: { client: { id: string } }) => x.client.id === clientA.id)).toBe(true);
    const filtered = (await get(limited, `/api/v1/tickets?clientId=${clientB.id}&state=any`)).json().items;
    expect(filtered).toEqual([]);
    const change = await patch(limited, `/api/v1/tickets/${theirs.id}`, { version: 1, priority: 1 });
    expect(change.statusCode).toBe(404);
    const note = await post(limited, `/api/v1/tickets/${theirs.id}/timeline`, { kind: "note", body: "peek" });
    expect(note.statusCode).toBe(404);
    const create = await post(limited, "/api/v1/tickets", { subject: "x", clientId: clientB.id });
    expect(create.statusCode).toBe(400);
  });

  it("read-only users cannot write", async () => {
    const ro = await makeUser(t, { role: "readonly" });
    const res = await post(ro, "/api/v1/tickets", { subject: "x", clientId: clientA.id });
    expect(res.statusCode).toBe(403);
    expect(res.json().error.code).toBe("forbidden");
  });
});

describe("attachments", () => {
  it("stores an uploaded file and serves it back as a download", async () => {
    const ticket = await newTicket(tech);
    const boundary = "----sbtest";
    const payload =
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="network.txt"\r\n` +
      `Content-Type: text/html\r\n\r\n<script>alert(1)</script>\r\n--${boundary}--\r\n`;
    const up = await t.app.inject({
      method: "POST",
      url: `/api/v1/tickets/${ticket.id}/attachments`,
      payload,
      headers: { ...tech.auth, "content-type": `multipart/form-data; boundary=${boundary}` },
    });
    expect(up.statusCode, up.body).toBe(201);
    const [att] = up.json().attachments;
    const down = await get(tech, `/api/v1/attachments/${att.id}`);
    expect(down.body).toBe("<script>alert(1)</script>");
    expect(down.headers["content-type"]).toBe("application/octet-stream");
    expect(down.headers["content-disposition"]).toContain("attachment");
  });
});

describe("statuses", () => {
  it("admins add a status within a category; queues follow the category", async () => {
    const admin = await makeUser(t, { role: "admin" });
    const name = `Waiting on parts ${uuid().slice(0, 6)}`;
    const created = await post(admin, "/api/v1/statuses", { name, category: "waiting_third_party" });
    expect(created.statusCode).toBe(201);
    const dup = await post(admin, "/api/v1/statuses", { name: name.toUpperCase(), category: "open" });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.details.issues[0].path).toBe("body.name");
    expect((await post(tech, "/api/v1/statuses", { name: "x", category: "open" })).statusCode).toBe(403);

    const client = await makeClient(t);
    const ticket = await newTicket(tech, { statusId: created.json().id, clientId: client.id });
    expect(ticket.status).toMatchObject({ name, category: "waiting_third_party" });
    const waiting = (await get(tech, `/api/v1/tickets?queue=waiting&clientId=${client.id}`)).json();
    expect(waiting.items.map((i: { id: string }) => i.id)).toContain(ticket.id);
  });
});
