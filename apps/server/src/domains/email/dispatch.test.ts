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
} from "../../../test/helpers.ts";
import { EventDispatcher } from "../events/dispatcher.ts";
import { registerEmailHandlers } from "./channel.ts";
import { smtpSend, startEmailStack, startReceiver, waitFor } from "./test-support.ts";

// A database of its own: the dispatcher takes every pending event, which must not be other files' events.
describe("a console reply, through the outbox dispatcher", () => {
  let t: TestApp;
  let stack: Awaited<ReturnType<typeof startEmailStack>>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let dispatcher: EventDispatcher;
  const mailbox = `${rand("help-")}@desk.example`;

  beforeAll(async () => {
    receiver = await startReceiver();
    const url = await isolatedDatabase();
    t = await createTestApp({ SWITCHBOARD_SMTP_RELAY_URL: `smtp://127.0.0.1:${receiver.port}` }, url);
    stack = await startEmailStack({ db: t.db, blobs: t.deps.blobs, config: t.deps.config }, url);
    dispatcher = new EventDispatcher(t.db, stack.deps.boss);
    registerEmailHandlers(dispatcher, stack.deps);
    await dispatcher.start(t.deps.live, 500);
    await t.db.insertInto("email_mailboxes").values({ address: mailbox }).execute();
  });

  afterAll(async () => {
    dispatcher?.stop();
    await stack?.stop();
    await receiver?.close();
    await t?.close();
  });

  it("is mailed to the customer from the mailbox they wrote to, threaded", async () => {
    const client = await makeClient(t);
    const contact = await makeContact(t, client.id, { email: `${rand("c")}@${client.email_domains[0]}` });
    const email = contact.emails[0] as string;
    const first = `${rand("m")}@mail.example`;
    await smtpSend(
      stack.port,
      `From: ${email}\r\nTo: ${mailbox}\r\nSubject: Laptop fan loud\r\nMessage-ID: <${first}>\r\n\r\nIt sounds like a jet.\r\n`,
      { from: email, to: [mailbox] },
    );
    const row = await waitFor(() =>
      t.db
        .selectFrom("email_messages")
        .select("ticket_id")
        .where("message_id", "=", first)
        .where("status", "=", "processed")
        .executeTakeFirst(),
    );
    const tech = await makeUser(t, { role: "technician" });
    const res = await t.app.inject({
      method: "POST",
      url: `/api/v1/tickets/${row.ticket_id}/timeline`,
      headers: tech.auth,
      payload: { kind: "reply", body: "Please blow out the vents; I ordered a new fan." },
    });
    expect(res.statusCode).toBe(201);

    const reply = await waitFor(async () => {
      for (const m of receiver.mails.filter((x) => x.to.includes(email))) {
        const p = await simpleParser(m.raw);
        if (p.text?.includes("new fan")) return p;
      }
      return null;
    });
    expect(reply.from?.value[0]?.address).toBe(mailbox);
    expect(reply.inReplyTo).toBe(`<${first}>`);
    expect(reply.subject).toMatch(/^Re: Laptop fan loud \[#\d+\]$/);

    // The customer's mail on the then unassigned ticket made no job for the email handler (nobody to
    // tell); the technician's reply did.
    const events = await t.db
      .selectFrom("domain_events")
      .select(["id", "payload", "dispatched_at"])
      .where("ticket_id", "=", row.ticket_id)
      .where("type", "=", "ticket.timeline_added")
      .orderBy("id")
      .execute();
    expect(events.map((e) => (e.payload as { kind: string }).kind)).toEqual(["email", "reply"]);
    expect(events.every((e) => e.dispatched_at !== null)).toBe(true);
    const jobsFor = (eventId: number) => stack.deps.boss.findJobs("event.email", { data: { eventId } });
    expect(await jobsFor(events[0]?.id as number)).toHaveLength(0);
    expect(await jobsFor(events[1]?.id as number)).toHaveLength(1);
  });
});
