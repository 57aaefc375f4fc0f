import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestApp,
  makeClient,
  makeContact,
  makeUser,
  type TestApp,
  type TestUser,
} from "../../../test/helpers.ts";

describe("merging duplicate contacts", () => {
  let t: TestApp;
  let admin: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await makeUser(t, { role: "admin" });
  });
  afterAll(() => t.close());

  const merge = (who: TestUser, id: string, duplicateIds: string[]) =>
    t.app.inject({
      method: "POST",
      url: `/api/v1/contacts/${id}/merge`,
      headers: who.auth,
      payload: { duplicateIds },
    });

  it("moves tickets, calls and emails to the survivor, which takes the duplicate's addresses; the duplicate points to it", async () => {
    const client = await makeClient(t);
    const keep = await makeContact(t, client.id, {
      firstName: "Maria",
      lastName: "Lopez",
      email: "maria@rb.example",
      phone: "517-555-0100",
    });
    const dup = await makeContact(t, client.id, {
      firstName: "Maria",
      lastName: "Lopez",
      email: "mlopez@gmail.example",
      phone: "(517) 555-0100",
    });
    const created = await t.app.inject({
      method: "POST",
      url: "/api/v1/tickets",
      headers: admin.auth,
      payload: { clientId: client.id, contactId: dup.id, subject: "Printer jams", source: "phone" },
    });
    expect(created.statusCode).toBe(201);
    const ticket = created.json();
    const call = await t.app.inject({
      method: "POST",
      url: `/api/v1/tickets/${ticket.id}/timeline`,
      headers: admin.auth,
      payload: {
        kind: "call",
        body: "Called about the printer",
        contactId: dup.id,
        call: { direction: "inbound", durationSeconds: 90 },
      },
    });
    expect(call.statusCode).toBe(201);
    await t.db
      .insertInto("email_messages")
      .values({
        direction: "inbound",
        source: "api",
        status: "processed",
        contact_id: dup.id,
        ticket_id: ticket.id,
        received_at: new Date(),
      })
      .execute();

    const res = await merge(admin, keep.id, [dup.id]);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      survivorId: keep.id,
      merged: [dup.id],
      moved: { tickets: 1, timelineEntries: 1, emails: 1 },
    });

    const survivor = (
      await t.app.inject({ method: "GET", url: `/api/v1/contacts/${keep.id}`, headers: admin.auth })
    ).json();
    expect(survivor.emails.sort()).toEqual(["maria@rb.example", "mlopez@gmail.example"]);
    expect(survivor.phones).toHaveLength(1);
    const gone = (
      await t.app.inject({ method: "GET", url: `/api/v1/contacts/${dup.id}`, headers: admin.auth })
    ).json();
    expect(gone).toMatchObject({ mergedIntoId: keep.id, active: false, emails: [] });
    const t2 = await t.db
      .selectFrom("tickets")
      .select("contact_id")
      .where("id", "=", ticket.id)
      .executeTakeFirstOrThrow();
    expect(t2.contact_id).toBe(keep.id);
    const entries = await t.db
      .selectFrom("timeline_entries")
      .select("author_contact_id")
      .where("ticket_id", "=", ticket.id)
      .where("kind", "=", "call")
      .execute();
    expect(entries.map((e) => e.author_contact_id)).toEqual([keep.id]);
    // Mail from the duplicate's address now finds the survivor.
    const found = (
      await t.app.inject({
        method: "GET",
        url: "/api/v1/contacts?q=mlopez%40gmail.example",
        headers: admin.auth,
      })
    ).json();
    expect(found.items.map((c: { id: string }) => c.id)).toEqual([keep.id]);
    const audit = await t.db
      .selectFrom("audit_log")
      .select(["action", "entity_id"])
      .where("entity_id", "in", [keep.id, dup.id])
      .where("action", "like", "contact.merge%")
      .execute();
    expect(audit.map((a) => a.action).sort()).toEqual(["contact.merge", "contact.merged_into"]);

    const twice = await merge(admin, keep.id, [dup.id]);
    expect(twice.statusCode).toBe(400);
    expect(twice.json().error.details.issues[0].path).toBe("body.duplicateIds.0");
  });

  it("refuses contacts of another client, and a technician or a client the caller cannot see", async () => {
    const a = await makeClient(t);
    const b = await makeClient(t);
    const ca = await makeContact(t, a.id);
    const cb = await makeContact(t, b.id);
    const cross = await merge(admin, ca.id, [cb.id]);
    expect(cross.statusCode).toBe(400);
    expect(cross.json().error.details.issues[0].message).toMatch(/another client/);
    const tech = await makeUser(t, { role: "technician" });
    expect((await merge(tech, ca.id, [cb.id])).statusCode).toBe(403);
    const dispatcherOfB = await makeUser(t, { role: "dispatcher", clientIds: [b.id] });
    expect((await merge(dispatcherOfB, ca.id, [cb.id])).statusCode).toBe(404);
  });
});
