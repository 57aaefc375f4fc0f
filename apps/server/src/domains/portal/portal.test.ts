import { sql } from "kysely";
import { simpleParser } from "mailparser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestApp,
  makeClient,
  makeContact,
  makeUser,
  rand,
  type TestApp,
  type TestUser,
} from "../../../test/helpers.ts";
import { base32Decode, totpCode } from "../../lib/totp.ts";
import { notifyOnEvent } from "../email/notifications.ts";
import { startEmailStack, startReceiver, ticketEventFeed, waitFor } from "../email/test-support.ts";
import { asContact, makePortalContact } from "./test-support.ts";

let t: TestApp;
let stack: Awaited<ReturnType<typeof startEmailStack>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let dispatcher: TestUser;
let tech: TestUser;

beforeAll(async () => {
  receiver = await startReceiver();
  const env = {
    SWITCHBOARD_SMTP_RELAY_URL: `smtp://127.0.0.1:${receiver.port}`,
    SWITCHBOARD_EMAIL_FROM: "help@msp.example",
    SWITCHBOARD_PUBLIC_URL: "https://help.msp.example",
    LOGIN_MAX_FAILURES_PER_ADDRESS: "1000",
  };
  t = await createTestApp(env);
  stack = await startEmailStack({ db: t.db, blobs: t.deps.blobs, config: t.deps.config }, t.url, {
    listener: false,
  });
  // The app enqueues mail on the stack's queue (createTestApp runs without one).
  t.deps.boss = stack.deps.boss;
  dispatcher = await makeUser(t, { role: "dispatcher" });
  tech = await makeUser(t);
});
afterAll(async () => {
  await stack?.stop(false);
  await t?.close();
  await receiver?.close();
});

const linkIn = (raw: string) => /https:\/\/help\.msp\.example\/portal\/sign-in#token=([\w-]+)/.exec(raw)?.[1];

async function mailTo(address: string, after = 0) {
  return waitFor(async () => {
    const m = receiver.mails.slice(after).find((x) => x.to.includes(address));
    return m ? ((await simpleParser(m.raw)).text ?? "") : null;
  });
}

describe("portal sign-in", () => {
  it("invites a contact by a one-time link that is mailed, stored only hashed, and works once", async () => {
    const client = await makeClient(t);
    const email = `${rand("jo-")}@example.test`;
    const contact = await makeContact(t, client.id, { email, firstName: "Jo" });
    const invited = await t.app.inject({
      method: "PUT",
      url: `/api/v1/contacts/${contact.id}/portal`,
      headers: dispatcher.auth,
      payload: { invite: true },
    });
    expect(invited.statusCode, invited.body).toBe(200);
    expect(invited.json()).toMatchObject({ email, enabled: true, companyAdmin: false });

    const token = linkIn(await mailTo(email));
    expect(token).toBeTruthy();
    // Neither the link table nor the stored mail holds the token.
    const links = await t.db
      .selectFrom("portal_sign_in_links")
      .selectAll()
      .where("contact_id", "=", contact.id)
      .execute();
    expect(JSON.stringify(links)).not.toContain(token);
    const stored = await t.db
      .selectFrom("email_messages")
      .selectAll()
      .where(sql<boolean>`${email} = any(to_addresses)`)
      .execute();
    expect(stored).toHaveLength(1);
    expect(JSON.stringify(stored)).not.toContain(token);
    await waitFor(async () => {
      const m = await t.db
        .selectFrom("email_messages")
        .select(["status", "sealed_body"])
        .where("id", "=", stored[0]!.id)
        .executeTakeFirst();
      return m?.status === "sent" && m.sealed_body === null;
    });

    const redeemed = await t.app.inject({
      method: "POST",
      url: "/api/v1/portal/auth/redeem",
      payload: { token },
    });
    expect(redeemed.statusCode, redeemed.body).toBe(200);
    const cookie = redeemed.cookies.find((c) => c.name === "sb_portal")!;
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", secure: true });
    const me = await t.app.inject({
      method: "GET",
      url: "/api/v1/portal/me",
      cookies: { sb_portal: cookie.value },
    });
    expect(me.json()).toMatchObject({
      contactId: contact.id,
      client: { id: client.id },
      companyAdmin: false,
    });

    const again = await t.app.inject({
      method: "POST",
      url: "/api/v1/portal/auth/redeem",
      payload: { token },
    });
    expect(again.statusCode).toBe(401);
  });

  it("answers an unknown address like a known one and mails nothing; an expired link does not work", async () => {
    const before = receiver.mails.length;
    const res = await t.app.inject({
      method: "POST",
      url: "/api/v1/portal/auth/link",
      payload: { email: `${rand("nobody-")}@example.test` },
    });
    expect(res.statusCode).toBe(202);

    const client = await makeClient(t);
    const who = await makePortalContact(t, client.id);
    const asked = await t.app.inject({
      method: "POST",
      url: "/api/v1/portal/auth/link",
      payload: { email: who.email },
    });
    expect(asked.statusCode).toBe(202);
    const token = linkIn(await mailTo(who.email, before));
    expect(receiver.mails.slice(before).filter((m) => !m.to.includes(who.email))).toHaveLength(0);
    await t.db
      .updateTable("portal_sign_in_links")
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where("contact_id", "=", who.id)
      .execute();
    const late = await t.app.inject({
      method: "POST",
      url: "/api/v1/portal/auth/redeem",
      payload: { token },
    });
    expect(late.statusCode).toBe(401);
  });

  it("signs in with a password and, once set up, a TOTP code", async () => {
    const client = await makeClient(t);
    const who = await makePortalContact(t, client.id);
    const setPw = await asContact(t, who, "PUT", "/api/v1/portal/me/password", {
      password: "correct horse battery",
    });
    expect(setPw.statusCode, setPw.body).toBe(204);
    const setup = (await asContact(t, who, "POST", "/api/v1/portal/me/totp")).json();
    const seed = { secret: base32Decode(setup.secret)!, digits: 6, period: 30, algorithm: "sha1" as const };
    const wrong = await asContact(t, who, "POST", "/api/v1/portal/me/totp/confirm", {
      code: "000000" === totpCode(seed) ? "111111" : "000000",
    });
    expect(wrong.statusCode).toBe(400);
    expect(
      (await asContact(t, who, "POST", "/api/v1/portal/me/totp/confirm", { code: totpCode(seed) }))
        .statusCode,
    ).toBe(204);
    // The stored seed is sealed.
    const row = await t.db
      .selectFrom("portal_accounts")
      .selectAll()
      .where("contact_id", "=", who.id)
      .executeTakeFirstOrThrow();
    expect(row.totp_secret).not.toContain(setup.secret);

    const login = (body: object) =>
      t.app.inject({
        method: "POST",
        url: "/api/v1/portal/auth/login",
        payload: { email: who.email, ...body },
      });
    const noCode = await login({ password: "correct horse battery" });
    expect(noCode.statusCode).toBe(401);
    expect(noCode.json().error.details).toEqual({ totpRequired: true });
    expect((await login({ password: "wrong horse battery", totpCode: totpCode(seed) })).statusCode).toBe(401);
    const ok = await login({ password: "correct horse battery", totpCode: totpCode(seed) });
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.cookies.find((c) => c.name === "sb_portal")).toBeTruthy();
  });

  it("keeps portal and staff credentials apart", async () => {
    const client = await makeClient(t);
    const who = await makePortalContact(t, client.id);
    expect((await asContact(t, who, "GET", "/api/v1/tickets")).statusCode).toBe(401);
    expect((await asContact(t, who, "GET", "/api/v1/search?q=x")).statusCode).toBe(401);
    const staff = await t.app.inject({ method: "GET", url: "/api/v1/portal/me", headers: dispatcher.auth });
    expect(staff.statusCode).toBe(401);
    const crossSite = await t.app.inject({
      method: "POST",
      url: "/api/v1/portal/tickets",
      cookies: who.cookies,
      headers: { origin: "https://evil.example", host: "help.msp.example" },
      payload: { subject: "x" },
    });
    expect(crossSite.statusCode).toBe(403);
    await t.db
      .updateTable("portal_accounts")
      .set({ enabled: false })
      .where("contact_id", "=", who.id)
      .execute();
    expect((await asContact(t, who, "GET", "/api/v1/portal/me")).statusCode).toBe(401);
  });
});

describe("portal tickets", () => {
  it("a contact opens a ticket, replies and attaches a file; sees no internal note; a colleague does not see it but the company admin does", async () => {
    const client = await makeClient(t);
    const jo = await makePortalContact(t, client.id);
    const sam = await makePortalContact(t, client.id);
    const boss = await makePortalContact(t, client.id, { companyAdmin: true });
    const created = await asContact(t, jo, "POST", "/api/v1/portal/tickets", {
      subject: "Printer on the second floor jams",
      description: "Every third page.",
    });
    expect(created.statusCode, created.body).toBe(201);
    const ticket = created.json();
    const staffView = await t.app.inject({
      method: "GET",
      url: `/api/v1/tickets/${ticket.id}`,
      headers: dispatcher.auth,
    });
    expect(staffView.json().ticket).toMatchObject({ source: "portal", contact: { id: jo.id } });

    await t.app.inject({
      method: "POST",
      url: `/api/v1/tickets/${ticket.id}/timeline`,
      headers: dispatcher.auth,
      payload: { kind: "note", body: "internal: toner supplier overcharges" },
    });
    await t.app.inject({
      method: "POST",
      url: `/api/v1/tickets/${ticket.id}/timeline`,
      headers: dispatcher.auth,
      payload: { kind: "reply", body: "We will come by at 2pm." },
    });
    const reply = await asContact(t, jo, "POST", `/api/v1/portal/tickets/${ticket.id}/replies`, {
      body: "Thanks!",
    });
    expect(reply.statusCode, reply.body).toBe(201);
    const boundary = "----sb";
    const upload = await t.app.inject({
      method: "POST",
      url: `/api/v1/portal/tickets/${ticket.id}/attachments`,
      cookies: jo.cookies,
      headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
      payload: `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="jam.txt"\r\nContent-Type: text/plain\r\n\r\npaper path photo\r\n--${boundary}--\r\n`,
    });
    expect(upload.statusCode, upload.body).toBe(201);
    const fileId = upload.json().attachments[0].id;

    const view = (await asContact(t, jo, "GET", `/api/v1/portal/tickets/${ticket.id}`)).json();
    const bodies = view.entries.map((e: { body: string }) => e.body);
    expect(bodies).toEqual(["We will come by at 2pm.", "Thanks!", "Attached jam.txt"]);
    expect(JSON.stringify(view)).not.toContain("toner supplier");
    const file = await asContact(t, jo, "GET", `/api/v1/portal/attachments/${fileId}`);
    expect(file.statusCode).toBe(200);
    expect(file.body).toBe("paper path photo");

    expect((await asContact(t, sam, "GET", `/api/v1/portal/tickets/${ticket.id}`)).statusCode).toBe(404);
    expect((await asContact(t, sam, "GET", `/api/v1/portal/attachments/${fileId}`)).statusCode).toBe(404);
    expect(
      (await asContact(t, sam, "POST", `/api/v1/portal/tickets/${ticket.id}/replies`, { body: "me too" }))
        .statusCode,
    ).toBe(404);
    const samList = (await asContact(t, sam, "GET", "/api/v1/portal/tickets?scope=company")).json();
    expect(samList.items).toEqual([]);
    const bossList = (await asContact(t, boss, "GET", "/api/v1/portal/tickets?scope=company")).json();
    expect(bossList.items.map((x: { id: string }) => x.id)).toEqual([ticket.id]);
    expect((await asContact(t, boss, "GET", `/api/v1/portal/tickets/${ticket.id}`)).statusCode).toBe(200);

    const audit = await t.db
      .selectFrom("audit_log")
      .select(["action", "actor_label"])
      .where("entity_id", "=", ticket.id)
      .execute();
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining(["ticket.create", "ticket.reply", "ticket.attachment_add"]),
    );
    expect(audit.find((a) => a.action === "ticket.create")?.actor_label).toBe(jo.name);
  });

  it("mails the assignee when the contact replies in the portal", async () => {
    const client = await makeClient(t);
    const jo = await makePortalContact(t, client.id);
    const ticket = (
      await asContact(t, jo, "POST", "/api/v1/portal/tickets", { subject: "VPN drops" })
    ).json();
    const current = (
      await t.app.inject({ method: "GET", url: `/api/v1/tickets/${ticket.id}`, headers: dispatcher.auth })
    ).json().ticket;
    await t.app.inject({
      method: "PATCH",
      url: `/api/v1/tickets/${ticket.id}`,
      headers: dispatcher.auth,
      payload: { version: current.version, assigneeId: tech.id },
    });
    const feed = ticketEventFeed(t.db, ticket.id, (e) => notifyOnEvent(stack.deps, e));
    await feed();
    await asContact(t, jo, "POST", `/api/v1/portal/tickets/${ticket.id}/replies`, {
      body: "It dropped again at 10:14",
    });
    await feed();
    // The assignment mail may arrive after this point too: look for the mail that carries the reply.
    const mail = await waitFor(async () => {
      for (const m of receiver.mails.filter((x) => x.to.includes(tech.email))) {
        const parsed = await simpleParser(m.raw);
        if (parsed.text?.includes("It dropped again at 10:14")) return parsed;
      }
      return null;
    });
    expect(mail.subject).toBe(`New reply: VPN drops [#${ticket.number}]`);
  });

  it("pages a long list newest first", async () => {
    const client = await makeClient(t);
    const jo = await makePortalContact(t, client.id);
    for (let i = 0; i < 5; i++)
      await asContact(t, jo, "POST", "/api/v1/portal/tickets", { subject: `Issue ${i}` });
    const first = (await asContact(t, jo, "GET", "/api/v1/portal/tickets?limit=3")).json();
    expect(first.items.map((x: { subject: string }) => x.subject)).toEqual(["Issue 4", "Issue 3", "Issue 2"]);
    const next = (
      await asContact(t, jo, "GET", `/api/v1/portal/tickets?limit=3&cursor=${first.nextCursor}`)
    ).json();
    expect(next.items.map((x: { subject: string }) => x.subject)).toEqual(["Issue 1", "Issue 0"]);
    expect(next.nextCursor).toBeNull();
    expect((await asContact(t, jo, "GET", "/api/v1/portal/tickets?cursor=garbage")).statusCode).toBe(400);
  });
});
