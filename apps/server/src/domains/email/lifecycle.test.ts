import { spawn } from "node:child_process";
import path from "node:path";
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
import { toLiveEvent } from "../events/queries.ts";
import { processInbound } from "./ingest.ts";
import { notifyOnEvent } from "./notifications.ts";
import { mailPublicReply } from "./outbound.ts";
import { smtpSend, startEmailStack, startReceiver, ticketEventFeed, waitFor } from "./test-support.ts";

type Stack = Awaited<ReturnType<typeof startEmailStack>>;

let t: TestApp;
let stack: Stack;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let admin: TestUser;
const DOMAIN = `${rand("d")}.desk.example`;
const MAILBOX = `help@${DOMAIN}`;

beforeAll(async () => {
  receiver = await startReceiver({
    reject: (rcpt) => (rcpt.startsWith("gone-") ? "5.1.1 No such user here" : null),
  });
  t = await createTestApp({
    SWITCHBOARD_SMTP_RELAY_URL: `smtp://127.0.0.1:${receiver.port}`,
    SWITCHBOARD_SMTP_DOMAINS: DOMAIN,
    SWITCHBOARD_SMTP_MAX_BYTES: String(200 * 1024),
    SWITCHBOARD_EMAIL_MAX_BYTES: String(64 * 1024),
    SWITCHBOARD_EMAIL_RATE_LIMIT: "3",
  });
  stack = await startEmailStack({ db: t.db, blobs: t.deps.blobs, config: t.deps.config }, t.url);
  t.deps.boss = stack.deps.boss;
  admin = await makeUser(t, { role: "admin" });
  await t.db.insertInto("email_mailboxes").values({ address: MAILBOX }).execute();
});

afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
  await t?.close();
});

const message = (from: string, subject: string, id: string, body = "Please help.") =>
  [
    `From: ${from}`,
    `To: ${MAILBOX}`,
    `Subject: ${subject}`,
    `Message-ID: <${id}>`,
    "Content-Type: text/plain; charset=utf-8",
    "",
    body,
    "",
  ].join("\r\n");

const settled = (id: string) =>
  waitFor(() =>
    t.db
      .selectFrom("email_messages")
      .selectAll()
      .where("message_id", "=", id)
      .where("status", "!=", "received")
      .executeTakeFirst(),
  );

async function contact() {
  const client = await makeClient(t);
  const c = await makeContact(t, client.id, { email: `${rand("c")}@${client.email_domains[0]}` });
  return { client, contact: c, email: c.emails[0] as string };
}

describe("limits, quarantine and retry", () => {
  it("refuses other domains and oversized mail in the SMTP dialogue", async () => {
    await expect(
      smtpSend(stack.port, message("a@x.example", "hi", rand()), {
        from: "a@x.example",
        to: ["x@elsewhere.example"],
      }),
    ).rejects.toThrow(/550|not permitted/);
    const huge = message("a@x.example", "big", rand(), "x".repeat(300 * 1024));
    await expect(smtpSend(stack.port, huge, { from: "a@x.example", to: [MAILBOX] })).rejects.toThrow(
      /552|size/,
    );
  });

  it("quarantines malformed and too-large mail with the reason, and an admin can list and retry it", async () => {
    // No From at all: nobody to answer, nothing to thread.
    const broken = `${rand("broken")}@mail.example`;
    await smtpSend(stack.port, `Subject: ???\r\nMessage-ID: <${broken}>\r\n\r\n\x00\x01garbage\r\n`, {
      from: "x@mail.example",
      to: [MAILBOX],
    });
    const big = `${rand("big")}@mail.example`;
    await smtpSend(stack.port, message("a@x.example", "scan", big, "y".repeat(100 * 1024)), {
      from: "a@x.example",
      to: [MAILBOX],
    });

    const list = async () => {
      const res = await t.app.inject({
        method: "GET",
        url: "/api/v1/email/messages?status=quarantined",
        headers: admin.auth,
      });
      expect(res.statusCode).toBe(200);
      return res.json().items as Array<{
        id: string;
        statusReason: string;
        attempts: number;
        sizeBytes: number;
      }>;
    };
    const held = await waitFor(async () => {
      const items = await list();
      const reasons = items.map((i) => i.statusReason).join("|");
      return /no sender/.test(reasons) && /too large/.test(reasons) ? items : null;
    });
    const malformed = held.find((i) => /no sender/.test(i.statusReason));
    expect(malformed).toBeDefined();

    const tech = await makeUser(t, { role: "technician" });
    const denied = await t.app.inject({ method: "GET", url: "/api/v1/email/messages", headers: tech.auth });
    expect(denied.statusCode).toBe(403);

    const retry = await t.app.inject({
      method: "POST",
      url: `/api/v1/email/messages/${malformed?.id}/retry`,
      headers: admin.auth,
      payload: {},
    });
    expect(retry.statusCode).toBe(202);
    const again = await waitFor(async () =>
      (await list()).find((i) => i.id === malformed?.id && i.attempts === 2),
    );
    expect(again.statusReason).toMatch(/no sender/);
    const audit = await t.db
      .selectFrom("audit_log")
      .selectAll()
      .where("entity_id", "=", malformed?.id as string)
      .executeTakeFirst();
    expect(audit?.action).toBe("email.retry");
  });

  it("holds a sender over the rate limit, and the admin's retry lets it through", async () => {
    const { email } = await contact();
    const ids = Array.from({ length: 4 }, () => `${rand("loop")}@mail.example`);
    for (const id of ids)
      await smtpSend(stack.port, message(email, `Loop ${id}`, id), { from: email, to: [MAILBOX] });
    const rows = await Promise.all(ids.map(settled));
    const held = rows.filter((r) => r.status === "quarantined");
    expect(held).toHaveLength(1);
    expect(held[0]?.status_reason).toMatch(/rate limited/);

    const res = await t.app.inject({
      method: "POST",
      url: `/api/v1/email/messages/${held[0]?.id}/retry`,
      headers: admin.auth,
      payload: {},
    });
    expect(res.statusCode).toBe(202);
    const done = await waitFor(() =>
      t.db
        .selectFrom("email_messages")
        .selectAll()
        .where("id", "=", held[0]?.id as string)
        .where("status", "=", "processed")
        .executeTakeFirst(),
    );
    expect(done.ticket_id).not.toBeNull();
  });
});

describe("durability", () => {
  it("quarantines a message that still fails on its last attempt instead of leaving it unseen", async () => {
    const row = await t.db
      .insertInto("email_messages")
      .values({
        direction: "inbound",
        source: "smtp",
        status: "received",
        raw_key: "0".repeat(64),
        size_bytes: 10,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    // The stored original is gone (a broken disk): an ordinary attempt fails and will be retried...
    await expect(processInbound(stack.deps, { id: row.id })).rejects.toThrow();
    // ...the last one holds it with the reason.
    expect(await processInbound(stack.deps, { id: row.id }, { finalAttempt: true })).toBe("quarantined");
    const held = await t.db
      .selectFrom("email_messages")
      .selectAll()
      .where("id", "=", row.id)
      .executeTakeFirstOrThrow();
    expect(held.status_reason).toMatch(/processing failed: .*ENOENT/);
  });

  it("makes the ticket after the accepting process is killed right after its 250", async () => {
    const { email } = await contact();
    const child = spawn(process.execPath, [path.join(import.meta.dirname, "accept-only-process.ts")], {
      env: {
        ...process.env,
        DATABASE_URL: t.url,
        EMAIL_TEST_BOSS_SCHEMA: stack.schema,
        SWITCHBOARD_DATA_DIR: t.deps.config.dataDir,
        SWITCHBOARD_SMTP_DOMAINS: DOMAIN,
        LOG_LEVEL: "silent",
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      const port = await new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error("accept-only process did not start")), 20_000);
        child.stdout?.on("data", (c: Buffer) => {
          const m = /listening (\d+)/.exec(c.toString());
          if (m) {
            clearTimeout(timer);
            resolve(Number(m[1]));
          }
        });
        child.once("exit", (code) => reject(new Error(`accept-only process exited with ${code}`)));
      });
      const id = `${rand("crash")}@mail.example`;
      const info = await smtpSend(port, message(email, "Server room too hot", id), {
        from: email,
        to: [MAILBOX],
      });
      expect(info.response).toMatch(/^250/);
      child.kill("SIGKILL");
      // The main stack's workers (the "restarted" process) find the job the dead one committed.
      const row = await settled(id);
      expect(row.status).toBe("processed");
      const ticket = await t.db
        .selectFrom("tickets")
        .select("subject")
        .where("id", "=", row.ticket_id)
        .executeTakeFirstOrThrow();
      expect(ticket.subject).toBe("Server room too hot");
    } finally {
      if (child.exitCode === null) child.kill("SIGKILL");
    }
  });
});

describe("outbound replies", () => {
  it("mails a technician's public reply with threading headers and the token; never an internal note", async () => {
    const { email } = await contact();
    const first = `${rand("q")}@mail.example`;
    await smtpSend(stack.port, message(email, "Outlook keeps crashing", first), {
      from: email,
      to: [MAILBOX],
    });
    const inbound = await settled(first);
    const ticketId = inbound.ticket_id as string;
    const ticket = await t.db
      .selectFrom("tickets")
      .selectAll()
      .where("id", "=", ticketId)
      .executeTakeFirstOrThrow();
    const tech = await makeUser(t, { role: "technician" });

    const post = async (kind: "reply" | "note", body: string) => {
      const res = await t.app.inject({
        method: "POST",
        url: `/api/v1/tickets/${ticketId}/timeline`,
        headers: tech.auth,
        payload: { kind, body },
      });
      expect(res.statusCode).toBe(201);
      const entryId = res.json().id as string;
      const event = await t.db
        .selectFrom("domain_events")
        .selectAll()
        .where("ticket_id", "=", ticketId)
        .where("type", "=", "ticket.timeline_added")
        .where(sql<string>`payload->>'entryId'`, "=", entryId)
        .executeTakeFirstOrThrow();
      // What the dispatcher's handler receives; delivered twice, as at-least-once delivery may.
      await mailPublicReply(stack.deps, toLiveEvent(event));
      await mailPublicReply(stack.deps, toLiveEvent(event));
      return entryId;
    };
    await post("note", "Internal: user is on the old build");
    const replyId = await post("reply", "Please try safe mode: outlook.exe /safe");

    const sent = await waitFor(async () => {
      const m = receiver.mails.filter((x) => x.to.includes(email));
      return m.length >= 2 ? m : null; // the acknowledgement and the reply
    });
    const parsed = await Promise.all(sent.map((m) => simpleParser(m.raw)));
    const reply = parsed.find((p) => p.text?.includes("safe mode"));
    expect(reply?.subject).toBe(`Re: Outlook keeps crashing [#${ticket.number}]`);
    expect(reply?.inReplyTo).toBe(`<${first}>`);
    expect(reply?.references).toContain(`<${first}>`);
    expect(parsed.some((p) => p.text?.includes("old build"))).toBe(false);

    const timeline = await t.app.inject({
      method: "GET",
      url: `/api/v1/tickets/${ticketId}/emails`,
      headers: tech.auth,
    });
    const out = timeline.json().items.filter((i: { direction: string }) => i.direction === "outbound");
    const replyMail = await waitFor(async () => {
      const r = await t.app.inject({
        method: "GET",
        url: `/api/v1/tickets/${ticketId}/emails`,
        headers: tech.auth,
      });
      return r
        .json()
        .items.find(
          (i: { timelineEntryId: string; status: string }) =>
            i.timelineEntryId === replyId && i.status === "sent",
        );
    });
    expect(out.length).toBe(2);
    expect(replyMail.smtpResponse).toMatch(/^250/);

    // The customer's answer to our reply threads by its In-Reply-To.
    const answer = `${rand("a")}@mail.example`;
    await smtpSend(
      stack.port,
      message(email, "Re: it works", answer).replace(
        "Content-Type",
        `In-Reply-To: ${reply?.messageId}\r\nContent-Type`,
      ),
      { from: email, to: [MAILBOX] },
    );
    expect((await settled(answer)).ticket_id).toBe(ticketId);
  });

  it("shows a delivery the receiving server refuses as failed, with its answer", async () => {
    const client = await makeClient(t);
    const gone = `gone-${rand()}@${client.email_domains[0]}`;
    const c = await makeContact(t, client.id, { email: gone });
    const id = `${rand("g")}@mail.example`;
    await smtpSend(stack.port, message(gone, "Please reset my password", id), { from: gone, to: [MAILBOX] });
    const row = await settled(id);
    expect(row.contact_id).toBe(c.id);
    const failed = await waitFor(() =>
      t.db
        .selectFrom("email_messages")
        .selectAll()
        .where("ticket_id", "=", row.ticket_id)
        .where("direction", "=", "outbound")
        .where("status", "=", "failed")
        .executeTakeFirst(),
    );
    expect(failed.last_error).toMatch(/No such user/);
  });
});

describe("notifications", () => {
  it("mails the assignee on assignment and on the customer's reply, and the contact when resolved, once each", async () => {
    const { email } = await contact();
    const first = `${rand("n")}@mail.example`;
    await smtpSend(stack.port, message(email, "Backup failed", first), { from: email, to: [MAILBOX] });
    const ticketId = (await settled(first)).ticket_id as string;
    const tech = await makeUser(t, { role: "technician" });
    // Runs the handler on each new event of the ticket twice, as a redelivery would.
    const deliverEvents = ticketEventFeed(t.db, ticketId, (e) => notifyOnEvent(stack.deps, e), 2);
    const patch = async (body: Record<string, unknown>) => {
      const current = await t.db
        .selectFrom("tickets")
        .select("version")
        .where("id", "=", ticketId)
        .executeTakeFirstOrThrow();
      const res = await t.app.inject({
        method: "PATCH",
        url: `/api/v1/tickets/${ticketId}`,
        headers: admin.auth,
        payload: { version: current.version, ...body },
      });
      expect(res.statusCode).toBe(200);
    };
    await deliverEvents();
    await patch({ assigneeId: tech.id });
    await deliverEvents();
    const reply = `${rand("n2")}@mail.example`;
    const answer = message(email, "Re: Backup failed", reply, "It failed again tonight.");
    await smtpSend(stack.port, answer.replace("Content-Type", `In-Reply-To: <${first}>\r\nContent-Type`), {
      from: email,
      to: [MAILBOX],
    });
    await settled(reply);
    await deliverEvents();
    const resolved = await t.db
      .selectFrom("ticket_statuses")
      .select("id")
      .where("category", "=", "resolved")
      .executeTakeFirstOrThrow();
    await patch({ statusId: resolved.id });
    await deliverEvents();

    const subjects = async (to: string) =>
      Promise.all(
        receiver.mails.filter((m) => m.to.includes(to)).map(async (m) => (await simpleParser(m.raw)).subject),
      );
    const toTech = await waitFor(async () => {
      const s = await subjects(tech.email);
      return s.length >= 2 ? s : null;
    });
    expect(toTech.sort()).toEqual([
      expect.stringMatching(/^Assigned to you: Backup failed \[#\d+\]$/),
      expect.stringMatching(/^New reply: Backup failed \[#\d+\]$/),
    ]);
    const toContact = await waitFor(async () => {
      const s = await subjects(email);
      return s.some((x) => x?.startsWith("Resolved:")) ? s : null;
    });
    expect(toContact.filter((x) => x?.startsWith("Resolved:"))).toHaveLength(1);
  });
});

describe("templates and per-client sender", () => {
  it("uses the client's own acknowledgement, From address and signature, edited by an admin", async () => {
    const { client, email } = await contact();
    const from = `desk@${client.email_domains[0]}`;
    const put = (url: string, payload: object, headers = admin.auth) =>
      t.app.inject({ method: "PUT", url, headers, payload });
    const tech = await makeUser(t, { role: "technician" });
    expect(
      (await put(`/api/v1/email/client-settings/${client.id}`, { fromAddress: from }, tech.auth)).statusCode,
    ).toBe(403);
    expect(
      (
        await put(`/api/v1/email/client-settings/${client.id}`, {
          fromAddress: from,
          signature: "-- Ortiz IT desk",
        })
      ).statusCode,
    ).toBe(200);
    const saved = await put("/api/v1/email/templates/acknowledgement", {
      clientId: client.id,
      subject: "We have it: {{ticket.subject}}",
      body: "Hi {{contact.name}}, ticket #{{ticket.number}} is open.\n\n{{signature}}",
    });
    expect(saved.statusCode).toBe(200);
    const list = await t.app.inject({
      method: "GET",
      url: `/api/v1/email/templates?clientId=${client.id}`,
      headers: admin.auth,
    });
    expect(list.json().items.find((i: { key: string }) => i.key === "acknowledgement")).toMatchObject({
      isDefault: false,
    });

    const id = `${rand("tpl")}@mail.example`;
    await smtpSend(stack.port, message(email, "Phones down", id), { from: email, to: [MAILBOX] });
    const ack = await waitFor(async () => {
      for (const m of receiver.mails.filter((x) => x.to.includes(email))) {
        const p = await simpleParser(m.raw);
        if (p.subject?.startsWith("We have it")) return p;
      }
      return null;
    });
    expect(ack.subject).toMatch(/^We have it: Phones down \[#\d+\]$/);
    expect(ack.from?.value[0]?.address).toBe(from);
    expect(ack.text).toContain("-- Ortiz IT desk");
    expect(ack.text).not.toContain("{{");
  });
});
