import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestApp,
  makeClient,
  makeContact,
  makeUser,
  rand,
  type TestApp,
  type TestUser,
  uuid,
} from "../../../test/helpers.ts";
import { normalizeContactPhones } from "./contacts-service.ts";

/** Seven random digits, so each test's number is its own on the shared database. */
const randomLine = () => String(2_000_000 + Math.floor(Math.random() * 7_999_999));

describe("contacts API", () => {
  let t: TestApp;
  let tech: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    tech = await makeUser(t);
  });
  afterAll(() => t.close());

  const call = (who: TestUser, method: "GET" | "POST" | "PATCH", url: string, payload?: object) =>
    t.app.inject({ method, url, headers: who.auth, payload });
  const find = async (who: TestUser, q: string) => {
    const res = await call(who, "GET", `/api/v1/contacts?q=${encodeURIComponent(q)}`);
    expect(res.statusCode).toBe(200);
    return res.json().items as { id: string; clientName: string }[];
  };

  it("normalizes phones to JSON and space-joined digits", () => {
    expect(
      normalizeContactPhones([
        { label: " mobile ", number: " (555) 201-3344 " },
        { number: "+1 555.201.9000 x12" },
      ]),
    ).toEqual({
      phones: JSON.stringify([
        { label: "mobile", number: "(555) 201-3344" },
        { label: "work", number: "+1 555.201.9000 x12" },
      ]),
      phone_digits: "5552013344 1555201900012",
    });
  });

  it("creates a contact with lowercased emails, an audit row and a contact.created event", async () => {
    const client = await makeClient(t);
    const res = await call(tech, "POST", "/api/v1/contacts", {
      clientId: client.id,
      firstName: "Ruth",
      lastName: "Alvarez",
      title: "Office manager",
      emails: ["Ruth.Alvarez@BrightSmiles.example"],
      phones: [{ label: "office", number: "(517) 555-0142" }],
      vip: true,
    });
    expect(res.statusCode).toBe(201);
    const contact = res.json();
    expect(contact).toMatchObject({
      clientId: client.id,
      clientName: client.name,
      name: "Ruth Alvarez",
      emails: ["ruth.alvarez@brightsmiles.example"],
      phones: [{ label: "office", number: "(517) 555-0142" }],
      vip: true,
      version: 1,
    });
    const row = await t.db
      .selectFrom("contacts")
      .select("phone_digits")
      .where("id", "=", contact.id)
      .executeTakeFirst();
    expect(row?.phone_digits).toBe("5175550142");
    const audit = await t.db
      .selectFrom("audit_log")
      .selectAll()
      .where("entity_id", "=", contact.id)
      .where("action", "=", "contact.create")
      .executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ client_id: client.id, before: null });
    expect(audit.after).toMatchObject({ name: "Ruth Alvarez", vip: true });
    const event = await t.db
      .selectFrom("domain_events")
      .select("payload")
      .where("type", "=", "contact.created")
      .where("client_id", "=", client.id)
      .executeTakeFirstOrThrow();
    expect(event.payload).toMatchObject({ contactId: contact.id, name: "Ruth Alvarez" });
  });

  it("names bad fields and refuses a site of another client", async () => {
    const client = await makeClient(t);
    const other = await makeClient(t);
    const bad = await call(tech, "POST", "/api/v1/contacts", {
      clientId: "nope",
      firstName: "",
      emails: ["not-an-email"],
      phones: [{ number: "call me" }],
    });
    expect(bad.statusCode).toBe(400);
    const paths = bad.json().error.details.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(
      expect.arrayContaining(["body.clientId", "body.firstName", "body.emails.0", "body.phones.0.number"]),
    );

    const siteOfOther = (
      await call(tech, "POST", `/api/v1/clients/${other.id}/sites`, { name: "Elsewhere" })
    ).json();
    const wrongSite = await call(tech, "POST", "/api/v1/contacts", {
      clientId: client.id,
      firstName: "Sam",
      siteId: siteOfOther.id,
    });
    expect(wrongSite.statusCode).toBe(400);
    expect(wrongSite.json().error.details.issues[0].path).toBe("body.siteId");
    const unknownClient = await call(tech, "POST", "/api/v1/contacts", {
      clientId: uuid(),
      firstName: "Sam",
    });
    expect(unknownClient.statusCode).toBe(400);
    expect(unknownClient.json().error.details.issues[0].path).toBe("body.clientId");

    const contact = await makeContact(t, client.id);
    const moved = await call(tech, "PATCH", `/api/v1/contacts/${contact.id}`, {
      version: 1,
      siteId: siteOfOther.id,
    });
    expect(moved.statusCode).toBe(400);
    expect(moved.json().error.details.issues[0].path).toBe("body.siteId");
  });

  it("finds the caller by phone number in any format, with their client", async () => {
    const client = await makeClient(t);
    const line = randomLine();
    const stored = `(555) ${line.slice(0, 3)}-${line.slice(3)}`;
    const contact = await makeContact(t, client.id, { phone: stored });
    for (const typed of [
      stored,
      `+1 555 ${line.slice(0, 3)} ${line.slice(3)}`,
      `555.${line.slice(0, 3)}.${line.slice(3)}`,
      `${line.slice(0, 3)}-${line.slice(3)}`,
    ]) {
      const found = await find(tech, typed);
      expect(
        found.map((c) => c.id),
        typed,
      ).toEqual([contact.id]);
      expect(found[0]?.clientName).toBe(client.name);
    }
  });

  it("finds contacts by email (exact or prefix) and by name, even misspelt", async () => {
    const client = await makeClient(t);
    const last = rand("Hendler");
    const contact = await makeContact(t, client.id, {
      firstName: "Martin",
      lastName: last,
      email: `${last.toLowerCase()}@convergence.example`,
    });
    const ids = async (q: string) => (await find(tech, q)).map((c) => c.id);
    expect(await ids(`${last.toUpperCase()}@Convergence.example`)).toEqual([contact.id]);
    expect(await ids(`${last.toLowerCase()}@conv`)).toEqual([contact.id]);
    expect(await ids(`Martin ${last}`)).toEqual([contact.id]);
    expect(await ids(`Martn ${last}`)).toEqual([contact.id]);

    const byClient = await call(tech, "GET", `/api/v1/contacts?clientId=${client.id}`);
    expect(byClient.json()).toEqual({
      items: [expect.objectContaining({ id: contact.id })],
      nextCursor: null,
    });
  });

  it("pages a client's contacts by name", async () => {
    const client = await makeClient(t);
    for (const first of ["Carol", "Alice", "Bob"])
      await makeContact(t, client.id, { firstName: first, lastName: "Z" });
    const seen: string[] = [];
    let cursor = "";
    for (let i = 0; i < 5; i++) {
      const page = (
        await call(tech, "GET", `/api/v1/contacts?clientId=${client.id}&limit=1${cursor}`)
      ).json();
      seen.push(...page.items.map((c: { name: string }) => c.name));
      if (!page.nextCursor) break;
      cursor = `&cursor=${page.nextCursor}`;
    }
    expect(seen).toEqual(["Alice Z", "Bob Z", "Carol Z"]);
  });

  it("answers a stale update with 412 and the current contact, and audits the change", async () => {
    const client = await makeClient(t);
    const contact = await makeContact(t, client.id, { phone: "555 000 1111" });
    const ok = await call(tech, "PATCH", `/api/v1/contacts/${contact.id}`, {
      version: 1,
      phones: [{ label: "mobile", number: "555-000-2222" }],
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ version: 2, phones: [{ label: "mobile", number: "555-000-2222" }] });
    const row = await t.db
      .selectFrom("contacts")
      .select("phone_digits")
      .where("id", "=", contact.id)
      .executeTakeFirst();
    expect(row?.phone_digits).toBe("5550002222");

    const stale = await call(tech, "PATCH", `/api/v1/contacts/${contact.id}`, { version: 1, vip: true });
    expect(stale.statusCode).toBe(412);
    expect(stale.json().error).toMatchObject({
      code: "version_conflict",
      details: { current: { id: contact.id, version: 2, vip: false } },
    });
    const audit = await t.db
      .selectFrom("audit_log")
      .selectAll()
      .where("entity_id", "=", contact.id)
      .where("action", "=", "contact.update")
      .executeTakeFirstOrThrow();
    expect(audit.before).toEqual({ phones: [{ label: "work", number: "555 000 1111" }] });
    expect(audit.after).toEqual({ phones: [{ label: "mobile", number: "555-000-2222" }] });
    const event = await t.db
      .selectFrom("domain_events")
      .select("payload")
      .where("type", "=", "contact.updated")
      .where("client_id", "=", client.id)
      .executeTakeFirstOrThrow();
    expect(event.payload).toMatchObject({ contactId: contact.id, changed: ["phones"] });
  });

  it("keeps readonly users from writing contacts", async () => {
    const readonly = await makeUser(t, { role: "readonly" });
    const client = await makeClient(t);
    const contact = await makeContact(t, client.id);
    expect(
      (await call(readonly, "POST", "/api/v1/contacts", { clientId: client.id, firstName: "X" })).statusCode,
    ).toBe(403);
    expect(
      (await call(readonly, "PATCH", `/api/v1/contacts/${contact.id}`, { version: 1, vip: true })).statusCode,
    ).toBe(403);
    expect((await call(readonly, "GET", `/api/v1/contacts/${contact.id}`)).statusCode).toBe(200);
  });

  it("keeps a technician limited to client A from finding, reading or changing client B's contacts", async () => {
    const a = await makeClient(t);
    const b = await makeClient(t);
    const line = randomLine();
    const shared = rand("Okafor");
    const mine = await makeContact(t, a.id, { lastName: shared, phone: `555${line}` });
    const theirs = await makeContact(t, b.id, { lastName: shared, phone: `555${line}` });
    const limited = await makeUser(t, { clientIds: [a.id] });

    expect((await find(limited, shared)).map((c) => c.id)).toEqual([mine.id]);
    expect((await find(limited, `(555) ${line}`)).map((c) => c.id)).toEqual([mine.id]);
    expect((await find(tech, shared)).map((c) => c.id).sort()).toEqual([mine.id, theirs.id].sort());
    expect((await call(limited, "GET", `/api/v1/contacts?clientId=${b.id}`)).statusCode).toBe(404);
    expect((await call(limited, "GET", `/api/v1/contacts/${theirs.id}`)).statusCode).toBe(404);
    expect((await call(limited, "GET", `/api/v1/contacts/${uuid()}`)).statusCode).toBe(404);
    const patch = await call(limited, "PATCH", `/api/v1/contacts/${theirs.id}`, { version: 1, vip: true });
    expect(patch.statusCode).toBe(404);
    const create = await call(limited, "POST", "/api/v1/contacts", { clientId: b.id, firstName: "Sneaky" });
    expect(create.statusCode).toBe(400);
    expect(create.json().error.details.issues[0].path).toBe("body.clientId");
    const untouched = await t.db
      .selectFrom("contacts")
      .select("vip")
      .where("id", "=", theirs.id)
      .executeTakeFirst();
    expect(untouched?.vip).toBe(false);
  });
});
