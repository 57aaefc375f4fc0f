import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, makeUser, rand, type TestApp, type TestUser } from "../../../test/helpers.ts";

describe("statuses admin", () => {
  let t: TestApp;
  let admin: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await makeUser(t, { role: "admin" });
  });
  afterAll(() => t.close());

  it("renames and moves an added status (its tickets follow), keeps a built-in one's category, refuses a taken name", async () => {
    const name = rand("Waiting on parts ");
    const created = await t.app.inject({
      method: "POST",
      url: "/api/v1/statuses",
      headers: admin.auth,
      payload: { name, category: "waiting_third_party" },
    });
    expect(created.statusCode).toBe(201);
    const id = created.json().id;
    const moved = await t.app.inject({
      method: "PATCH",
      url: `/api/v1/statuses/${id}`,
      headers: admin.auth,
      payload: { name: `${name} (vendor)`, category: "scheduled", sortOrder: 55 },
    });
    expect(moved.statusCode).toBe(200);
    expect(moved.json()).toMatchObject({
      name: `${name} (vendor)`,
      category: "scheduled",
      sortOrder: 55,
      builtin: false,
    });

    const statuses = (
      await t.app.inject({ method: "GET", url: "/api/v1/statuses", headers: admin.auth })
    ).json();
    const builtin = statuses.find((s: { builtin: boolean }) => s.builtin);
    const locked = await t.app.inject({
      method: "PATCH",
      url: `/api/v1/statuses/${builtin.id}`,
      headers: admin.auth,
      payload: { category: builtin.category === "closed" ? "open" : "closed" },
    });
    expect(locked.statusCode).toBe(400);
    expect(locked.json().error.details.issues[0].path).toBe("body.category");
    const taken = await t.app.inject({
      method: "PATCH",
      url: `/api/v1/statuses/${id}`,
      headers: admin.auth,
      payload: { name: builtin.name.toUpperCase() },
    });
    expect(taken.statusCode).toBe(409);
    const tech = await makeUser(t, { role: "technician" });
    expect(
      (
        await t.app.inject({
          method: "PATCH",
          url: `/api/v1/statuses/${id}`,
          headers: tech.auth,
          payload: { sortOrder: 1 },
        })
      ).statusCode,
    ).toBe(403);

    const log = (
      await t.app.inject({
        method: "GET",
        url: `/api/v1/audit?entityId=${id}&from=${encodeURIComponent(new Date(Date.now() - 60_000).toISOString())}`,
        headers: admin.auth,
      })
    ).json();
    expect(log.items.map((e: { action: string }) => e.action)).toEqual(["status.update", "status.create"]);
    const future = (
      await t.app.inject({
        method: "GET",
        url: `/api/v1/audit?entityId=${id}&from=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`,
        headers: admin.auth,
      })
    ).json();
    expect(future.items).toEqual([]);
  });
});
