import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, makeClient, makeUser, type TestApp, type TestUser } from "../../../test/helpers.ts";
import { hashPassword } from "./crypto.ts";

let t: TestApp;
let admin: TestUser;

beforeAll(async () => {
  t = await createTestApp();
  admin = await makeUser(t, { role: "admin" });
});
afterAll(() => t.close());

const PASSWORD = "correct horse battery staple";

async function withPassword(user: TestUser) {
  await t.db
    .updateTable("users")
    .set({ password_hash: await hashPassword(PASSWORD) })
    .where("id", "=", user.id)
    .execute();
  return user;
}

async function signIn(email: string, password = PASSWORD) {
  const res = await t.app.inject({ method: "POST", url: "/api/v1/auth/login", payload: { email, password } });
  expect(res.statusCode).toBe(200);
  return { cookie: `sb_session=${res.cookies.find((c) => c.name === "sb_session")!.value}` };
}

const me = (headers: Record<string, string>) =>
  t.app.inject({ method: "GET", url: "/api/v1/auth/me", headers });

describe("sessions and account changes", () => {
  it("ends my other sessions when I change my password, keeps this one, and revokes my tokens if I ask", async () => {
    const user = await withPassword(await makeUser(t));
    const laptop = await signIn(user.email);
    const stolen = await signIn(user.email);
    const current = (
      await t.app.inject({ method: "GET", url: `/api/v1/users/${user.id}`, headers: laptop })
    ).json();
    const res = await t.app.inject({
      method: "PATCH",
      url: `/api/v1/users/${user.id}`,
      headers: laptop,
      payload: {
        version: current.version,
        password: "a brand new passphrase",
        currentPassword: PASSWORD,
        revokeApiTokens: true,
      },
    });
    expect(res.statusCode).toBe(200);
    expect((await me(laptop)).statusCode).toBe(200);
    expect((await me(stolen)).statusCode).toBe(401);
    expect((await me(user.auth)).statusCode).toBe(401);
    const audit = await t.db
      .selectFrom("audit_log")
      .select(["after"])
      .where("entity_id", "=", user.id)
      .where("action", "=", "user.update")
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(audit.after)).not.toContain("brand new");
    expect(audit.after).toMatchObject({ password: "(changed)", apiTokens: "(all revoked)" });
  });

  it("does not let a client-limited admin lift their own limit or manage other users", async () => {
    const a = await makeClient(t);
    const limited = await makeUser(t, { role: "admin", clientIds: [a.id] });
    const self = (
      await t.app.inject({ method: "GET", url: `/api/v1/users/${limited.id}`, headers: limited.auth })
    ).json();
    const lift = await t.app.inject({
      method: "PATCH",
      url: `/api/v1/users/${limited.id}`,
      headers: limited.auth,
      payload: { version: self.version, allClients: true },
    });
    expect(lift.statusCode).toBe(403);
    const other = await makeUser(t);
    const promote = await t.app.inject({
      method: "PATCH",
      url: `/api/v1/users/${other.id}`,
      headers: limited.auth,
      payload: { version: 1, role: "admin" },
    });
    expect(promote.statusCode).toBe(403);
    const create = await t.app.inject({
      method: "POST",
      url: "/api/v1/users",
      headers: limited.auth,
      payload: { email: "new@example.test", name: "New", role: "admin" },
    });
    expect(create.statusCode).toBe(403);
    // Their own name is still theirs to change.
    const rename = await t.app.inject({
      method: "PATCH",
      url: `/api/v1/users/${limited.id}`,
      headers: limited.auth,
      payload: { version: self.version, name: "Limited Admin" },
    });
    expect(rename.statusCode).toBe(200);
  });

  it("shows a client-limited admin only their clients' entries in the audit log", async () => {
    const a = await makeClient(t);
    const b = await makeClient(t);
    for (const c of [a, b]) {
      await t.app.inject({
        method: "POST",
        url: "/api/v1/tickets",
        headers: admin.auth,
        payload: { subject: `Audit trail ${c.id}`, clientId: c.id },
      });
    }
    const limited = await makeUser(t, { role: "admin", clientIds: [a.id] });
    const page = (
      await t.app.inject({ method: "GET", url: "/api/v1/audit?limit=200", headers: limited.auth })
    ).json();
    const clients = new Set(page.items.map((e: { clientId: string | null }) => e.clientId));
    expect(clients).toEqual(new Set([a.id]));
    const full = (
      await t.app.inject({ method: "GET", url: "/api/v1/audit?limit=200", headers: admin.auth })
    ).json();
    expect(full.items.some((e: { clientId: string | null }) => e.clientId === b.id)).toBe(true);
  });

  it("finds users by email only for those who manage users", async () => {
    const target = await makeUser(t, { name: "Quinn Zeta" });
    const readonly = await makeUser(t, { role: "readonly" });
    const probe = `/api/v1/users?q=${encodeURIComponent(target.email)}`;
    const asReadonly = (await t.app.inject({ method: "GET", url: probe, headers: readonly.auth })).json();
    expect(asReadonly.items ?? asReadonly).toEqual([]);
    const byName = (
      await t.app.inject({ method: "GET", url: "/api/v1/users?q=Quinn", headers: readonly.auth })
    ).json();
    expect(JSON.stringify(byName)).toContain(target.id);
    expect(JSON.stringify(byName)).not.toContain(target.email);
    const asAdmin = (await t.app.inject({ method: "GET", url: probe, headers: admin.auth })).json();
    expect(JSON.stringify(asAdmin)).toContain(target.id);
  });
});
