import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, rand, type TestApp } from "../../../test/helpers.ts";
import { hashPassword } from "./crypto.ts";

let t: TestApp;
const PASSWORD = "library-reservations-42";

async function makeLoginUser(role: "admin" | "technician" = "technician") {
  const email = `${rand("login-")}@example.test`;
  const user = await t.db
    .insertInto("users")
    .values({ email, name: "Sam Login", role, password_hash: await hashPassword(PASSWORD) })
    .returning("id")
    .executeTakeFirstOrThrow();
  return { id: user.id, email };
}

const login = (email: string, password: string, ip = "203.0.113.9") =>
  t.app.inject({
    method: "POST",
    url: "/api/v1/auth/login",
    payload: { email, password },
    remoteAddress: ip,
  });

beforeAll(async () => {
  // A small per-address limit keeps the test short: each failed sign-in costs an argon2 verification.
  t = await createTestApp({ LOGIN_MAX_FAILURES_PER_ADDRESS: "8" });
});
afterAll(() => t.close());

describe("sessions", () => {
  it("signs in with a cookie session, reaches the API, and signs out", async () => {
    const u = await makeLoginUser();
    const res = await login(u.email.toUpperCase(), PASSWORD);
    expect(res.statusCode).toBe(200);
    const cookie = res.cookies.find((c) => c.name === "sb_session")!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/" });
    const me = await t.app.inject({
      method: "GET",
      url: "/api/v1/auth/me",
      cookies: { sb_session: cookie.value },
    });
    expect(me.json()).toMatchObject({ id: u.id, role: "technician" });
    // Only a hash of the session token is stored.
    const stored = await t.db
      .selectFrom("sessions")
      .select("token_hash")
      .where("user_id", "=", u.id)
      .execute();
    expect(stored.map((s) => s.token_hash)).not.toContain(cookie.value);

    const out = await t.app.inject({
      method: "POST",
      url: "/api/v1/auth/logout",
      cookies: { sb_session: cookie.value },
    });
    expect(out.statusCode).toBe(204);
    const after = await t.app.inject({
      method: "GET",
      url: "/api/v1/auth/me",
      cookies: { sb_session: cookie.value },
    });
    expect(after.statusCode).toBe(401);
  });

  it("refuses a cross-site request that carries the session cookie", async () => {
    const u = await makeLoginUser();
    const cookie = (await login(u.email, PASSWORD)).cookies.find((c) => c.name === "sb_session")!;
    const res = await t.app.inject({
      method: "POST",
      url: "/api/v1/auth/tokens",
      cookies: { sb_session: cookie.value },
      headers: { origin: "https://evil.example", host: "switchboard.local" },
      payload: { name: "stolen" },
    });
    expect(res.statusCode).toBe(403);
    const same = await t.app.inject({
      method: "POST",
      url: "/api/v1/auth/tokens",
      cookies: { sb_session: cookie.value },
      headers: { origin: "http://switchboard.local", host: "switchboard.local" },
      payload: { name: "mine" },
    });
    expect(same.statusCode).toBe(201);
  });

  it("rate-limits failed sign-ins per account, even with the right password afterwards", async () => {
    const u = await makeLoginUser();
    for (let i = 0; i < 5; i++) {
      const bad = await login(u.email, "wrong password!", `198.51.100.${i + 1}`);
      expect(bad.statusCode).toBe(401);
      expect(bad.json().error.message).toBe("Wrong email or password");
    }
    const blocked = await login(u.email, PASSWORD, "198.51.100.200");
    expect(blocked.statusCode).toBe(429);
    expect(blocked.json().error.code).toBe("rate_limited");
  });

  it("rate-limits failed sign-ins per address across accounts", async () => {
    const ip = `192.0.2.${Math.floor(Math.random() * 200) + 1}`;
    let last = 0;
    for (let i = 0; i < 12 && last !== 429; i++) {
      last = (await login(`${rand("nobody-")}@example.test`, "whatever-it-is", ip)).statusCode;
    }
    expect(last).toBe(429);
  });

  it("answers an unknown account exactly like a wrong password", async () => {
    const res = await login(`${rand("ghost-")}@example.test`, "whatever-it-is", "192.0.2.250");
    expect(res.statusCode).toBe(401);
    expect(res.json().error.message).toBe("Wrong email or password");
  });
});

describe("API tokens", () => {
  it("are shown once, stored hashed, work as Bearer, and stop working when revoked", async () => {
    const u = await makeLoginUser();
    const cookie = (await login(u.email, PASSWORD)).cookies.find((c) => c.name === "sb_session")!;
    const created = await t.app.inject({
      method: "POST",
      url: "/api/v1/auth/tokens",
      cookies: { sb_session: cookie.value },
      payload: { name: "PSA sync" },
    });
    expect(created.statusCode).toBe(201);
    const { id, token } = created.json();
    expect(token).toMatch(/^sb_/);
    const row = await t.db
      .selectFrom("api_tokens")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    expect(row.token_hash).not.toContain(token);
    const listed = await t.app.inject({
      method: "GET",
      url: "/api/v1/auth/tokens",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(listed.statusCode).toBe(200);
    expect(JSON.stringify(listed.json())).not.toContain(token);

    const revoked = await t.app.inject({
      method: "DELETE",
      url: `/api/v1/auth/tokens/${id}`,
      headers: { authorization: `Bearer ${token}` },
    });
    expect(revoked.json().revokedAt).not.toBeNull();
    const after = await t.app.inject({
      method: "GET",
      url: "/api/v1/auth/me",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(after.statusCode).toBe(401);
    const audit = await t.db.selectFrom("audit_log").select("action").where("entity_id", "=", id).execute();
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(["api_token.create", "api_token.revoke"]),
    );
  });

  it("a garbage token is 401, and no credentials at all is 401", async () => {
    const res = await t.app.inject({
      method: "GET",
      url: "/api/v1/tickets",
      headers: { authorization: "Bearer nope" },
    });
    expect(res.statusCode).toBe(401);
    expect((await t.app.inject({ method: "GET", url: "/api/v1/tickets" })).statusCode).toBe(401);
  });
});
