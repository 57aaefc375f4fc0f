import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, makeUser, rand, type TestApp, type TestUser, uuid } from "../../../test/helpers.ts";

describe("teams API", () => {
  let t: TestApp;
  let dispatcher: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    dispatcher = await makeUser(t, { role: "dispatcher" });
  });
  afterAll(() => t.close());

  const call = (who: TestUser, method: "GET" | "POST" | "PATCH" | "DELETE", url: string, payload?: object) =>
    t.app.inject({ method, url, headers: who.auth, payload });

  it("creates a team with members, lists it, and refuses duplicates and unknown members by field", async () => {
    const tech = await makeUser(t);
    const name = rand("Service Desk ");
    const res = await call(dispatcher, "POST", "/api/v1/teams", { name, memberIds: [tech.id] });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ name, description: "", memberIds: [tech.id], version: 1 });

    const list = await call(tech, "GET", "/api/v1/teams");
    expect(list.json().find((x: { name: string }) => x.name === name)).toMatchObject({
      memberIds: [tech.id],
    });
    const me = await call(tech, "GET", "/api/v1/auth/me");
    expect(me.json().teamIds).toContain(res.json().id);

    const dup = await call(dispatcher, "POST", "/api/v1/teams", { name: name.toUpperCase() });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error.details.issues[0].path).toBe("body.name");
    const unknown = await call(dispatcher, "POST", "/api/v1/teams", {
      name: rand("T "),
      memberIds: [uuid()],
    });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.details.issues[0].path).toBe("body.memberIds");
    const empty = await call(dispatcher, "POST", "/api/v1/teams", { name: "  " });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().error.details.issues[0].path).toBe("body.name");
  });

  it("lets only admins and dispatchers change teams", async () => {
    for (const role of ["technician", "readonly"] as const) {
      const who = await makeUser(t, { role });
      expect((await call(who, "POST", "/api/v1/teams", { name: rand("Nope ") })).statusCode).toBe(403);
    }
  });

  it("updates with optimistic concurrency, audits membership, and deletes", async () => {
    const a = await makeUser(t);
    const b = await makeUser(t);
    const team = (
      await call(dispatcher, "POST", "/api/v1/teams", { name: rand("Projects "), memberIds: [a.id] })
    ).json();
    const moved = await call(dispatcher, "PATCH", `/api/v1/teams/${team.id}`, {
      version: 1,
      memberIds: [b.id],
    });
    expect(moved.statusCode).toBe(200);
    expect(moved.json()).toMatchObject({ memberIds: [b.id], version: 2 });
    const stale = await call(dispatcher, "PATCH", `/api/v1/teams/${team.id}`, {
      version: 1,
      description: "x",
    });
    expect(stale.statusCode).toBe(412);
    expect(stale.json().error.details.current).toMatchObject({ id: team.id, memberIds: [b.id], version: 2 });

    const audit = await t.db
      .selectFrom("audit_log")
      .selectAll()
      .where("entity_id", "=", team.id)
      .where("action", "=", "team.update")
      .executeTakeFirstOrThrow();
    expect(audit.before).toEqual({ memberIds: [a.id] });
    expect(audit.after).toEqual({ memberIds: [b.id] });

    expect((await call(dispatcher, "DELETE", `/api/v1/teams/${team.id}`)).statusCode).toBe(204);
    expect((await call(dispatcher, "GET", `/api/v1/teams/${team.id}`)).statusCode).toBe(404);
    expect((await call(dispatcher, "DELETE", `/api/v1/teams/${team.id}`)).statusCode).toBe(404);
    const deleted = await t.db
      .selectFrom("audit_log")
      .selectAll()
      .where("entity_id", "=", team.id)
      .where("action", "=", "team.delete")
      .executeTakeFirstOrThrow();
    expect(deleted.before).toMatchObject({ id: team.id, memberIds: [b.id] });
  });
});
