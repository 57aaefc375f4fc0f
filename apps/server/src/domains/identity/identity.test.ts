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
import { startSmsStub } from "../../../test/sms-stub.ts";
import { base32Decode, totpCode } from "../../lib/totp.ts";
import { startEmailStack, startReceiver, waitFor } from "../email/test-support.ts";
import { asContact, makePortalContact } from "../portal/test-support.ts";

let t: TestApp;
let sms: Awaited<ReturnType<typeof startSmsStub>>;
let stack: Awaited<ReturnType<typeof startEmailStack>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let admin: TestUser;
let tech: TestUser;

beforeAll(async () => {
  sms = await startSmsStub();
  receiver = await startReceiver();
  t = await createTestApp({
    ...sms.env,
    SWITCHBOARD_SMTP_RELAY_URL: `smtp://127.0.0.1:${receiver.port}`,
    SWITCHBOARD_EMAIL_FROM: "help@msp.example",
    SWITCHBOARD_PUBLIC_URL: "https://help.msp.example",
  });
  stack = await startEmailStack({ db: t.db, blobs: t.deps.blobs, config: t.deps.config }, t.url, {
    listener: false,
  });
  t.deps.boss = stack.deps.boss;
  admin = await makeUser(t, { role: "admin" });
  tech = await makeUser(t);
});
afterAll(async () => {
  await stack?.stop(false);
  await t?.close();
  await receiver?.close();
  await sms?.close();
});

// biome-ignore lint/suspicious/noExplicitAny: replies are read loosely, the assertions say what matters
type Json = Record<string, any>;
const call = async (who: TestUser, method: "GET" | "POST" | "PUT", url: string, payload?: unknown) => {
  const res = await t.app.inject({ method, url, headers: who.auth, payload: payload as never });
  return { status: res.statusCode, body: res.json() as Json };
};

async function caller(opts: { vip?: boolean; clientId?: string } = {}) {
  const clientId = opts.clientId ?? (await makeClient(t)).id;
  const phone = `+1517555${String(Math.floor(Math.random() * 10000)).padStart(4, "0")}`;
  const contact = await makeContact(t, clientId, { phone, vip: opts.vip });
  const ticket = await call(tech, "POST", "/api/v1/tickets", {
    clientId,
    subject: "Password expired",
    contactId: contact.id,
  });
  expect(ticket.status).toBe(201);
  return { clientId, contact, phone, ticketId: ticket.body.id as string };
}

async function start(c: Awaited<ReturnType<typeof caller>>, who = tech) {
  const res = await call(who, "POST", "/api/v1/identity/verifications", {
    contactId: c.contact.id,
    ticketId: c.ticketId,
  });
  expect(res.status).toBe(201);
  return res.body;
}

/** Sends an SMS code and returns it as the caller's phone received it. */
async function smsCode(verificationId: string, phone: string) {
  const before = sms.messages.length;
  const res = await call(tech, "POST", `/api/v1/identity/verifications/${verificationId}/challenges`, {
    method: "sms",
  });
  expect(res.status).toBe(200);
  const msg = sms.messages.slice(before).find((m) => m.to === phone);
  const code = /code is (\d{6})/.exec(msg?.body ?? "")?.[1];
  expect(code).toMatch(/^\d{6}$/);
  const challenge = res.body.verification.challenges.at(-1);
  return { code: code!, challengeId: challenge.id as string, res };
}

const check = (verificationId: string, challengeId: string, code: string, who = tech) =>
  call(who, "POST", `/api/v1/identity/verifications/${verificationId}/check`, { challengeId, code });

describe("verifying a caller by SMS", () => {
  it("sends a 6-digit code, stores only its HMAC, and verifies the caller on the ticket", async () => {
    const c = await caller();
    const v = await start(c);
    expect(v).toMatchObject({ status: "pending", factorsRequired: 1, privileged: false });
    expect(v.availableMethods).toEqual(expect.arrayContaining(["sms", "email", "reverse"]));
    const { code, challengeId, res } = await smsCode(v.id, c.phone);
    expect(res.body.verification.challenges[0]).toMatchObject({
      method: "sms",
      status: "sent",
      attemptsLeft: 5,
    });
    expect(res.body.verification.challenges[0].destination).toMatch(/^\+1•+\d{4}$/);

    // The code is nowhere in the database: not in the challenge, the audit log, events or the timeline.
    const row = await t.db
      .selectFrom("identity_challenges")
      .selectAll()
      .where("id", "=", challengeId)
      .executeTakeFirstOrThrow();
    expect(row.code_hmac).toMatch(/^[\w-]{43}$/);
    expect(JSON.stringify(row)).not.toContain(code);
    const leaks = await sql<{ n: string }>`
      select (select count(*) from audit_log where after::text like ${`%${code}%`})
           + (select count(*) from domain_events where payload::text like ${`%${code}%`})
           + (select count(*) from timeline_entries where body like ${`%${code}%`}) as n`.execute(t.db);
    expect(Number(leaks.rows[0]!.n)).toBe(0);

    const wrong = await check(v.id, challengeId, code === "000000" ? "111111" : "000000");
    expect(wrong.status).toBe(422);
    expect(wrong.body.error).toMatchObject({
      code: "code_rejected",
      details: { reason: "wrong", attemptsLeft: 4 },
    });

    const ok = await check(v.id, challengeId, `${code.slice(0, 3)} ${code.slice(3)}`);
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: "verified", factorsPassed: ["sms"] });
    const minutes = (Date.parse(ok.body.validUntil) - Date.parse(ok.body.verifiedAt)) / 60_000;
    expect(Math.round(minutes)).toBe(10);

    // Reused: the same code again is refused and counted.
    const again = await check(v.id, challengeId, code);
    expect(again.status).toBe(422);
    expect(again.body.error.details.reason).toBe("used");

    const timeline = await call(tech, "GET", `/api/v1/tickets/${c.ticketId}/timeline`);
    const bodies = (timeline.body.items as Json[]).map((e) => e.body as string);
    expect(bodies.some((b) => b.startsWith("Caller verified (SMS code)"))).toBe(true);
    const audit = await t.db
      .selectFrom("audit_log")
      .select("action")
      .where("entity_id", "=", c.contact.id)
      .execute();
    expect(audit.map((a) => a.action)).toEqual(
      expect.arrayContaining([
        "identity.verification_start",
        "identity.challenge_send",
        "identity.code_wrong",
        "identity.verified",
      ]),
    );
  });

  it("fails the challenge and the verification on the fifth wrong code; the right one is then refused", async () => {
    const c = await caller();
    const v = await start(c);
    const { code, challengeId } = await smsCode(v.id, c.phone);
    const bad = code === "999999" ? "999998" : "999999";
    const lefts: number[] = [];
    for (let i = 0; i < 5; i++)
      lefts.push((await check(v.id, challengeId, bad)).body.error.details.attemptsLeft);
    expect(lefts).toEqual([4, 3, 2, 1, 0]);
    const late = await check(v.id, challengeId, code);
    expect(late.status).toBe(422);
    expect(late.body.error.details.reason).toBe("locked");
    const now = await call(tech, "GET", `/api/v1/identity/verifications/${v.id}`);
    expect(now.body).toMatchObject({ status: "failed", reason: "5 wrong SMS codes" });
    const report = await call(tech, "GET", `/api/v1/clients/${c.clientId}/identity-report?days=7`);
    expect(report.body.failedVerifications).toEqual([
      expect.objectContaining({
        id: v.id,
        status: "failed",
        reason: "5 wrong SMS codes",
        startedBy: tech.name,
      }),
    ]);
    expect(now.body.challenges[0]).toMatchObject({ status: "failed", attemptsLeft: 0 });
    // A failed verification sends nothing more.
    const more = await call(tech, "POST", `/api/v1/identity/verifications/${v.id}/challenges`, {
      method: "sms",
    });
    expect(more.status).toBe(409);
  });

  it("refuses an expired code with the reason, counting it", async () => {
    const c = await caller();
    const v = await start(c);
    const { code, challengeId } = await smsCode(v.id, c.phone);
    const row = await t.db
      .selectFrom("identity_challenges")
      .select(["created_at", "expires_at"])
      .where("id", "=", challengeId)
      .executeTakeFirstOrThrow();
    expect(Math.round((row.expires_at.getTime() - row.created_at.getTime()) / 1000)).toBe(120);
    await t.db
      .updateTable("identity_challenges")
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where("id", "=", challengeId)
      .execute();
    const late = await check(v.id, challengeId, code);
    expect(late.status).toBe(422);
    expect(late.body.error.details).toMatchObject({ reason: "expired", attemptsLeft: 4 });
    const now = await call(tech, "GET", `/api/v1/identity/verifications/${v.id}`);
    expect(now.body.challenges[0].status).toBe("expired");
    expect(now.body.status).toBe("pending");
  });

  it("an abandoned verification expires, once, on the ticket and in the audit log", async () => {
    const c = await caller();
    const v = await start(c);
    await t.db
      .updateTable("identity_verifications")
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where("id", "=", v.id)
      .execute();
    expect((await call(tech, "GET", `/api/v1/identity/verifications/${v.id}`)).body.status).toBe("expired");
    expect((await call(tech, "GET", `/api/v1/identity/verifications/${v.id}`)).body.status).toBe("expired");
    const timeline = await call(tech, "GET", `/api/v1/tickets/${c.ticketId}/timeline`);
    const expired = (timeline.body.items as Json[]).filter(
      (e) => e.body === "Caller verification expired: not completed in time",
    );
    expect(expired).toHaveLength(1);
    const send = await call(tech, "POST", `/api/v1/identity/verifications/${v.id}/challenges`, {
      method: "sms",
    });
    expect(send.status).toBe(409);
  });

  it("records the provider's refusal on the challenge, and a new code can be sent", async () => {
    const c = await caller();
    const v = await start(c);
    sms.failNext(400, "The 'To' number is not a valid phone number.");
    const res = await call(tech, "POST", `/api/v1/identity/verifications/${v.id}/challenges`, {
      method: "sms",
    });
    expect(res.status).toBe(200);
    expect(res.body.verification.challenges[0]).toMatchObject({
      status: "send_failed",
      lastError: expect.stringContaining("not a valid phone number"),
    });
    const retry = await smsCode(v.id, c.phone);
    expect((await check(v.id, retry.challengeId, retry.code)).body.status).toBe("verified");
  });
});

describe("limits", () => {
  it("sends at most 8 codes per verification and 12 per contact an hour", async () => {
    const c = await caller();
    const send = (id: string) =>
      call(tech, "POST", `/api/v1/identity/verifications/${id}/challenges`, { method: "sms" });
    const v1 = await start(c);
    for (let i = 0; i < 8; i++) expect((await send(v1.id)).status).toBe(200);
    expect((await send(v1.id)).status).toBe(429);
    const v2 = await start(c);
    for (let i = 0; i < 4; i++) expect((await send(v2.id)).status).toBe(200);
    const over = await send(v2.id);
    expect(over.status).toBe(429);
    expect(over.body.error.message).toContain("12 codes in the last hour");
  });
});

describe("policy and factors", () => {
  it("needs two factors for a VIP: SMS then an email code", async () => {
    const c = await caller({ vip: true });
    const v = await start(c);
    expect(v).toMatchObject({ privileged: true, factorsRequired: 2, managerSatisfies: true });
    const first = await smsCode(v.id, c.phone);
    const half = await check(v.id, first.challengeId, first.code);
    expect(half.body).toMatchObject({ status: "pending", factorsPassed: ["sms"] });
    // The same method twice is still one factor.
    const second = await smsCode(v.id, c.phone);
    expect((await check(v.id, second.challengeId, second.code)).body.status).toBe("pending");

    const before = receiver.mails.length;
    const mailed = await call(tech, "POST", `/api/v1/identity/verifications/${v.id}/challenges`, {
      method: "email",
    });
    expect(mailed.status).toBe(200);
    const email = c.contact.emails[0]!;
    const text = await waitFor(async () => {
      const m = receiver.mails.slice(before).find((x) => x.to.includes(email));
      return m ? ((await simpleParser(m.raw)).text ?? "") : null;
    });
    const code = /code is (\d{6})/.exec(text)?.[1];
    expect(code).toBeDefined();
    // The stored mail keeps no code once delivered.
    const stored = await t.db
      .selectFrom("email_messages")
      .select(["body_text", "sealed_body"])
      .where(sql<boolean>`${email} = any(to_addresses)`)
      .execute();
    expect(stored.every((m) => !(m.body_text ?? "").includes(code!))).toBe(true);
    const done = await check(v.id, mailed.body.verification.challenges.at(-1).id, code!);
    expect(done.body).toMatchObject({ status: "verified", factorsPassed: ["sms", "email"] });
  });

  it("a client's policy sets the methods, factors and validity", async () => {
    const c = await caller();
    const p = await call(tech, "GET", `/api/v1/clients/${c.clientId}/identity-policy`);
    expect(p.body).toMatchObject({ factors: 1, validityMinutes: 10, version: 1 });
    const denied = await call(tech, "PUT", `/api/v1/clients/${c.clientId}/identity-policy`, { ...p.body });
    expect(denied.status).toBe(403);
    const put = await call(admin, "PUT", `/api/v1/clients/${c.clientId}/identity-policy`, {
      methods: ["sms", "totp"],
      factors: 2,
      privilegedFactors: 2,
      managerSatisfiesPrivileged: false,
      validityMinutes: 5,
      directoryDeviceId: null,
      directoryKind: null,
      version: 1,
    });
    expect(put.status).toBe(200);
    const v = await start(c);
    expect(v.factorsRequired).toBe(2);
    expect(v.availableMethods).not.toContain("email");
    const email = await call(tech, "POST", `/api/v1/identity/verifications/${v.id}/challenges`, {
      method: "email",
    });
    expect(email.status).toBe(400);
    const one = await smsCode(v.id, c.phone);
    expect((await check(v.id, one.challengeId, one.code)).body.status).toBe("pending");
  });

  it("verifies by the contact's own authenticator, enrolled from the portal", async () => {
    const client = await makeClient(t);
    const pc = await makePortalContact(t, client.id);
    const enroll = await asContact(t, pc, "POST", "/api/v1/portal/identity/totp");
    expect(enroll.statusCode).toBe(200);
    const { secret, otpauthUri } = enroll.json() as { secret: string; otpauthUri: string };
    expect(otpauthUri).toMatch(/^otpauth:\/\/totp\//);
    const stored = await t.db
      .selectFrom("identity_contacts")
      .select("totp_enc")
      .where("contact_id", "=", pc.id)
      .executeTakeFirstOrThrow();
    expect(stored.totp_enc).not.toContain(secret);
    const seed = { secret: base32Decode(secret)!, digits: 6, period: 30, algorithm: "sha1" as const };
    // Not a method until confirmed.
    expect((await call(tech, "GET", `/api/v1/contacts/${pc.id}/identity`)).body.totp).toBe("pending");
    const confirmed = await asContact(t, pc, "POST", "/api/v1/portal/identity/totp/confirm", {
      code: totpCode(seed),
    });
    expect(confirmed.statusCode).toBe(200);
    const v = (await call(tech, "POST", "/api/v1/identity/verifications", { contactId: pc.id })).body;
    expect(v.availableMethods).toContain("totp");
    const ch = await call(tech, "POST", `/api/v1/identity/verifications/${v.id}/challenges`, {
      method: "totp",
    });
    const id = ch.body.verification.challenges[0].id;
    const wrong = await check(
      v.id,
      id,
      String((Number(totpCode(seed)) + 500_000) % 1_000_000).padStart(6, "0"),
    );
    expect(wrong.body.error.details.reason).toBe("wrong");
    const used = totpCode(seed);
    expect((await check(v.id, id, used)).body.status).toBe("verified");
    // The same authenticator code in a new verification is spent.
    const v2 = (await call(tech, "POST", "/api/v1/identity/verifications", { contactId: pc.id })).body;
    const ch2 = await call(tech, "POST", `/api/v1/identity/verifications/${v2.id}/challenges`, {
      method: "totp",
    });
    const replay = await check(v2.id, ch2.body.verification.challenges[0].id, used);
    expect(replay.status).toBe(422);
    expect(replay.body.error.details.reason).toBe("used");
  });

  it("a manager's approval by signed link verifies a VIP; a denial fails it", async () => {
    const c = await caller({ vip: true });
    const boss = await makeContact(t, c.clientId, { email: `${rand("boss-")}@example.test` });
    const me = await call(tech, "GET", `/api/v1/contacts/${boss.id}/identity`);
    await call(tech, "PUT", `/api/v1/contacts/${boss.id}/identity`, {
      smsNumber: null,
      email: boss.emails[0],
      approver: true,
      adminAccount: false,
      directoryAccount: null,
      version: me.body.version,
    });
    for (const approve of [true, false]) {
      const v = await start(c);
      expect(v.availableMethods).toContain("manager");
      const before = receiver.mails.length;
      const sent = await call(tech, "POST", `/api/v1/identity/verifications/${v.id}/challenges`, {
        method: "manager",
      });
      expect(sent.status).toBe(200);
      const text = await waitFor(async () => {
        const m = receiver.mails.slice(before).find((x) => x.to.includes(boss.emails[0]!));
        return m ? ((await simpleParser(m.raw)).text ?? "") : null;
      });
      const token = /portal\/approve#token=([\w.-]+)/.exec(text)?.[1];
      expect(token).toBeDefined();
      const look = await t.app.inject({
        method: "POST",
        url: "/api/v1/identity/approval",
        payload: { token },
      });
      expect(look.json()).toMatchObject({ status: "sent", requestedBy: tech.name });
      const forged = await t.app.inject({
        method: "POST",
        url: "/api/v1/identity/approval/decision",
        payload: { token: `${token!.slice(0, -3)}abc`, approve: true },
      });
      expect(forged.statusCode).toBe(404);
      const decided = await t.app.inject({
        method: "POST",
        url: "/api/v1/identity/approval/decision",
        payload: { token, approve },
      });
      expect(decided.statusCode).toBe(200);
      const twice = await t.app.inject({
        method: "POST",
        url: "/api/v1/identity/approval/decision",
        payload: { token, approve },
      });
      expect(twice.statusCode).toBe(409);
      const now = await call(tech, "GET", `/api/v1/identity/verifications/${v.id}`);
      expect(now.body.status).toBe(approve ? "verified" : "failed");
    }
  });

  it("a reverse check sends the caller the code the technician reads; it is never a factor", async () => {
    const c = await caller();
    const v = await start(c);
    const before = sms.messages.length;
    const res = await call(tech, "POST", `/api/v1/identity/verifications/${v.id}/challenges`, {
      method: "reverse",
      via: "sms",
    });
    expect(res.body.readOut).toMatch(/^\d{6}$/);
    expect(sms.messages.slice(before).some((m) => m.body.includes(res.body.readOut))).toBe(true);
    const again = await call(tech, "GET", `/api/v1/identity/verifications/${v.id}`);
    expect(JSON.stringify(again.body)).not.toContain(res.body.readOut);
    const ok = await call(tech, "POST", `/api/v1/identity/verifications/${v.id}/reverse`, {
      challengeId: res.body.verification.challenges[0].id,
      confirmed: true,
    });
    expect(ok.body).toMatchObject({ status: "pending", factorsPassed: [] });
  });
});

describe("resets need a fresh verification of that contact", () => {
  it("refuses without one, with another contact's, with a stale one; then fails with the reason when the agent is offline", async () => {
    const a = await caller();
    const other = await makeContact(t, a.clientId);
    const device = await t.db
      .insertInto("devices")
      .values({
        client_id: a.clientId,
        hostname: "DC01",
        platform: "linux",
        arch: "x64",
        os_name: "Debian",
        os_version: "13",
        agent_version: "test",
        public_key: "MCowBQYDK2VwAyEA0000000000000000000000000000000000000000000=",
        enrollment_token_id: null,
        site_id: null,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    await call(admin, "PUT", `/api/v1/clients/${a.clientId}/identity-policy`, {
      methods: ["sms", "email"],
      factors: 1,
      privilegedFactors: 2,
      managerSatisfiesPrivileged: true,
      validityMinutes: 10,
      directoryDeviceId: device.id,
      directoryKind: "samba",
      version: 1,
    });
    for (const contactId of [a.contact.id, other.id]) {
      const me = await call(tech, "GET", `/api/v1/contacts/${contactId}/identity`);
      const put = await call(tech, "PUT", `/api/v1/contacts/${contactId}/identity`, {
        smsNumber: me.body.smsNumber,
        email: me.body.email,
        approver: false,
        adminAccount: false,
        directoryAccount: rand("u"),
        version: me.body.version,
      });
      expect(put.status).toBe(200);
    }
    const v = await start(a);
    const reset = (contactId: string, verificationId: string) =>
      call(tech, "POST", "/api/v1/identity/directory-actions", {
        contactId,
        verificationId,
        action: "reset_password",
      });
    const pending = await reset(a.contact.id, v.id);
    expect(pending.status).toBe(403);
    expect(pending.body.error).toMatchObject({
      code: "verification_required",
      details: { reason: "the verification is pending" },
    });

    const { code, challengeId } = await smsCode(v.id, a.phone);
    await check(v.id, challengeId, code);
    const crossed = await reset(other.id, v.id);
    expect(crossed.status).toBe(403);
    expect(crossed.body.error.details.reason).toBe("the verification is of another contact");

    const offline = await reset(a.contact.id, v.id);
    expect(offline.status).toBe(200);
    expect(offline.body.password).toBeNull();
    expect(offline.body.action).toMatchObject({
      status: "failed",
      error: expect.stringContaining("DC01 is not connected"),
    });
    const cmd = await t.db
      .selectFrom("device_commands")
      .selectAll()
      .where("device_id", "=", device.id)
      .executeTakeFirstOrThrow();
    expect(cmd.status).toBe("failed");
    expect(JSON.stringify(cmd.command)).not.toContain("sealedPassword");

    // Pointing the verified contact at another account afterwards does not carry the verification.
    const mine = await call(tech, "GET", `/api/v1/contacts/${a.contact.id}/identity`);
    await call(tech, "PUT", `/api/v1/contacts/${a.contact.id}/identity`, {
      ...Object.fromEntries(
        ["smsNumber", "email", "approver", "adminAccount", "version"].map((k) => [k, mine.body[k]]),
      ),
      directoryAccount: "ceo",
    });
    const swapped = await reset(a.contact.id, v.id);
    expect(swapped.status).toBe(403);
    expect(swapped.body.error.details.reason).toBe(
      "the directory account was changed after the verification started",
    );
    const audit = await t.db
      .selectFrom("audit_log")
      .select("after")
      .where("action", "=", "identity.contact_update")
      .where("entity_id", "=", a.contact.id)
      .orderBy("id", "desc")
      .executeTakeFirstOrThrow();
    expect(audit.after).toMatchObject({ directoryAccount: "ceo", directoryAccountSource: "typed" });

    await t.db
      .updateTable("identity_verifications")
      .set({ valid_until: new Date(Date.now() - 1000) })
      .where("id", "=", v.id)
      .execute();
    const report = await call(tech, "GET", `/api/v1/clients/${a.clientId}/identity-report`);
    expect(report.body.totals).toMatchObject({ resetsDone: 0, resetsFailed: 1 });
    expect(report.body.actions[0]).toMatchObject({
      action: "reset_password",
      status: "failed",
      selfService: false,
      error: expect.stringContaining("not connected"),
    });

    const stale = await reset(a.contact.id, v.id);
    expect(stale.status).toBe(403);
    expect(stale.body.error.details.reason).toBe("the verification is no longer fresh");
    // The generic command route cannot carry a directory command.
    const direct = await call(admin, "POST", `/api/v1/devices/${device.id}/commands`, {
      command: { kind: "directory.account", system: "samba", action: "unlock", account: "x" },
    });
    expect(direct.status).toBe(400);
  });
});

describe("row-level security", () => {
  it("a technician limited to client A cannot see or act on B's verifications", async () => {
    const a = await caller();
    const b = await caller();
    const limited = await makeUser(t, { clientIds: [a.clientId] });
    const vb = await start(b);
    const { code, challengeId } = await smsCode(vb.id, b.phone);
    expect((await call(limited, "GET", `/api/v1/identity/verifications/${vb.id}`)).status).toBe(404);
    expect((await check(vb.id, challengeId, code, limited)).status).toBe(404);
    expect((await call(limited, "GET", `/api/v1/contacts/${b.contact.id}/identity`)).status).toBe(404);
    const startB = await call(limited, "POST", "/api/v1/identity/verifications", { contactId: b.contact.id });
    expect(startB.status).toBe(404);
    const resetB = await call(limited, "POST", "/api/v1/identity/directory-actions", {
      contactId: b.contact.id,
      verificationId: vb.id,
      action: "unlock",
    });
    expect(resetB.status).toBe(404);
    // The code was not spent by the refused check.
    expect((await check(vb.id, challengeId, code)).body.status).toBe("verified");
    // A's own work goes on.
    const va = await start(a, limited);
    expect(va.status).toBe("pending");
  });
});
