import { stat } from "node:fs/promises";
import path from "node:path";
import { ImapFlow } from "imapflow";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestApp,
  isolatedDatabase,
  makeClient,
  makeContact,
  makeUser,
  rand,
  type TestApp,
  type TestUser,
} from "../../../test/helpers.ts";
import { type Dovecot, dovecotAvailable, startDovecot } from "./dovecot-helper.ts";
import { ImapPoller } from "./imap.ts";
import { smtpSend, startEmailStack, waitFor } from "./test-support.ts";

// CI installs dovecot-imapd; on a workstation without it these tests are skipped, never silently in CI.
const run = dovecotAvailable() || process.env.CI ? describe : describe.skip;

run("IMAP mailboxes against a real dovecot", () => {
  let t: TestApp;
  let stack: Awaited<ReturnType<typeof startEmailStack>>;
  let dovecot: Dovecot;
  let poller: ImapPoller;
  let admin: TestUser;
  const good = `${rand("support-")}@imap.example`;
  const broken = `${rand("broken-")}@imap.example`;
  const password = `pw-${rand()}`;

  beforeAll(async () => {
    dovecot = await startDovecot({ [good]: password, [broken]: "the-real-password" });
    // A database of its own: any other poller on the shared one could take these mailboxes' leases.
    t = await createTestApp({ SWITCHBOARD_SMTP_RELAY_URL: "smtp://127.0.0.1:9" }, await isolatedDatabase());
    stack = await startEmailStack({ db: t.db, blobs: t.deps.blobs, config: t.deps.config }, t.url);
    t.deps.boss = stack.deps.boss;
    admin = await makeUser(t, { role: "admin" });
    // A long resync interval: only IDLE can bring the second message in within the wait.
    poller = new ImapPoller(stack.deps, { scanMs: 500, resyncMs: 120_000 });
  });

  afterAll(async () => {
    await poller?.stop();
    await stack?.stop();
    await dovecot?.stop();
    await t?.close();
  });

  async function deliver(user: string, pass: string, raw: string) {
    const c = new ImapFlow({
      host: "127.0.0.1",
      port: dovecot.port,
      secure: false,
      doSTARTTLS: false,
      auth: { user, pass },
      logger: false,
    });
    await c.connect();
    try {
      await c.append("INBOX", raw);
    } finally {
      await c.logout();
    }
  }

  const raw = (from: string, subject: string, id: string) =>
    [
      `From: ${from}`,
      `To: ${good}`,
      `Subject: ${subject}`,
      "Date: Sun, 22 Nov 2026 08:00:00 +0000",
      `Message-ID: <${id}>`,
      "Content-Type: text/plain; charset=utf-8",
      "",
      "The scanner on the second floor stopped sending to email.",
      "",
    ].join("\r\n");

  const inbound = (id: string) =>
    waitFor(() =>
      t.db
        .selectFrom("email_messages")
        .selectAll()
        .where("message_id", "=", id)
        .where("status", "!=", "received")
        .executeTakeFirst(),
    );

  it("manages mailboxes with encrypted credentials and polls each on its own session with IDLE", async () => {
    const client = await makeClient(t);
    const contact = await makeContact(t, client.id, { email: `${rand("p")}@${client.email_domains[0]}` });
    const from = contact.emails[0] as string;

    const create = (address: string, pass: string) =>
      t.app.inject({
        method: "POST",
        url: "/api/v1/email/mailboxes",
        headers: admin.auth,
        payload: {
          address,
          imap: { host: "127.0.0.1", port: dovecot.port, tls: "none", user: address, password: pass },
        },
      });
    const res = await create(good, password);
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ address: good, imapPasswordSet: true, imap: { port: dovecot.port } });
    expect(res.body).not.toContain(password);
    // The broken one (wrong password) must not hold up the good one.
    expect((await create(broken, "wrong-password")).statusCode).toBe(201);

    const row = await t.db
      .selectFrom("email_mailboxes")
      .selectAll()
      .where("address", "=", good)
      .executeTakeFirstOrThrow();
    expect(row.imap_secret).toMatch(/^v1\./);
    expect(row.imap_secret).not.toContain(password);
    const keyFile = await stat(path.join(t.deps.config.dataDir, "email.key"));
    expect(keyFile.mode & 0o777).toBe(0o600);
    const audit = await t.db
      .selectFrom("audit_log")
      .select("after")
      .where("entity_id", "=", row.id)
      .executeTakeFirstOrThrow();
    expect(JSON.stringify(audit.after)).not.toContain("v1.");

    const tech = await makeUser(t, { role: "technician" });
    const denied = await t.app.inject({ method: "GET", url: "/api/v1/email/mailboxes", headers: tech.auth });
    expect(denied.statusCode).toBe(403);

    const first = `${rand("imap1")}@mail.example`;
    await deliver(good, password, raw(from, "Scanner to email broken", first));
    await poller.start();
    const m1 = await inbound(first);
    expect(m1).toMatchObject({ status: "processed", source: "imap", mailbox_id: row.id });
    const ticket = await t.db
      .selectFrom("tickets")
      .selectAll()
      .where("id", "=", m1.ticket_id)
      .executeTakeFirstOrThrow();
    expect(ticket).toMatchObject({ client_id: client.id, contact_id: contact.id, source: "email" });

    // Delivered while the session is idling: IDLE wakes it (the resync backstop is 30 s away).
    const second = `${rand("imap2")}@mail.example`;
    await deliver(good, password, raw(from, `Re: Scanner [#${ticket.number}]`, second));
    expect((await inbound(second)).ticket_id).toBe(ticket.id);

    const bad = await waitFor(() =>
      t.db
        .selectFrom("email_mailboxes")
        .select("last_error")
        .where("address", "=", broken)
        .where("last_error", "is not", null)
        .executeTakeFirst(),
    );
    expect(bad.last_error).toMatch(/auth|fail|invalid/i);

    // The same mail arriving by SMTP as well is one message.
    await smtpSend(stack.port, raw(from, `Re: Scanner [#${ticket.number}]`, second), { from, to: [good] });
    const copies = await waitFor(async () => {
      const r = await t.db
        .selectFrom("email_messages")
        .select("status")
        .where("message_id", "=", second)
        .execute();
      return r.length === 2 && r.every((x) => x.status !== "received") ? r : null;
    });
    expect(copies.map((c) => c.status).sort()).toEqual(["duplicate", "processed"]);

    const list = await t.app.inject({ method: "GET", url: "/api/v1/email/mailboxes", headers: admin.auth });
    const polled = list.json().items.find((m: { address: string }) => m.address === good);
    expect(polled.lastPolledAt).not.toBeNull();
  });
});
