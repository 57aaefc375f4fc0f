import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestApp,
  makeClient,
  makeContact,
  makeUser,
  rand,
  type TestApp,
  type TestUser,
} from "../../../test/helpers.ts";

let t: TestApp;
let tech: TestUser;

const search = async (user: TestUser, q: string) => {
  const res = await t.app.inject({
    method: "GET",
    url: `/api/v1/search?q=${encodeURIComponent(q)}`,
    headers: user.auth,
  });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
};

beforeAll(async () => {
  t = await createTestApp();
  tech = await makeUser(t);
});
afterAll(() => t.close());

describe("search", () => {
  it("finds a ticket by number with or without #", async () => {
    const client = await makeClient(t);
    const created = await t.app.inject({
      method: "POST",
      url: "/api/v1/tickets",
      headers: tech.auth,
      payload: { subject: "Bluescreen on front desk PC", clientId: client.id },
    });
    const { id, number } = created.json();
    for (const q of [String(number), `#${number}`]) {
      const r = await search(tech, q);
      expect(r.tickets.map((x: { id: string }) => x.id)).toEqual([id]);
    }
  });

  it("finds tickets by words in the subject and in the timeline, best match first", async () => {
    const client = await makeClient(t);
    const word = rand("zebra").toLowerCase();
    const mk = async (subject: string) =>
      (
        await t.app.inject({
          method: "POST",
          url: "/api/v1/tickets",
          headers: tech.auth,
          payload: { subject, clientId: client.id },
        })
      ).json();
    const inSubject = await mk(`Reservation software ${word} stopped`);
    const inTimeline = await mk("Library machines offline");
    await t.app.inject({
      method: "POST",
      url: `/api/v1/tickets/${inTimeline.id}/timeline`,
      headers: tech.auth,
      payload: { kind: "note", body: `Restarted the ${word} reservation service on the server` },
    });
    await mk(`Unrelated printer trouble`);
    const r = await search(tech, `${word} reservation`);
    const ids = r.tickets.map((x: { id: string }) => x.id);
    expect(ids).toHaveLength(2);
    expect(ids[0]).toBe(inSubject.id); // subject weighs more than timeline text
    expect(ids).toContain(inTimeline.id);
    // Stemming: the plural finds the singular.
    const plural = await search(tech, `${word} reservations`);
    expect(plural.tickets).toHaveLength(2);
  });

  it("finds a contact by phone in any format, by email and by name", async () => {
    const client = await makeClient(t, rand("Riverside Dental "));
    const last = rand("Okafor");
    const digits = String(Math.floor(2000000 + Math.random() * 7999999));
    const phone = `(555) ${digits.slice(0, 3)}-${digits.slice(3)}`;
    const contact = await makeContact(t, client.id, {
      firstName: "Ada",
      lastName: last,
      phone,
      email: `${last.toLowerCase()}@riverside.example`,
    });
    for (const q of [
      phone,
      `555.${digits.slice(0, 3)}.${digits.slice(3)}`,
      `+1 555 ${digits.slice(0, 3)} ${digits.slice(3)}`,
      `555${digits}`,
    ]) {
      const r = await search(tech, q);
      expect(
        r.contacts.map((c: { id: string }) => c.id),
        q,
      ).toContain(contact.id);
    }
    const byEmail = await search(tech, `${last.toLowerCase()}@riverside.example`);
    expect(byEmail.contacts[0]).toMatchObject({ id: contact.id, client: { id: client.id } });
    const byName = await search(tech, `ada ${last}`);
    expect(byName.contacts[0].id).toBe(contact.id);
    const byClient = await search(tech, client.name.slice(0, 14));
    expect(byClient.clients.map((c: { id: string }) => c.id)).toContain(client.id);
  });

  it("never shows a limited technician another client's tickets, contacts or clients", async () => {
    const mine = await makeClient(t);
    const other = await makeClient(t, rand("Hidden Law "));
    const limited = await makeUser(t, { clientIds: [mine.id] });
    const word = rand("quokka").toLowerCase();
    const created = await t.app.inject({
      method: "POST",
      url: "/api/v1/tickets",
      headers: tech.auth,
      payload: { subject: `Scanner ${word}`, clientId: other.id },
    });
    const contact = await makeContact(t, other.id, { lastName: word });
    expect((await search(tech, word)).tickets).toHaveLength(1);
    const r = await search(limited, word);
    expect(r.tickets).toEqual([]);
    expect(r.contacts.map((c: { id: string }) => c.id)).not.toContain(contact.id);
    expect((await search(limited, String(created.json().number))).tickets).toEqual([]);
    expect((await search(limited, other.name)).clients).toEqual([]);
  });

  it("finds clients by a word inside their name or domain, contacts by part of an address, tickets by a word's start", async () => {
    const tag = rand("").slice(0, 6);
    const client = await t.db
      .insertInto("clients")
      .values({ name: `Riverbend${tag} Family Dentistry`, email_domains: [`riverbend${tag}dental.example`] })
      .returningAll()
      .executeTakeFirstOrThrow();
    // "dental" is in the domain only; "dentist" is inside a word of the name; "family" starts a word.
    for (const q of [`${tag}dental`, "dental", "Dentist"]) {
      const r = await search(tech, q);
      expect(
        r.clients.map((c: { id: string }) => c.id),
        q,
      ).toContain(client.id);
    }
    const contact = await makeContact(t, client.id, { email: `front.desk@riverbend${tag}dental.example` });
    expect((await search(tech, `riverbend${tag}`)).contacts.map((c: { id: string }) => c.id)).toContain(
      contact.id,
    );
    const word = `zephyr${tag}`;
    const created = await t.app.inject({
      method: "POST",
      url: "/api/v1/tickets",
      headers: tech.auth,
      payload: { subject: `Outlook ${word}wave crashes`, clientId: client.id },
    });
    const byPrefix = await search(tech, `outlook ${word.slice(0, 9)}`);
    expect(byPrefix.tickets.map((x: { id: string }) => x.id)).toContain(created.json().id);
    // Operators still mean what they say; odd characters are not query syntax.
    expect((await search(tech, `"outlook ${word}wave" -printer`)).tickets).toHaveLength(1);
    expect((await search(tech, `${word}':*|!(&`)).tickets).toHaveLength(1);
  });

  it("rejects an empty query naming the field", async () => {
    const res = await t.app.inject({ method: "GET", url: "/api/v1/search?q=", headers: tech.auth });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.issues[0].path).toBe("query.q");
  });
});
