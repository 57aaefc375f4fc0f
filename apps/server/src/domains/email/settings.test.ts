import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestApp,
  isolatedDatabase,
  makeClient,
  makeUser,
  type TestApp,
  type TestUser,
} from "../../../test/helpers.ts";
import { startReceiver } from "./test-support.ts";

describe("email settings in the console", () => {
  let t: TestApp;
  let admin: TestUser;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  beforeAll(async () => {
    // A database of its own: the relay set here is MSP-wide and would reroute other files' mail.
    t = await createTestApp({}, await isolatedDatabase());
    admin = await makeUser(t, { role: "admin" });
    receiver = await startReceiver({
      reject: (rcpt) => (rcpt.startsWith("nobody@") ? "5.1.1 no such user" : null),
    });
  });
  afterAll(async () => {
    await receiver.close();
    await t.close();
  });

  const req = (method: "GET" | "PUT" | "POST", url: string, payload?: object, who: TestUser = admin) =>
    t.app.inject({ method, url, headers: who.auth, payload });

  it("keeps the relay password write-only, sealed at rest and out of the audit log", async () => {
    const empty = (await req("GET", "/api/v1/email/settings")).json();
    expect(empty).toMatchObject({ relay: null, defaultFromAddress: null, environmentRelay: false });
    const saved = await req("PUT", "/api/v1/email/settings", {
      version: empty.version,
      relay: {
        host: "127.0.0.1",
        port: receiver.port,
        tls: "none",
        user: "relay-user",
        password: "relay secret 42",
      },
      defaultFromAddress: "Help@Northwind.example",
    });
    expect(saved.statusCode).toBe(200);
    expect(saved.json()).toMatchObject({
      relay: { host: "127.0.0.1", port: receiver.port, tls: "none", user: "relay-user", passwordSet: true },
      defaultFromAddress: "help@northwind.example",
    });
    expect(saved.body).not.toContain("relay secret 42");
    const row = await t.db.selectFrom("email_settings").selectAll().executeTakeFirstOrThrow();
    expect(row.relay_secret).toMatch(/^v1\./);
    const audit = await t.db
      .selectFrom("audit_log")
      .selectAll()
      .where("action", "=", "email_settings.update")
      .execute();
    expect(audit).toHaveLength(1);
    expect(JSON.stringify(audit)).not.toContain("relay secret");
    expect(JSON.stringify(audit)).not.toContain(row.relay_secret);

    // Saving without a password keeps the stored one; a stale version is refused.
    const kept = await req("PUT", "/api/v1/email/settings", {
      version: saved.json().version,
      relay: { host: "127.0.0.1", port: receiver.port, tls: "none", user: "relay-user" },
    });
    expect(kept.json().relay.passwordSet).toBe(true);
    const stale = await req("PUT", "/api/v1/email/settings", {
      version: saved.json().version,
      defaultFromAddress: null,
    });
    expect(stale.statusCode).toBe(412);
    // Drop the credentials: the loopback receiver takes mail without AUTH.
    await req("PUT", "/api/v1/email/settings", {
      version: kept.json().version,
      relay: { host: "127.0.0.1", port: receiver.port, tls: "none", user: null },
    });
  });

  it("sends a test mail and shows the server's answer, accepted or refused", async () => {
    const ok = await req("POST", "/api/v1/email/settings/test", { to: "dana@northwind.example" });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ ok: true, from: "help@northwind.example", error: null });
    expect(ok.json().response).toContain("Ok: captured");
    expect(receiver.mails.at(-1)?.to).toEqual(["dana@northwind.example"]);

    const refused = await req("POST", "/api/v1/email/settings/test", { to: "nobody@northwind.example" });
    expect(refused.json()).toMatchObject({ ok: false });
    expect(`${refused.json().error} ${refused.json().response}`).toContain("no such user");

    const tech = await makeUser(t, { role: "technician" });
    expect(
      (await req("POST", "/api/v1/email/settings/test", { to: "x@example.test" }, tech)).statusCode,
    ).toBe(403);
    const client = await makeClient(t);
    const limited = await makeUser(t, { role: "admin", clientIds: [client.id] });
    expect((await req("GET", "/api/v1/email/settings", undefined, limited)).statusCode).toBe(403);
  });

  it("tests a mailbox's servers with its stored settings and reports each answer", async () => {
    const mb = await req("POST", "/api/v1/email/mailboxes", {
      address: "support@northwind.example",
      imap: { host: "127.0.0.1", port: 1, tls: "none", user: "support", password: "imap secret" },
      smtp: { host: "127.0.0.1", port: receiver.port, tls: "none", user: null },
    });
    expect(mb.statusCode).toBe(201);
    expect(mb.body).not.toContain("imap secret");
    const res = await req("POST", `/api/v1/email/mailboxes/${mb.json().id}/test`);
    expect(res.statusCode).toBe(200);
    const result = res.json();
    expect(result.smtp).toMatchObject({ ok: true });
    expect(result.imap.ok).toBe(false);
    expect(result.imap.message).toMatch(/ECONNREFUSED|connect/i);
  });

  it("previews a template with sample values", async () => {
    const res = await req("POST", "/api/v1/email/templates/preview", {
      subject: "Re: {{ticket.subject}}",
      body: "Hello {{contact.name}}, about #{{ticket.number}}.{{unknown}}",
    });
    expect(res.json()).toEqual({
      subject: "Re: Printer on the second floor jams",
      body: "Hello Maria Lopez, about #1042.",
    });
  });
});
