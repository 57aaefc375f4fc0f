import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, makeClient, makeUser, type TestApp, type TestUser } from "../../../test/helpers.ts";

// What a newcomer to the API meets: one ticket shape from GET, POST and PATCH, public routes that say
// they need no credentials, priorities described as P1-P4.
let t: TestApp;
let tech: TestUser;

beforeAll(async () => {
  t = await createTestApp();
  tech = await makeUser(t);
});
afterAll(async () => t?.close());

describe("the ticket shape", () => {
  it("GET /tickets/{id} has the same TicketDto at the top level as POST and PATCH, and still `ticket`", async () => {
    const client = await makeClient(t);
    const created = await t.app.inject({
      method: "POST",
      url: "/api/v1/tickets",
      headers: tech.auth,
      payload: { subject: "Shapes", clientId: client.id, priority: 2 },
    });
    expect(created.statusCode).toBe(201);
    const c = created.json();
    const got = (
      await t.app.inject({ method: "GET", url: `/api/v1/tickets/${c.id}`, headers: tech.auth })
    ).json();
    const { ticket, timeline, olderBefore, ...top } = got;
    expect(top).toEqual(c);
    expect(ticket).toEqual(c);
    expect(Array.isArray(timeline)).toBe(true);
    expect(olderBefore).toBeNull();

    const patched = await t.app.inject({
      method: "PATCH",
      url: `/api/v1/tickets/${c.id}`,
      headers: tech.auth,
      payload: { priority: 1, version: got.version },
    });
    const p = patched.json();
    const again = (
      await t.app.inject({ method: "GET", url: `/api/v1/tickets/${c.id}`, headers: tech.auth })
    ).json();
    expect(Object.keys(p).sort()).toEqual(Object.keys(c).sort());
    expect({ ...again, ticket: undefined, timeline: undefined, olderBefore: undefined }).toMatchObject(p);
  });
});

describe("the OpenAPI document", () => {
  it("marks the public routes as needing no credentials and every other route as needing them", async () => {
    const doc = (await t.app.inject({ method: "GET", url: "/api/openapi.json" })).json();
    expect(doc.security).toEqual([{ bearer: [] }, { session: [] }]);
    const op = (path: string, method: string) => doc.paths[path]?.[method];
    for (const [path, method] of [
      ["/api/v1/setup", "get"],
      ["/api/v1/setup", "post"],
      ["/api/v1/auth/login", "post"],
      ["/api/v1/agent/enroll", "post"],
      ["/agent/download/{target}", "get"],
    ] as const) {
      expect(op(path, method), `${method} ${path}`).toBeDefined();
      expect(op(path, method).security, `${method} ${path}`).toEqual([]);
    }
    // A signed-in route inherits the document's requirement.
    expect(op("/api/v1/tickets", "get").security).toBeUndefined();
    expect(op("/api/v1/tickets/{id}", "patch").security).toBeUndefined();
  });

  it("describes priorities as P1-P4", async () => {
    const doc = (await t.app.inject({ method: "GET", url: "/api/openapi.json" })).json();
    const text = JSON.stringify(doc.paths["/api/v1/tickets"].post);
    expect(text).toContain("P1 (critical)");
    expect(text).toContain("P4 (low)");
    const bad = await t.app.inject({
      method: "POST",
      url: "/api/v1/tickets",
      headers: tech.auth,
      payload: { subject: "x", clientId: (await makeClient(t)).id, priority: 5 },
    });
    expect(bad.json().error.details.issues[0]).toEqual({
      path: "body.priority",
      message: "must be 1 (P1, critical) to 4 (P4, low)",
    });
  });
});
