import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestApp,
  makeClient,
  makeTeam,
  makeUser,
  rand,
  type TestApp,
  type TestUser,
  uuid,
} from "../../../test/helpers.ts";

describe("users API", () => {
  let t: TestApp;
  let admin: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await makeUser(t, { role: "admin" });
  });
  afterAll(() => t.close());

  const call = (who: TestUser, method: "GET" | "POST" | "PATCH", url: string, payload?: object) =>
    t.app.inject({ method, url, headers: who.auth, payload });

  const newUserBody = (extra: object = {}) => ({
    email: `${rand("New.User-")}@Example.test`,
    name: rand("Dana "),
    role: "technician",
    password: "a long enough password",
    ...extra,
  });

  it("lets an admin create a user with an argon2id password that signs in, and never returns the hash", async () => {
    const client = await makeClient(t);
    const team = await makeTeam(t);
    const body = newUserBody({ allClients: false, clientIds: [client.id], teamIds: [team.id] });
    const res = await call(admin, "POST", "/api/v1/users", body);
    expect(res.statusCode).toBe(201);
    const user = res.json();
    expect(user).toMatchObject({
      email: body.email.toLowerCase(),
      role: "technician",
      allClients: false,
      clientIds: [client.id],
      teamIds: [team.id],
      version: 1,
    });
    expect(JSON.stringify(user)).not.toContain("argon2");
    expect(user).not.toHaveProperty("passwordHash");
    const row = await t.db
      .selectFrom("users")
      .select("password_hash")
      .where("id", "=", user.id)
      .executeTakeFirst();
    expect(row?.password_hash).toMatch(/^\$argon2id\$/);

    const login = await t.app.inject({
      method: "POST",
      url: "/api/v1/auth/login",
      payload: { email: body.email, password: body.password },
    });
    expect(login.statusCode).toBe(200);

    const audit = await t.db
      .selectFrom("audit_log")
      .selectAll()
      .where("entity_id", "=", user.id)
      .where("action", "=", "user.create")
      .executeTakeFirstOrThrow();
    expect(audit.actor_user_id).toBe(admin.id);
    expect(audit.after).toMatchObject({ email: user.email, clientIds: [client.id], teamIds: [team.id] });
    expect(JSON.stringify(audit.after)).not.toContain("argon2");
  });

  it("names every bad field, refuses duplicates and unknown references", async () => {
    const bad = await call(admin, "POST", "/api/v1/users", {
      email: "not-an-email",
      name: "",
      role: "wizard",
      password: "short",
    });
    expect(bad.statusCode).toBe(400);
    const paths = bad.json().error.details.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["body.email", "body.name", "body.role", "body.password"]));

    const body = newUserBody();
    expect((await call(admin, "POST", "/api/v1/users", body)).statusCode).toBe(201);
    const dup = await call(admin, "POST", "/api/v1/users", { ...body, email: body.email.toUpperCase() });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().error).toMatchObject({
      code: "conflict",
      details: { issues: [{ path: "body.email" }] },
    });

    const unknownTeam = await call(admin, "POST", "/api/v1/users", newUserBody({ teamIds: [uuid()] }));
    expect(unknownTeam.statusCode).toBe(400);
    expect(unknownTeam.json().error.details.issues[0].path).toBe("body.teamIds");
  });

  it("lets only admins create users", async () => {
    for (const role of ["dispatcher", "technician", "readonly"] as const) {
      const who = await makeUser(t, { role });
      const res = await call(who, "POST", "/api/v1/users", newUserBody());
      expect(res.statusCode).toBe(403);
    }
  });

  it("shows admins full records and everyone else the active users' id, name and role", async () => {
    const tech = await makeUser(t);
    const gone = await makeUser(t, { name: rand("Gone ") });
    await t.db.updateTable("users").set({ active: false }).where("id", "=", gone.id).execute();

    const full = await call(admin, "GET", "/api/v1/users?includeInactive=true");
    expect(full.statusCode).toBe(200);
    const mine = full.json().find((u: { id: string }) => u.id === tech.id);
    expect(mine).toMatchObject({ email: tech.email, allClients: true, active: true });
    expect(full.json().some((u: { id: string }) => u.id === gone.id)).toBe(true);

    const limited = await call(tech, "GET", "/api/v1/users?includeInactive=true");
    expect(limited.statusCode).toBe(200);
    const seen = limited.json();
    expect(seen.find((u: { id: string }) => u.id === admin.id)).toEqual({
      id: admin.id,
      name: admin.name,
      role: "admin",
    });
    expect(seen.some((u: { id: string }) => u.id === gone.id)).toBe(false);
    expect((await call(tech, "GET", `/api/v1/users/${gone.id}`)).statusCode).toBe(404);
    expect((await call(tech, "GET", `/api/v1/users/${admin.id}`)).json()).not.toHaveProperty("email");
    expect((await call(tech, "GET", `/api/v1/users/${tech.id}`)).json()).toHaveProperty("email", tech.email);

    const bad = await call(admin, "GET", "/api/v1/users?includeInactive=maybe");
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.issues[0].path).toBe("query.includeInactive");
  });

  it("answers a stale version with 412 and the current user", async () => {
    const created = (await call(admin, "POST", "/api/v1/users", newUserBody())).json();
    const first = await call(admin, "PATCH", `/api/v1/users/${created.id}`, {
      version: 1,
      name: "Renamed Once",
    });
    expect(first.statusCode).toBe(200);
    expect(first.json().version).toBe(2);
    const stale = await call(admin, "PATCH", `/api/v1/users/${created.id}`, {
      version: 1,
      name: "Lost Update",
    });
    expect(stale.statusCode).toBe(412);
    expect(stale.json().error).toMatchObject({
      code: "version_conflict",
      details: { current: { id: created.id, name: "Renamed Once", version: 2 } },
    });
    expect((await call(admin, "PATCH", `/api/v1/users/${uuid()}`, { version: 1 })).statusCode).toBe(404);
  });

  it("audits role, client limits and teams, and deactivation signs the user out everywhere", async () => {
    const body = newUserBody();
    const created = (await call(admin, "POST", "/api/v1/users", body)).json();
    const client = await makeClient(t);
    const team = await makeTeam(t);
    const changed = await call(admin, "PATCH", `/api/v1/users/${created.id}`, {
      version: 1,
      role: "dispatcher",
      allClients: false,
      clientIds: [client.id],
      teamIds: [team.id],
    });
    expect(changed.statusCode).toBe(200);
    const audit = await t.db
      .selectFrom("audit_log")
      .selectAll()
      .where("entity_id", "=", created.id)
      .where("action", "=", "user.role_change")
      .executeTakeFirstOrThrow();
    expect(audit.before).toEqual({ role: "technician", allClients: true, clientIds: [], teamIds: [] });
    expect(audit.after).toEqual({
      role: "dispatcher",
      allClients: false,
      clientIds: [client.id],
      teamIds: [team.id],
    });

    const login = await t.app.inject({
      method: "POST",
      url: "/api/v1/auth/login",
      payload: { email: body.email, password: body.password },
    });
    const cookie = login.cookies.find((c) => c.name === "sb_session")!.value;
    const me = () => t.app.inject({ method: "GET", url: "/api/v1/auth/me", cookies: { sb_session: cookie } });
    expect((await me()).statusCode).toBe(200);

    const off = await call(admin, "PATCH", `/api/v1/users/${created.id}`, { version: 2, active: false });
    expect(off.statusCode).toBe(200);
    expect(off.json().active).toBe(false);
    expect((await me()).statusCode).toBe(401);
    const sessions = await t.db
      .selectFrom("sessions")
      .select("user_id")
      .where("user_id", "=", created.id)
      .execute();
    expect(sessions).toHaveLength(0);
    const deactivation = await t.db
      .selectFrom("audit_log")
      .selectAll()
      .where("entity_id", "=", created.id)
      .where("action", "=", "user.deactivate")
      .executeTakeFirstOrThrow();
    expect(deactivation.before).toEqual({ active: true });
    expect(deactivation.after).toEqual({ active: false });
  });

  it("lets users change their own name, time zone and password (with the current one), nothing else", async () => {
    const body = newUserBody();
    const created = (await call(admin, "POST", "/api/v1/users", body)).json();
    const token = await t.app.inject({
      method: "POST",
      url: "/api/v1/auth/login",
      payload: { email: body.email, password: body.password },
    });
    const cookies = { sb_session: token.cookies.find((c) => c.name === "sb_session")!.value };
    const patch = (payload: object, id = created.id) =>
      t.app.inject({ method: "PATCH", url: `/api/v1/users/${id}`, cookies, payload });

    const own = await patch({ version: 1, name: "Martin H.", timezone: "America/Detroit" });
    expect(own.statusCode).toBe(200);
    expect(own.json()).toMatchObject({ name: "Martin H.", timezone: "America/Detroit", version: 2 });
    expect((await patch({ version: 2, role: "admin" })).statusCode).toBe(403);
    expect((await patch({ version: 1, name: "Not me" }, admin.id)).statusCode).toBe(403);

    const noCurrent = await patch({ version: 2, password: "a brand new password" });
    expect(noCurrent.statusCode).toBe(400);
    expect(noCurrent.json().error.details.issues[0].path).toBe("body.currentPassword");
    const wrong = await patch({ version: 2, password: "a brand new password", currentPassword: "nope nope" });
    expect(wrong.statusCode).toBe(400);
    const ok = await patch({ version: 2, password: "a brand new password", currentPassword: body.password });
    expect(ok.statusCode).toBe(200);
    const login = await t.app.inject({
      method: "POST",
      url: "/api/v1/auth/login",
      payload: { email: body.email, password: "a brand new password" },
    });
    expect(login.statusCode).toBe(200);
    const audit = await t.db
      .selectFrom("audit_log")
      .select(["before", "after"])
      .where("entity_id", "=", created.id)
      .where("action", "=", "user.update")
      .orderBy("id", "desc")
      .executeTakeFirstOrThrow();
    expect(audit.after).toEqual({ password: "(changed)" });
  });

  it("ends a user's sessions when an admin resets their password", async () => {
    const body = newUserBody();
    const created = (await call(admin, "POST", "/api/v1/users", body)).json();
    const login = await t.app.inject({
      method: "POST",
      url: "/api/v1/auth/login",
      payload: { email: body.email, password: body.password },
    });
    const cookies = { sb_session: login.cookies.find((c) => c.name === "sb_session")!.value };
    const reset = await call(admin, "PATCH", `/api/v1/users/${created.id}`, {
      version: 1,
      password: "reset by the admin desk",
    });
    expect(reset.statusCode).toBe(200);
    expect((await t.app.inject({ method: "GET", url: "/api/v1/auth/me", cookies })).statusCode).toBe(401);
  });
});
