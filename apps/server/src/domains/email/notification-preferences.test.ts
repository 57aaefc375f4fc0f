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
import { acceptMessage, processInbound } from "./ingest.ts";
import { notifyOnEvent } from "./notifications.ts";
import { startEmailStack, ticketEventFeed } from "./test-support.ts";

// The technician's notification preferences as the email channel applies them. No workers: the
// notifications are observed as the outbound rows they queue, in the order the events happen.
let t: TestApp;
let stack: Awaited<ReturnType<typeof startEmailStack>>;
let admin: TestUser;
let mailboxId = "";
const MAILBOX = `help@${rand("d")}.desk.example`;

beforeAll(async () => {
  t = await createTestApp();
  stack = await startEmailStack({ db: t.db, blobs: t.deps.blobs, config: t.deps.config }, t.url, {
    workers: false,
    listener: false,
  });
  t.deps.boss = stack.deps.boss;
  admin = await makeUser(t, { role: "admin" });
  const mb = await t.db
    .insertInto("email_mailboxes")
    .values({ address: MAILBOX })
    .returning("id")
    .executeTakeFirstOrThrow();
  mailboxId = mb.id;
});

afterAll(async () => {
  await stack?.stop();
  await t?.close();
});

/** One inbound message, accepted and processed as the worker would; returns its row. */
async function receive(from: string, subject: string, opts: { inReplyTo?: string } = {}) {
  const messageId = `${rand("m")}@mail.example`;
  const raw = [
    `From: ${from}`,
    `To: ${MAILBOX}`,
    `Subject: ${subject}`,
    `Message-ID: <${messageId}>`,
    ...(opts.inReplyTo ? [`In-Reply-To: <${opts.inReplyTo}>`] : []),
    "Content-Type: text/plain; charset=utf-8",
    "",
    "The backup failed again.",
    "",
  ].join("\r\n");
  const id = await acceptMessage(stack.deps, {
    raw: Buffer.from(raw),
    source: "api",
    mailboxId,
    envelopeFrom: from,
    envelopeTo: [MAILBOX],
  });
  expect(await processInbound(stack.deps, { id })).toBe("processed");
  return {
    messageId,
    row: await t.db.selectFrom("email_messages").selectAll().where("id", "=", id).executeTakeFirstOrThrow(),
  };
}

/**
 * A ticket by email, assigned to `tech` by an admin, then answered by the customer, with every domain
 * event handed to the notifier. Returns the notifications queued to the technician, by template.
 */
async function assignAndReply(tech: TestUser) {
  const client = await makeClient(t);
  const contact = await makeContact(t, client.id, { email: `${rand("c")}@${client.email_domains[0]}` });
  const from = contact.emails[0] as string;
  const first = await receive(from, "Backup failed");
  const ticketId = first.row.ticket_id as string;
  expect(ticketId).toBeTruthy();

  const deliverEvents = ticketEventFeed(t.db, ticketId, (e) => notifyOnEvent(stack.deps, e));
  await deliverEvents();
  const { version } = await t.db
    .selectFrom("tickets")
    .select("version")
    .where("id", "=", ticketId)
    .executeTakeFirstOrThrow();
  const patch = await t.app.inject({
    method: "PATCH",
    url: `/api/v1/tickets/${ticketId}`,
    headers: admin.auth,
    payload: { version, assigneeId: tech.id },
  });
  expect(patch.statusCode).toBe(200);
  await deliverEvents();
  const reply = await receive(from, "Re: Backup failed", { inReplyTo: first.messageId });
  expect(reply.row.ticket_id).toBe(ticketId);
  await deliverEvents();

  const queued = await t.db
    .selectFrom("email_messages")
    .select(["template", "to_addresses"])
    .where("ticket_id", "=", ticketId)
    .where("direction", "=", "outbound")
    .where("template", "in", ["assigned", "new_reply"])
    .orderBy("template")
    .execute();
  for (const q of queued) expect(q.to_addresses).toEqual([tech.email]);
  return queued.map((q) => q.template);
}

const setPreferences = async (tech: TestUser, body: object) => {
  const res = await t.app.inject({
    method: "PUT",
    url: "/api/v1/me/notification-preferences",
    headers: tech.auth,
    payload: body,
  });
  expect(res.statusCode).toBe(200);
};

describe("notification preferences in the email channel", () => {
  it("mails a technician who never chose, on assignment and on the customer's reply", async () => {
    const tech = await makeUser(t);
    expect(await assignAndReply(tech)).toEqual(["assigned", "new_reply"]);
  });

  it("sends no assignment mail to a technician who turned it off, but still the reply", async () => {
    const tech = await makeUser(t);
    await setPreferences(tech, { assigned: false });
    expect(await assignAndReply(tech)).toEqual(["new_reply"]);
  });

  it("sends no reply mail to a technician who turned it off, but still the assignment", async () => {
    const tech = await makeUser(t);
    await setPreferences(tech, { newReply: false });
    expect(await assignAndReply(tech)).toEqual(["assigned"]);
  });

  it("sends neither to a technician who turned both off, and both again once turned back on", async () => {
    const tech = await makeUser(t);
    await setPreferences(tech, { assigned: false, newReply: false });
    expect(await assignAndReply(tech)).toEqual([]);
    await setPreferences(tech, { assigned: true, newReply: true });
    expect(await assignAndReply(tech)).toEqual(["assigned", "new_reply"]);
  });
});
