import type { TimelineEntryDto } from "@switchboard/shared";
import { simpleParser } from "mailparser";
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
import { acceptMessage, processInbound } from "./ingest.ts";
import { mailPublicReply } from "./outbound.ts";
import { startEmailStack, startReceiver, ticketEventFeed, waitFor } from "./test-support.ts";

// A database of its own: the first test needs a server with no mailbox at all (no From address).
describe("a technician's reply on a phone ticket", () => {
  let t: TestApp;
  let stack: Awaited<ReturnType<typeof startEmailStack>>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let tech: TestUser;
  const logged: Array<{ level: string; obj: object; msg?: string }> = [];
  const log = {
    info: (obj: object, msg?: string) => logged.push({ level: "info", obj, msg }),
    warn: (obj: object, msg?: string) => logged.push({ level: "warn", obj, msg }),
    error: (obj: object, msg?: string) => logged.push({ level: "error", obj, msg }),
  };

  beforeAll(async () => {
    receiver = await startReceiver();
    const url = await isolatedDatabase();
    // No relay, no SWITCHBOARD_EMAIL_FROM, no mailbox: nothing can be sent yet.
    t = await createTestApp({}, url);
    stack = await startEmailStack({ db: t.db, blobs: t.deps.blobs, config: t.deps.config, log }, url, {
      listener: false,
    });
    t.deps.boss = stack.deps.boss;
    tech = await makeUser(t, { role: "technician" });
  });

  afterAll(async () => {
    await stack?.stop();
    await receiver?.close();
    await t?.close();
  });

  const api = async (method: "GET" | "POST", url: string, payload?: object) => {
    const res = await t.app.inject({ method, url: `/api/v1${url}`, headers: tech.auth, payload });
    expect(res.statusCode, res.body).toBeLessThan(300);
    return res.json();
  };
  const entry = async (ticketId: string, entryId: string): Promise<TimelineEntryDto> => {
    const r = await api("GET", `/tickets/${ticketId}`);
    return r.timeline.find((e: TimelineEntryDto) => e.id === entryId);
  };
  const upload = async (ticketId: string, name: string, content: string) => {
    const boundary = "----sbdelivery";
    const res = await t.app.inject({
      method: "POST",
      url: `/api/v1/tickets/${ticketId}/attachments`,
      headers: { ...tech.auth, "content-type": `multipart/form-data; boundary=${boundary}` },
      payload:
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${name}"\r\n` +
        `Content-Type: text/plain\r\n\r\n${content}\r\n--${boundary}--\r\n`,
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().attachments[0].id as string;
  };

  it("says before sending that no From or relay is set, fails visibly on the entry, and sends on retry once a mailbox exists", async () => {
    const client = await makeClient(t);
    const contact = await makeContact(t, client.id, { email: `${rand("c")}@${client.email_domains[0]}` });
    const ticket = await api("POST", "/tickets", {
      subject: "Password reset, called in",
      clientId: client.id,
      contactId: contact.id,
      source: "phone",
    });
    const feed = ticketEventFeed(t.db, ticket.id, (e) => mailPublicReply(stack.deps, e));

    const before = await api("GET", `/tickets/${ticket.id}/reply-route`);
    expect(before.problem).toMatch(/No From address/);
    expect(before.to).toEqual([contact.emails[0]]);

    const reply = await api("POST", `/tickets/${ticket.id}/timeline`, {
      kind: "reply",
      body: "I reset it: try again.",
    });
    await feed();
    const failed = await waitFor(async () => {
      const e = await entry(ticket.id, reply.id);
      return e.emails[0]?.status === "failed" ? e.emails[0] : null;
    });
    expect(failed.error).toMatch(/no From address/);
    expect(failed.to).toEqual([contact.emails[0]]);
    // The server log says it, with the reason, at error level (final: no retry can fix it).
    expect(logged.find((l) => l.level === "error" && l.msg === "email delivery failed")?.obj).toMatchObject({
      emailMessageId: failed.id,
      reason: expect.stringMatching(/no From address/),
    });

    // The admin adds the MSP's mailbox with its SMTP server: a phone ticket's reply goes out from it.
    const mailbox = `${rand("help-")}@desk.example`;
    await t.db
      .insertInto("email_mailboxes")
      .values({ address: mailbox, smtp_host: "127.0.0.1", smtp_port: receiver.port, smtp_tls: "none" })
      .execute();
    const after = await api("GET", `/tickets/${ticket.id}/reply-route`);
    expect(after).toMatchObject({ problem: null, from: mailbox, via: "mailbox" });

    const retried = await t.app.inject({
      method: "POST",
      url: `/api/v1/tickets/${ticket.id}/emails/${failed.id}/retry`,
      headers: tech.auth,
    });
    expect(retried.statusCode, retried.body).toBe(202);
    const sent = await waitFor(async () => {
      const e = await entry(ticket.id, reply.id);
      return e.emails[0]?.status === "sent" ? e.emails[0] : null;
    });
    expect(sent.sentAt).not.toBeNull();
    const mail = await simpleParser(
      receiver.mails.find((m) => m.to.includes(contact.emails[0] as string))?.raw ?? "",
    );
    expect(mail.from?.value[0]?.address).toBe(mailbox);
    expect(mail.text).toContain("I reset it");

    // A message that was sent cannot be "retried" into a second copy.
    const again = await t.app.inject({
      method: "POST",
      url: `/api/v1/tickets/${ticket.id}/emails/${failed.id}/retry`,
      headers: tech.auth,
    });
    expect(again.statusCode).toBe(409);
  });

  it("mails the To and CC the technician chose with the reply's attachment; a bounce shows on the entry", async () => {
    const client = await makeClient(t);
    const contact = await makeContact(t, client.id, { email: `${rand("c")}@${client.email_domains[0]}` });
    const ticket = await api("POST", "/tickets", {
      subject: "Scanner offline",
      clientId: client.id,
      contactId: contact.id,
      source: "phone",
    });
    const feed = ticketEventFeed(t.db, ticket.id, (e) => mailPublicReply(stack.deps, e));
    const fileId = await upload(ticket.id, "steps.txt", "1. Power-cycle the scanner");
    const to = `${rand("office-")}@${client.email_domains[0]}`;
    const cc = `${rand("boss-")}@${client.email_domains[0]}`;
    const reply = await api("POST", `/tickets/${ticket.id}/timeline`, {
      kind: "reply",
      body: "The steps are attached.",
      to: [to],
      cc: [cc],
      attachmentIds: [fileId],
    });
    expect(reply.attachments.map((a: { filename: string }) => a.filename)).toEqual(["steps.txt"]);
    await feed();
    const captured = await waitFor(async () => receiver.mails.find((m) => m.to.includes(to)));
    expect(captured.to.sort()).toEqual([to, cc].sort());
    const mail = await simpleParser(captured.raw);
    expect(mail.attachments.map((a) => [a.filename, a.content.toString()])).toEqual([
      ["steps.txt", "1. Power-cycle the scanner"],
    ]);
    const sent = await waitFor(async () => {
      const e = await entry(ticket.id, reply.id);
      return e.emails[0]?.status === "sent" ? e.emails[0] : null;
    });
    expect(sent).toMatchObject({ to: [to], cc: [cc] });

    // A file already tied to an entry cannot be tied to another.
    const reuse = await t.app.inject({
      method: "POST",
      url: `/api/v1/tickets/${ticket.id}/timeline`,
      headers: tech.auth,
      payload: { kind: "note", body: "again", attachmentIds: [fileId] },
    });
    expect(reuse.statusCode).toBe(400);
    expect(reuse.json().error.details.issues[0].path).toBe("body.attachmentIds");

    // The office address does not exist: its server's delivery failure notice comes back.
    const messageId = mail.messageId as string;
    const dsn = [
      "From: Mail Delivery System <MAILER-DAEMON@mx.example>",
      "To: help@desk.example",
      "Subject: Undelivered Mail Returned to Sender",
      `Message-ID: <${rand("dsn")}@mx.example>`,
      "MIME-Version: 1.0",
      'Content-Type: multipart/report; report-type=delivery-status; boundary="r"',
      "",
      "--r",
      "Content-Type: text/plain",
      "",
      "Your message could not be delivered.",
      "--r",
      "Content-Type: message/delivery-status",
      "",
      "Reporting-MTA: dns; mx.example",
      "",
      `Final-Recipient: rfc822; ${to}`,
      "Action: failed",
      "Status: 5.1.1",
      "Diagnostic-Code: smtp; 550 5.1.1 User unknown",
      "--r",
      "Content-Type: text/rfc822-headers",
      "",
      `Message-ID: ${messageId}`,
      "--r--",
      "",
    ].join("\r\n");
    const id = await acceptMessage(stack.deps, { raw: Buffer.from(dsn), source: "api" });
    expect(await processInbound(stack.deps, { id })).toBe("processed");
    const bounced = (await entry(ticket.id, reply.id)).emails[0];
    expect(bounced).toMatchObject({ status: "bounced", error: `${to}: 550 5.1.1 User unknown` });
    // The notice is recorded on the ticket, not as a new ticket or an entry of its own.
    const dsnRow = await t.db
      .selectFrom("email_messages")
      .select(["ticket_id", "timeline_entry_id"])
      .where("id", "=", id)
      .executeTakeFirstOrThrow();
    expect(dsnRow).toEqual({ ticket_id: ticket.id, timeline_entry_id: null });
    const events = await t.db
      .selectFrom("domain_events")
      .select("type")
      .where("ticket_id", "=", ticket.id)
      .where("type", "=", "email.bounced")
      .execute();
    expect(events).toHaveLength(1);
  });
});
