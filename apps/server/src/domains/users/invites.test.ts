import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestApp,
  isolatedDatabase,
  makeClient,
  makeTeam,
  makeUser,
  rand,
  type TestApp,
  type TestUser,
} from "../../../test/helpers.ts";
import { sha256 } from "../auth/crypto.ts";
import { startReceiver } from "../email/test-support.ts";

describe("inviting users", () => {
  let t: TestApp;
  let admin: TestUser;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    // A database of its own: the relay set here is MSP-wide and would reroute other files' mail.
    t = await createTestApp(
      { SWITCHBOARD_PUBLIC_URL: "https://desk.example.test" },
      await isolatedDatabase(),
    );
    admin = await makeUser(t, { role: "admin" });
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await receiver.close();
    await t.close();
  });

  const post = (who: TestUser | null, url: string, payload: object) =>
    t.app.inject({ method: "POST", url, headers: who?.auth ?? {}, payload });

  it("says why the mail did not go out when no relay is set, and the link still works", async () => {
    const team = await makeTeam(t);
    const email = `${rand("ana.")}@example.test`;
    const res = await post(admin, "/api/v1/users/invite", {
      email,
      name: "Ana Ortiz",
      role: "technician",
      teamIds: [team.id],
    });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body.invite.sentAt).toBeNull();
    expect(body.invite.lastError).toMatch(/no outbound relay/);
    expect(body.inviteUrl).toMatch(/^https:\/\/desk\.example\.test\/invite\/[\w-]{40,}$/);
    const token = body.inviteUrl.split("/").at(-1);
    // Only the hash is stored.
    const stored = await t.db
      .selectFrom("user_invites")
      .selectAll()
      .where("user_id", "=", body.user.id)
      .execute();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.token_hash).toBe(sha256(token));
    expect(JSON.stringify(stored)).not.toContain(token);
    const user = await t.db
      .selectFrom("users")
      .select(["password_hash", "role"])
      .where("id", "=", body.user.id)
      .executeTakeFirstOrThrow();
    expect(user).toEqual({ password_hash: null, role: "technician" });
    const members = await t.db
      .selectFrom("team_members")
      .select("team_id")
      .where("user_id", "=", body.user.id)
      .execute();
    expect(members).toEqual([{ team_id: team.id }]);
    const open = (
      await t.app.inject({ method: "GET", url: "/api/v1/users/invites", headers: admin.auth })
    ).json();
    expect(open.items.find((i: { userId: string }) => i.userId === body.user.id)?.lastError).toMatch(/relay/);
  });

  it("mails a single-use link through the relay, which sets the password and signs in", async () => {
    const settings = (
      await t.app.inject({ method: "GET", url: "/api/v1/email/settings", headers: admin.auth })
    ).json();
    const saved = await t.app.inject({
      method: "PUT",
      url: "/api/v1/email/settings",
      headers: admin.auth,
      payload: {
        version: settings.version,
        relay: { host: "127.0.0.1", port: receiver.port, tls: "none" },
        defaultFromAddress: "desk@northwind.example",
      },
    });
    expect(saved.statusCode).toBe(200);
    const email = `${rand("ben.")}@example.test`;
    const res = await post(admin, "/api/v1/users/invite", { email, name: "Ben Okafor", role: "dispatcher" });
    expect(res.statusCode).toBe(201);
    const { invite, inviteUrl, user } = res.json();
    expect(invite.lastError).toBeNull();
    expect(invite.sentAt).not.toBeNull();
    const mail = receiver.mails.find((m) => m.to.includes(email));
    expect(mail?.from).toBe("desk@northwind.example");
    const token = inviteUrl.split("/").at(-1) as string;
    expect(mail?.raw.toString()).toContain(token.slice(0, 30));

    const info = await t.app.inject({ method: "GET", url: `/api/v1/invites/${token}` });
    expect(info.statusCode).toBe(200);
    expect(info.json()).toMatchObject({ email, name: "Ben Okafor" });

    const short = await post(null, "/api/v1/invites/accept", { token, password: "short" });
    expect(short.statusCode).toBe(400);
    expect(short.json().error.details.issues[0].path).toBe("body.password");

    const accepted = await post(null, "/api/v1/invites/accept", {
      token,
      password: "a long enough password",
    });
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json().userId).toBe(user.id);
    const cookie = accepted.cookies.find((c) => c.name === "sb_session");
    expect(cookie?.value).toBeTruthy();
    const me = await t.app.inject({
      method: "GET",
      url: "/api/v1/auth/me",
      cookies: { sb_session: cookie!.value },
    });
    expect(me.json()).toMatchObject({ id: user.id, role: "dispatcher" });

    const again = await post(null, "/api/v1/invites/accept", { token, password: "another long password" });
    expect(again.statusCode).toBe(404);
    expect((await t.app.inject({ method: "GET", url: `/api/v1/invites/${token}` })).statusCode).toBe(404);
    const audit = await t.db
      .selectFrom("audit_log")
      .select(["action", "after"])
      .where("entity_id", "=", user.id)
      .orderBy("id")
      .execute();
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(["user.invite", "user.invite_accept"]));
    expect(JSON.stringify(audit)).not.toContain(token);
  });

  it("a resent invitation replaces the old link, and an expired one no longer works", async () => {
    const res = await post(admin, "/api/v1/users/invite", {
      email: `${rand("cy.")}@example.test`,
      name: "Cy",
      role: "technician",
    });
    const first = res.json();
    const oldToken = first.inviteUrl.split("/").at(-1);
    const resent = await post(admin, `/api/v1/users/${first.user.id}/invite`, {});
    expect(resent.statusCode).toBe(201);
    const newToken = resent.json().inviteUrl.split("/").at(-1);
    expect(newToken).not.toBe(oldToken);
    expect(
      (await post(null, "/api/v1/invites/accept", { token: oldToken, password: "a long enough password" }))
        .statusCode,
    ).toBe(404);
    await t.db
      .updateTable("user_invites")
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where("token_hash", "=", sha256(newToken))
      .execute();
    expect(
      (await post(null, "/api/v1/invites/accept", { token: newToken, password: "a long enough password" }))
        .statusCode,
    ).toBe(404);
  });

  it("only an admin who sees every client invites, and an email in use is refused on its field", async () => {
    const client = await makeClient(t);
    const limitedAdmin = await makeUser(t, { role: "admin", clientIds: [client.id] });
    const dispatcher = await makeUser(t, { role: "dispatcher" });
    for (const who of [limitedAdmin, dispatcher]) {
      const res = await post(who, "/api/v1/users/invite", {
        email: `${rand()}@example.test`,
        name: "X",
        role: "technician",
      });
      expect(res.statusCode).toBe(403);
    }
    const taken = await post(admin, "/api/v1/users/invite", {
      email: admin.email,
      name: "Dup",
      role: "technician",
    });
    expect(taken.statusCode).toBe(409);
    expect(taken.json().error.details.issues[0].path).toBe("body.email");
  });
});
