import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestApp,
  makeClient,
  makeUser,
  rand,
  type TestApp,
  type TestUser,
  uuid,
} from "../../../test/helpers.ts";

describe("clients and sites API", () => {
  let t: TestApp;
  let admin: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await makeUser(t, { role: "admin" });
  });
  afterAll(() => t.close());

  const call = (who: TestUser, method: "GET" | "POST" | "PATCH", url: string, payload?: object) =>
    t.app.inject({ method, url, headers: who.auth, payload });

  async function openTicket(clientId: string) {
    const status = await t.db
      .selectFrom("ticket_statuses")
      .select(["id", "category"])
      .where("name", "=", "Open")
      .executeTakeFirstOrThrow();
    await t.db
      .insertInto("tickets")
      .values({
        subject: "Reservation software down",
        client_id: clientId,
        type: "incident",
        source: "phone",
        priority: 1,
        status_id: status.id,
        status_category: status.category,
      })
      .execute();
  }

  it("creates a client with an audit row and a client.created event, and refuses a duplicate name", async () => {
    const name = rand("Bright Smiles Dental ");
    const res = await call(admin, "POST", "/api/v1/clients", {
      name,
      emailDomains: ["BrightSmiles.example"],
      phone: "(517) 555-0100",
    });
    expect(res.statusCode).toBe(201);
    const client = res.json();
    expect(client).toMatchObject({ name, emailDomains: ["brightsmiles.example"], version: 1, active: true });

    const audit = await t.db
      .selectFrom("audit_log")
      .selectAll()
      .where("entity_id", "=", client.id)
      .where("action", "=", "client.create")
      .executeTakeFirstOrThrow();
    expect(audit).toMatchObject({ actor_user_id: admin.id, client_id: client.id, before: null });
    expect(audit.after).toMatchObject({ name, phone: "(517) 555-0100" });
    const event = await t.db
      .selectFrom("domain_events")
      .selectAll()
      .where("client_id", "=", client.id)
      .where("type", "=", "client.created")
      .executeTakeFirst();
    expect(event?.payload).toMatchObject({ clientId: client.id, name });

    const dup = await call(admin, "POST", "/api/v1/clients", { name: name.toLowerCase() });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error).toMatchObject({
      code: "conflict",
      details: { issues: [{ path: "body.name" }] },
    });
  });

  it("names the bad fields and keeps readonly users and technicians from creating clients", async () => {
    const bad = await call(admin, "POST", "/api/v1/clients", { name: "", emailDomains: ["not a domain"] });
    expect(bad.statusCode).toBe(400);
    const paths = bad.json().error.details.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["body.name", "body.emailDomains.0"]));
    for (const role of ["readonly", "technician"] as const) {
      const who = await makeUser(t, { role });
      expect((await call(who, "POST", "/api/v1/clients", { name: rand("X ") })).statusCode).toBe(403);
    }
    const readonly = await makeUser(t, { role: "readonly" });
    const client = await makeClient(t);
    const site = await call(readonly, "POST", `/api/v1/clients/${client.id}/sites`, { name: "Main office" });
    expect(site.statusCode).toBe(403);
  });

  it("pages clients by name with a cursor and finds them by part of the name or a typo", async () => {
    const tag = rand("zq");
    for (const n of ["Charlie", "Alpha", "Bravo"]) await makeClient(t, `${tag} Library ${n}`);
    const first = await call(admin, "GET", `/api/v1/clients?q=${tag}&limit=2`);
    expect(first.statusCode).toBe(200);
    expect(first.json().items.map((c: { name: string }) => c.name)).toEqual([
      `${tag} Library Alpha`,
      `${tag} Library Bravo`,
    ]);
    const next = await call(
      admin,
      "GET",
      `/api/v1/clients?q=${tag}&limit=2&cursor=${first.json().nextCursor}`,
    );
    expect(next.json()).toEqual({
      items: [expect.objectContaining({ name: `${tag} Library Charlie` })],
      nextCursor: null,
    });

    const typo = await call(admin, "GET", `/api/v1/clients?q=${encodeURIComponent(`${tag} Librray Bravo`)}`);
    expect(typo.json().items.map((c: { name: string }) => c.name)).toContain(`${tag} Library Bravo`);

    const badCursor = await call(admin, "GET", "/api/v1/clients?cursor=garbage");
    expect(badCursor.statusCode).toBe(400);
    expect(badCursor.json().error.details.issues[0].path).toBe("query.cursor");
    const badLimit = await call(admin, "GET", "/api/v1/clients?limit=0");
    expect(badLimit.json().error.details.issues[0].path).toBe("query.limit");
  });

  it("counts open tickets and answers a stale update with 412 and the current client", async () => {
    const client = await makeClient(t);
    await openTicket(client.id);
    await openTicket(client.id);
    const got = await call(admin, "GET", `/api/v1/clients/${client.id}`);
    expect(got.json()).toMatchObject({ id: client.id, openTickets: 2 });
    // The list says it too, for every row (the clients page's "Open tickets" column).
    const listed = await call(admin, "GET", `/api/v1/clients?q=${encodeURIComponent(client.name)}`);
    expect(listed.json().items.find((c: { id: string }) => c.id === client.id)).toMatchObject({
      openTickets: 2,
    });

    const ok = await call(admin, "PATCH", `/api/v1/clients/${client.id}`, {
      version: 1,
      notes: "Gate code 4411",
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ notes: "Gate code 4411", version: 2, name: client.name });
    const stale = await call(admin, "PATCH", `/api/v1/clients/${client.id}`, {
      version: 1,
      notes: "overwrite",
    });
    expect(stale.statusCode).toBe(412);
    expect(stale.json().error).toMatchObject({
      code: "version_conflict",
      details: { current: { id: client.id, notes: "Gate code 4411", version: 2 } },
    });
    const audit = await t.db
      .selectFrom("audit_log")
      .selectAll()
      .where("entity_id", "=", client.id)
      .where("action", "=", "client.update")
      .executeTakeFirstOrThrow();
    expect(audit.before).toEqual({ notes: "" });
    expect(audit.after).toEqual({ notes: "Gate code 4411" });
    expect((await call(admin, "GET", `/api/v1/clients/${uuid()}`)).statusCode).toBe(404);
    expect((await call(admin, "GET", "/api/v1/clients/not-a-uuid")).json().error.details.issues[0].path).toBe(
      "params.id",
    );
  });

  it("adds and edits sites; a partial update leaves the other fields alone", async () => {
    const client = await makeClient(t);
    const tech = await makeUser(t);
    const bad = await call(tech, "POST", `/api/v1/clients/${client.id}/sites`, {
      name: "HQ",
      timezone: "Mars/Olympus",
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.issues[0].path).toBe("body.timezone");
    const res = await call(tech, "POST", `/api/v1/clients/${client.id}/sites`, {
      name: "Main branch",
      city: "Lansing",
      timezone: "America/Detroit",
    });
    expect(res.statusCode).toBe(201);
    const site = res.json();
    const edited = await call(tech, "PATCH", `/api/v1/sites/${site.id}`, {
      version: 1,
      phone: "517-555-0199",
    });
    expect(edited.json()).toMatchObject({
      timezone: "America/Detroit",
      city: "Lansing",
      phone: "517-555-0199",
    });
    const stale = await call(tech, "PATCH", `/api/v1/sites/${site.id}`, { version: 1, city: "Detroit" });
    expect(stale.statusCode).toBe(412);
    expect(stale.json().error.details.current).toMatchObject({ city: "Lansing", version: 2 });
    const list = await call(tech, "GET", `/api/v1/clients/${client.id}/sites`);
    expect(list.json()).toEqual([expect.objectContaining({ id: site.id, version: 2 })]);
    const event = await t.db
      .selectFrom("domain_events")
      .select("payload")
      .where("client_id", "=", client.id)
      .where("type", "=", "site.updated")
      .executeTakeFirstOrThrow();
    expect(event.payload).toMatchObject({ siteId: site.id, changed: ["phone"] });
  });

  it("keeps a technician limited to client A from listing, reading or touching client B", async () => {
    const a = await makeClient(t);
    const b = await makeClient(t);
    const siteB = (await call(admin, "POST", `/api/v1/clients/${b.id}/sites`, { name: "B office" })).json();
    const tech = await makeUser(t, { clientIds: [a.id] });

    const names = [];
    let cursor: string | null = null;
    for (let i = 0; i < 50; i++) {
      const url: string = `/api/v1/clients?limit=200${cursor ? `&cursor=${cursor}` : ""}`;
      const page = (await call(tech, "GET", url)).json();
      names.push(...page.items.map((c: { id: string }) => c.id));
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    expect(names).toEqual([a.id]);
    expect((await call(tech, "GET", `/api/v1/clients?q=${encodeURIComponent(b.name)}`)).json().items).toEqual(
      [],
    );

    for (const url of [
      `/api/v1/clients/${b.id}`,
      `/api/v1/clients/${b.id}/sites`,
      `/api/v1/sites/${siteB.id}`,
    ]) {
      const res = await call(tech, "GET", url);
      expect(res.statusCode, url).toBe(404);
    }
    expect(
      (await call(tech, "PATCH", `/api/v1/sites/${siteB.id}`, { version: 1, name: "Mine" })).statusCode,
    ).toBe(404);
    expect((await call(tech, "POST", `/api/v1/clients/${b.id}/sites`, { name: "Sneaky" })).statusCode).toBe(
      404,
    );
    expect((await call(tech, "GET", `/api/v1/clients/${a.id}`)).statusCode).toBe(200);
  });

  it("documents the directory endpoints in the OpenAPI document, tagged by domain", async () => {
    const res = await t.app.inject({ method: "GET", url: "/api/openapi.json" });
    expect(res.statusCode).toBe(200);
    const paths = res.json().paths;
    const tagOf = (path: string, method: string) => paths[path]?.[method]?.tags?.[0];
    expect(tagOf("/api/v1/users", "get")).toBe("users");
    expect(tagOf("/api/v1/teams/{id}", "delete")).toBe("teams");
    expect(tagOf("/api/v1/clients", "get")).toBe("clients");
    expect(tagOf("/api/v1/clients/{id}/sites", "post")).toBe("sites");
    expect(tagOf("/api/v1/contacts", "get")).toBe("contacts");
    expect(tagOf("/api/v1/audit", "get")).toBe("audit");
    const contactQuery = paths["/api/v1/contacts"].get.parameters.map((p: { name: string }) => p.name);
    expect(contactQuery).toEqual(
      expect.arrayContaining(["clientId", "q", "limit", "cursor", "includeInactive"]),
    );
  });
});
