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
import { smtpSend, startEmailStack, startReceiver, waitFor } from "./test-support.ts";

type Stack = Awaited<ReturnType<typeof startEmailStack>>;
type Receiver = Awaited<ReturnType<typeof startReceiver>>;

let t: TestApp;
let stack: Stack;
let receiver: Receiver;
let admin: TestUser;
const MAILBOX = `${rand("help-")}@desk.example`;

beforeAll(async () => {
  receiver = await startReceiver();
  t = await createTestApp({
    SWITCHBOARD_SMTP_RELAY_URL: `smtp://127.0.0.1:${receiver.port}`,
    SWITCHBOARD_EMAIL_RATE_LIMIT: "5",
  });
  stack = await startEmailStack({ db: t.db, blobs: t.deps.blobs, config: t.deps.config }, t.url);
  t.deps.boss = stack.deps.boss;
  admin = await makeUser(t, { role: "admin" });
  await t.db.insertInto("email_mailboxes").values({ address: MAILBOX, name: "Help" }).execute();
});

afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
  await t?.close();
});

let seq = 0;
function mail(o: {
  from: string;
  subject: string;
  body?: string;
  messageId?: string | null;
  inReplyTo?: string;
  headers?: string[];
}) {
  const id = o.messageId === undefined ? `<${rand("m")}.${++seq}@mail.example>` : o.messageId;
  return [
    `From: ${o.from}`,
    `To: ${MAILBOX}`,
    `Subject: ${o.subject}`,
    "Date: Sun, 22 Nov 2026 09:00:00 +0000",
    ...(id ? [`Message-ID: ${id}`] : []),
    ...(o.inReplyTo ? [`In-Reply-To: ${o.inReplyTo}`, `References: ${o.inReplyTo}`] : []),
    ...(o.headers ?? []),
    "MIME-Version: 1.0",
    "Content-Type: text/plain; charset=utf-8",
    "",
    o.body ?? "Hello, the printer is jammed again.",
    "",
  ].join("\r\n");
}

const send = (raw: string, from = "someone@mail.example") =>
  smtpSend(stack.port, raw, { from, to: [MAILBOX] });

async function messageRow(messageId: string) {
  return waitFor(() =>
    t.db
      .selectFrom("email_messages")
      .selectAll()
      .where("message_id", "=", messageId.replace(/[<>]/g, ""))
      .where("direction", "=", "inbound")
      .where("status", "!=", "received")
      .executeTakeFirst(),
  );
}

async function emailEntries(ticketId: string) {
  return t.db
    .selectFrom("timeline_entries")
    .select(["id", "body", "author_contact_id"])
    .where("ticket_id", "=", ticketId)
    .where("kind", "=", "email")
    .execute();
}

async function newContact() {
  const client = await makeClient(t);
  const contact = await makeContact(t, client.id, { email: `${rand("c")}@${client.email_domains[0]}` });
  return { client, contact, email: contact.emails[0] as string };
}

describe("inbound email through the SMTP listener", () => {
  it("opens a ticket for a known contact, acknowledges it, and threads replies by header and by token", async () => {
    const { client, contact, email } = await newContact();
    const first = `<${rand("first")}@mail.example>`;
    await send(mail({ from: `Dana Doe <${email}>`, subject: "Printer jammed", messageId: first }), email);
    const row = await messageRow(first);
    expect(row.status).toBe("processed");
    const ticket = await t.db
      .selectFrom("tickets")
      .selectAll()
      .where("id", "=", row.ticket_id)
      .executeTakeFirstOrThrow();
    expect(ticket).toMatchObject({
      subject: "Printer jammed",
      client_id: client.id,
      contact_id: contact.id,
      source: "email",
    });
    expect((await emailEntries(ticket.id))[0]?.author_contact_id).toBe(contact.id);

    // The acknowledgement goes out threaded, with the ticket token, marked automatic.
    const ack = await waitFor(async () => receiver.mails.find((m) => m.to.includes(email)));
    const parsedAck = await simpleParser(ack.raw);
    expect(parsedAck.subject).toContain(`[#${ticket.number}]`);
    expect(parsedAck.inReplyTo).toBe(first);
    expect(parsedAck.headers.get("auto-submitted")).toBe("auto-replied");

    // A reply citing the acknowledgement's Message-ID (its client kept only that one).
    const byHeader = `<${rand("r1")}@mail.example>`;
    await send(
      mail({
        from: email,
        subject: "Re: something else",
        messageId: byHeader,
        inReplyTo: parsedAck.messageId,
      }),
      email,
    );
    expect((await messageRow(byHeader)).ticket_id).toBe(ticket.id);

    // A reply with no headers to go on, only the token in the subject.
    const byToken = `<${rand("r2")}@mail.example>`;
    await send(
      mail({ from: email, subject: `Fwd: still broken [#${ticket.number}]`, messageId: byToken }),
      email,
    );
    expect((await messageRow(byToken)).ticket_id).toBe(ticket.id);
    expect(await emailEntries(ticket.id)).toHaveLength(3);
  });

  it("makes one entry of the same message delivered twice", async () => {
    const { email } = await newContact();
    const id = `<${rand("twice")}@mail.example>`;
    const raw = mail({ from: email, subject: "Delivered twice", messageId: id });
    await send(raw, email);
    // The second copy arrives with an extra trace header, as a relay retry or an IMAP copy would.
    await send(
      `Received: from relay.example by mx.example; Sun, 22 Nov 2026 09:00:05 +0000\r\n${raw}`,
      email,
    );
    const rows = await waitFor(async () => {
      const r = await t.db
        .selectFrom("email_messages")
        .select(["status", "ticket_id"])
        .where("message_id", "=", id.slice(1, -1))
        .execute();
      return r.length === 2 && r.every((x) => x.status !== "received") ? r : null;
    });
    expect(rows.map((r) => r.status).sort()).toEqual(["duplicate", "processed"]);
    expect(rows[0]?.ticket_id).toBe(rows[1]?.ticket_id);
    expect(await emailEntries(rows[0]?.ticket_id as string)).toHaveLength(1);
  });

  it("does not append a stranger's reply to someone else's ticket", async () => {
    const { email } = await newContact();
    const first = `<${rand("orig")}@mail.example>`;
    await send(mail({ from: email, subject: "VPN down", messageId: first }), email);
    const original = await messageRow(first);

    // Another client's contact replies to the thread (a forwarded chain, a wrong CC...).
    const other = await newContact();
    const stranger = `<${rand("str")}@mail.example>`;
    await send(
      mail({ from: other.email, subject: "Re: VPN down", messageId: stranger, inReplyTo: first }),
      other.email,
    );
    const row = await messageRow(stranger);
    expect(row.ticket_id).not.toBe(original.ticket_id);
    expect(row.related_ticket_id).toBe(original.ticket_id);
    const created = await t.db
      .selectFrom("tickets")
      .selectAll()
      .where("id", "=", row.ticket_id)
      .executeTakeFirstOrThrow();
    expect(created.client_id).toBe(other.client.id);
    expect(await emailEntries(original.ticket_id as string)).toHaveLength(1);

    // With the review policy the stranger's reply waits for a person, who may put it on the ticket.
    await t.db
      .updateTable("email_mailboxes")
      .set({ stranger_policy: "review" })
      .where("address", "=", MAILBOX)
      .execute();
    try {
      const held = `<${rand("held")}@mail.example>`;
      await send(
        mail({ from: other.email, subject: "Re: VPN down", messageId: held, inReplyTo: first }),
        other.email,
      );
      const review = await messageRow(held);
      expect(review).toMatchObject({
        status: "review",
        ticket_id: null,
        related_ticket_id: original.ticket_id,
      });
      const res = await t.app.inject({
        method: "POST",
        url: `/api/v1/email/messages/${review.id}/retry`,
        headers: admin.auth,
        payload: { ticketId: original.ticket_id },
      });
      expect(res.statusCode).toBe(202);
      await waitFor(async () => (await emailEntries(original.ticket_id as string)).length === 2);
    } finally {
      await t.db
        .updateTable("email_mailboxes")
        .set({ stranger_policy: "new_ticket" })
        .where("address", "=", MAILBOX)
        .execute();
    }
  });

  it("resolves unknown senders: a client's domain makes a contact, an unknown domain waits unmatched", async () => {
    const client = await makeClient(t);
    const address = `${rand("new")}@${client.email_domains[0]}`;
    const id = `<${rand("dom")}@mail.example>`;
    await send(
      mail({ from: `"Lee, Pat" <${address}>`, subject: "New starter laptop", messageId: id }),
      address,
    );
    const row = await messageRow(id);
    const contact = await t.db
      .selectFrom("contacts")
      .selectAll()
      .where("id", "=", row.contact_id)
      .executeTakeFirstOrThrow();
    expect(contact).toMatchObject({
      client_id: client.id,
      first_name: "Pat",
      last_name: "Lee",
      emails: [address],
    });

    const lost = `<${rand("lost")}@mail.example>`;
    await send(mail({ from: "who@nowhere.example", subject: "Hello?", messageId: lost }));
    const unmatched = await messageRow(lost);
    expect(unmatched).toMatchObject({ status: "unmatched", ticket_id: null });
    // The unknown queue: an admin says whose it is.
    const res = await t.app.inject({
      method: "POST",
      url: `/api/v1/email/messages/${unmatched.id}/retry`,
      headers: admin.auth,
      payload: { clientId: client.id },
    });
    expect(res.statusCode).toBe(202);
    const placed = await waitFor(() =>
      t.db
        .selectFrom("email_messages as m")
        .innerJoin("tickets as t", "t.id", "m.ticket_id")
        .select(["t.client_id", "m.status"])
        .where("m.id", "=", unmatched.id)
        .executeTakeFirst(),
    );
    expect(placed).toEqual({ client_id: client.id, status: "processed" });
  });

  it("records auto-replies without acknowledging them", async () => {
    const { email } = await newContact();
    const id = `<${rand("ooo")}@mail.example>`;
    await send(
      mail({
        from: email,
        subject: "Out of Office: back Monday",
        messageId: id,
        headers: ["Auto-Submitted: auto-replied"],
      }),
      email,
    );
    const row = await messageRow(id);
    expect(row).toMatchObject({ status: "processed", is_auto_reply: true });
    const acks = await t.db
      .selectFrom("email_messages")
      .select("id")
      .where("ticket_id", "=", row.ticket_id)
      .where("direction", "=", "outbound")
      .execute();
    expect(acks).toHaveLength(0);
  });
});

describe("message content", () => {
  it("serves sanitized HTML with inline images linked to their attachments, the quote folded, only to those who see the ticket", async () => {
    const { client, email } = await newContact();
    const id = `<${rand("inline")}@mail.example>`;
    const png =
      "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==";
    const raw = [
      `From: ${email}`,
      `To: ${MAILBOX}`,
      "Subject: Error on screen",
      `Message-ID: ${id}`,
      "MIME-Version: 1.0",
      'Content-Type: multipart/related; boundary="r"',
      "",
      "--r",
      "Content-Type: text/html; charset=utf-8",
      "",
      '<p>See this <img src="cid:shot@x"><script>alert(1)</script></p><p>On Mon, Nov 23, 2026, Help wrote:</p><blockquote>old</blockquote>',
      "--r",
      "Content-Type: image/png",
      "Content-ID: <shot@x>",
      "Content-Disposition: inline; filename=shot.png",
      "Content-Transfer-Encoding: base64",
      "",
      png,
      "--r--",
      "",
    ].join("\r\n");
    await send(raw, email);
    const row = await messageRow(id);
    const tech = await makeUser(t, { role: "technician" });
    const res = await t.app.inject({
      method: "GET",
      url: `/api/v1/email/messages/${row.id}/content`,
      headers: tech.auth,
    });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    const image = body.attachments.find((a: { filename: string }) => a.filename === "shot.png");
    expect(image).toMatchObject({ inline: true, contentId: "shot@x", contentType: "image/png" });
    expect(body.html).toContain(`/api/v1/attachments/${image.id}`);
    expect(body.html).not.toContain("cid:");
    expect(body.html).not.toContain("<script");
    expect(body.main).toContain("See this");
    expect(body.folded).toContain("wrote:");

    const download = await t.app.inject({
      method: "GET",
      url: `/api/v1/attachments/${image.id}`,
      headers: tech.auth,
    });
    expect(download.statusCode).toBe(200);
    expect(download.rawPayload.equals(Buffer.from(png, "base64"))).toBe(true);

    const elsewhere = await makeClient(t);
    const limited = await makeUser(t, { role: "technician", clientIds: [elsewhere.id] });
    const hidden = await t.app.inject({
      method: "GET",
      url: `/api/v1/email/messages/${row.id}/content`,
      headers: limited.auth,
    });
    expect(hidden.statusCode).toBe(404);
    expect(client.id).not.toBe(elsewhere.id);
  });
});
