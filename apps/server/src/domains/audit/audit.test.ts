import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, makeUser, rand, type TestApp, type TestUser } from "../../../test/helpers.ts";

describe("audit API", () => {
  let t: TestApp;
  let admin: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await makeUser(t, { role: "admin" });
  });
  afterAll(() => t.close());

  const get = (who: TestUser, url: string) => t.app.inject({ method: "GET", url, headers: who.auth });

  it("is for admins only", async () => {
    for (const role of ["dispatcher", "technician", "readonly"] as const) {
      const who = await makeUser(t, { role });
      const res = await get(who, "/api/v1/audit");
      expect(res.statusCode).toBe(403);
      expect(res.json().error.code).toBe("forbidden");
    }
  });

  it("shows who changed what, newest first, with before/after, filtered and paged on id", async () => {
    const create = await t.app.inject({
      method: "POST",
      url: "/api/v1/clients",
      headers: admin.auth,
      payload: { name: rand("Lansing Public Library ") },
    });
    const client = create.json();
    for (const [version, notes] of [
      [1, "first"],
      [2, "second"],
    ] as const) {
      const res = await t.app.inject({
        method: "PATCH",
        url: `/api/v1/clients/${client.id}`,
        headers: admin.auth,
        payload: { version, notes },
      });
      expect(res.statusCode).toBe(200);
    }

    const first = await get(admin, `/api/v1/audit?entityType=client&entityId=${client.id}&limit=2`);
    expect(first.statusCode).toBe(200);
    const page = first.json();
    expect(page.items.map((e: { action: string }) => e.action)).toEqual(["client.update", "client.update"]);
    expect(page.items[0]).toMatchObject({
      actor: { userId: admin.id, label: admin.name },
      entityType: "client",
      entityId: client.id,
      clientId: client.id,
      before: { notes: "first" },
      after: { notes: "second" },
    });
    expect(page.items[0].id).toBeGreaterThan(page.items[1].id);
    expect(page.nextBefore).toBe(page.items[1].id);

    const rest = (await get(admin, `/api/v1/audit?entityId=${client.id}&before=${page.nextBefore}`)).json();
    expect(rest.items).toEqual([expect.objectContaining({ action: "client.create", before: null })]);
    expect(rest.nextBefore).toBeNull();

    const byAction = (await get(admin, `/api/v1/audit?actorUserId=${admin.id}&action=client.create`)).json();
    expect(byAction.items.map((e: { entityId: string }) => e.entityId)).toContain(client.id);
    expect(byAction.items.every((e: { action: string }) => e.action === "client.create")).toBe(true);

    const bad = await get(admin, "/api/v1/audit?limit=500&actorUserId=x");
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.issues.map((i: { path: string }) => i.path)).toEqual(
      expect.arrayContaining(["query.limit", "query.actorUserId"]),
    );
  });
});
