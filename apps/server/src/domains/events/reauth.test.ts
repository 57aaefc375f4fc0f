import http from "node:http";
import type { AddressInfo } from "node:net";
import type { LiveEvent } from "@switchboard/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, makeClient, makeUser, type TestApp, type TestUser } from "../../../test/helpers.ts";
import { hashPassword } from "../auth/crypto.ts";

// An open live stream follows the user's access as it changes: permissions are not read once at open.

let t: TestApp;
let base: string;
let admin: TestUser;

beforeAll(async () => {
  t = await createTestApp();
  await t.app.listen({ port: 0, host: "127.0.0.1" });
  base = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
  admin = await makeUser(t, { role: "admin" });
});
afterAll(() => t.close());

interface Stream {
  events: LiveEvent[];
  /** When the server ended the stream (ms since epoch), or null while it is open. */
  endedAt: number | null;
  /** How often the server said the user's access changed (the console then reloads what it shows). */
  rescoped: number;
  ready: Promise<void>;
  close(): void;
}

function openStream(headers: Record<string, string>): Stream {
  const s: Stream = { events: [], endedAt: null, rescoped: 0, ready: Promise.resolve(), close: () => {} };
  let markReady: () => void = () => {};
  s.ready = new Promise((r) => {
    markReady = r;
  });
  const req = http.get(`${base}/api/v1/events/stream`, { headers }, (res) => {
    let buf = "";
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      buf += chunk;
      for (let i = buf.indexOf("\n\n"); i >= 0; i = buf.indexOf("\n\n")) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        const type = /^event: (.*)$/m.exec(block)?.[1];
        const data = /^data: (.*)$/m.exec(block)?.[1];
        if (type === "ready") markReady();
        else if (type === "rescoped") s.rescoped++;
        else if (data && type !== "signal" && type !== "revoked") s.events.push(JSON.parse(data));
      }
    });
    res.on("end", () => {
      s.endedAt = Date.now();
    });
  });
  req.on("error", () => {});
  s.close = () => req.destroy();
  return s;
}

/** Waits (bounded) until `check` holds. */
async function until(check: () => boolean, ms = 3000) {
  const end = Date.now() + ms;
  while (!check() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  return check();
}

const createTicket = (user: TestUser, clientId: string, subject: string) =>
  t.app.inject({
    method: "POST",
    url: "/api/v1/tickets",
    headers: user.auth,
    payload: { subject, clientId },
  });

const patchUser = async (id: string, body: Record<string, unknown>) => {
  const current = (
    await t.app.inject({ method: "GET", url: `/api/v1/users/${id}`, headers: admin.auth })
  ).json();
  return t.app.inject({
    method: "PATCH",
    url: `/api/v1/users/${id}`,
    headers: admin.auth,
    payload: { version: current.version, ...body },
  });
};

async function signIn(email: string, password: string) {
  const res = await t.app.inject({ method: "POST", url: "/api/v1/auth/login", payload: { email, password } });
  expect(res.statusCode).toBe(200);
  const cookie = res.cookies.find((c) => c.name === "sb_session")!;
  return { cookie: `sb_session=${cookie.value}` };
}

describe("live stream re-authorisation", () => {
  it("stops delivering a client's events the moment the user is limited to another client", async () => {
    const a = await makeClient(t);
    const b = await makeClient(t);
    const tech = await makeUser(t);
    const stream = openStream(tech.auth);
    await stream.ready;
    try {
      expect((await createTicket(admin, b.id, "before the limit")).statusCode).toBe(201);
      expect(await until(() => stream.events.some((e) => e.payload.subject === "before the limit"))).toBe(
        true,
      );

      expect((await patchUser(tech.id, { allClients: false, clientIds: [a.id] })).statusCode).toBe(200);
      // Written right after the change: the stream must already be re-scoped when this event arrives.
      await createTicket(admin, b.id, "after the limit, B");
      await createTicket(admin, a.id, "after the limit, A");
      expect(await until(() => stream.events.some((e) => e.payload.subject === "after the limit, A"))).toBe(
        true,
      );
      expect(stream.events.some((e) => e.payload.subject === "after the limit, B")).toBe(false);
      expect(stream.rescoped).toBe(1);
      expect(stream.endedAt).toBeNull();
    } finally {
      stream.close();
    }
  });

  it("ends within a second of sign-out, token revocation and deactivation", async () => {
    const password = "correct horse battery staple";
    const user = await makeUser(t);
    await t.db
      .updateTable("users")
      .set({ password_hash: await hashPassword(password) })
      .where("id", "=", user.id)
      .execute();

    // Sign-out of a cookie session.
    const session = await signIn(user.email, password);
    const byCookie = openStream(session);
    await byCookie.ready;
    const loggedOut = Date.now();
    await t.app.inject({ method: "POST", url: "/api/v1/auth/logout", headers: session });
    expect(await until(() => byCookie.endedAt !== null)).toBe(true);
    expect(byCookie.endedAt! - loggedOut).toBeLessThan(1000);

    // Revocation of an API token.
    const byToken = openStream(user.auth);
    await byToken.ready;
    const tokens = (
      await t.app.inject({ method: "GET", url: "/api/v1/auth/tokens", headers: user.auth })
    ).json();
    const revoked = Date.now();
    await t.app.inject({ method: "DELETE", url: `/api/v1/auth/tokens/${tokens[0].id}`, headers: user.auth });
    expect(await until(() => byToken.endedAt !== null)).toBe(true);
    expect(byToken.endedAt! - revoked).toBeLessThan(1000);

    // Deactivation by an admin.
    const other = await makeUser(t);
    const byOther = openStream(other.auth);
    await byOther.ready;
    const deactivated = Date.now();
    expect((await patchUser(other.id, { active: false })).statusCode).toBe(200);
    expect(await until(() => byOther.endedAt !== null)).toBe(true);
    expect(byOther.endedAt! - deactivated).toBeLessThan(1000);

    // The reconnect then meets the 401 of any request.
    const again = await t.app.inject({
      method: "GET",
      url: "/api/v1/events/stream?after=0",
      headers: other.auth,
    });
    expect(again.statusCode).toBe(401);
  });

  it("refuses a Last-Event-ID that is not an event id before taking the connection over", async () => {
    const tech = await makeUser(t);
    const before = t.deps.live.subscriberCount;
    for (const id of ["1e30", "-1", "abc", "99999999999999999999"]) {
      const res = await t.app.inject({
        method: "GET",
        url: "/api/v1/events/stream",
        headers: { ...tech.auth, "last-event-id": id },
      });
      expect(res.statusCode, id).toBe(400);
      expect(res.json().error.details.issues[0].path).toBe("headers.last-event-id");
    }
    expect(t.deps.live.subscriberCount).toBe(before);
  });
});
