import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, makeClient, rand, type TestApp } from "../../../test/helpers.ts";
import { acceptMessage, processInbound } from "./ingest.ts";
import { type ParsedEmail, parseEmail, splitQuoted, UnparseableEmailError } from "./parse.ts";
import { startEmailStack } from "./test-support.ts";
import { subjectToken } from "./threading.ts";

interface Expected {
  note: string;
  outcome: "processed" | "quarantined";
  acknowledged: boolean;
  subject?: string;
  subjectLength?: number;
  from?: string;
  fromName?: string;
  to?: string[];
  messageId?: string | null;
  inReplyTo?: string;
  references?: string[];
  date?: null;
  text?: string;
  textContains?: string[];
  htmlContains?: string[];
  htmlExcludes?: string[];
  mainContains?: string[];
  mainExcludes?: string[];
  foldedContains?: string[];
  attachments?: Array<{ filename: string; contentType: string; inline: boolean }>;
  autoReply?: boolean;
  quarantine?: string;
  token?: number;
  bounce?: { messageId: string; recipient: string; status: string; reason: string };
}

const dir = path.join(import.meta.dirname, "fixtures");
const corpus: Record<string, Expected> = JSON.parse(await readFile(path.join(dir, "corpus.json"), "utf8"));
const raw = (name: string) => readFile(path.join(dir, "corpus", `${name}.eml`));

describe("the fixtures corpus", () => {
  it("has at least 40 messages", () => {
    expect(Object.keys(corpus).length).toBeGreaterThanOrEqual(40);
  });

  for (const [name, e] of Object.entries(corpus)) {
    it(`parses ${name}: ${e.note}`, async () => {
      const bytes = await raw(name);
      if (e.quarantine) {
        await expect(parseEmail(bytes)).rejects.toThrow(UnparseableEmailError);
        await expect(parseEmail(bytes)).rejects.toThrow(new RegExp(e.quarantine));
        return;
      }
      const m: ParsedEmail = await parseEmail(bytes);
      if (e.subject !== undefined) expect(m.subject).toBe(e.subject);
      if (e.subjectLength !== undefined) expect(m.subject.length).toBe(e.subjectLength);
      if (e.from !== undefined) expect(m.from?.address).toBe(e.from);
      if (e.fromName !== undefined) expect(m.from?.name).toBe(e.fromName);
      if (e.to !== undefined) expect(m.to).toEqual(e.to);
      if (e.messageId !== undefined) expect(m.messageId).toBe(e.messageId);
      if (e.inReplyTo !== undefined) expect(m.inReplyTo).toBe(e.inReplyTo);
      if (e.references !== undefined) expect(m.references).toEqual(e.references);
      if (e.date === null) expect(m.date).toBeNull();
      if (e.text !== undefined) expect(m.text).toBe(e.text);
      for (const s of e.textContains ?? []) expect(m.text).toContain(s);
      for (const s of e.htmlContains ?? []) expect(m.html).toContain(s);
      for (const s of e.htmlExcludes ?? []) expect(m.html ?? "").not.toContain(s);
      const { main, folded } = splitQuoted(m.text);
      for (const s of e.mainContains ?? []) expect(main).toContain(s);
      for (const s of e.mainExcludes ?? []) expect(main).not.toContain(s);
      for (const s of e.foldedContains ?? []) expect(folded).toContain(s);
      if (e.attachments) {
        expect(
          m.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType, inline: a.inline })),
        ).toEqual(e.attachments);
      }
      if (e.autoReply !== undefined) expect(m.autoReply !== null).toBe(e.autoReply);
      if (e.token !== undefined) expect(subjectToken(m.subject)).toBe(e.token);
      if (e.bounce !== undefined) expect(m.bounce).toEqual(e.bounce);
    });
  }
});

describe("the corpus through the pipeline", () => {
  let t: TestApp;
  let stack: Awaited<ReturnType<typeof startEmailStack>>;

  beforeAll(async () => {
    t = await createTestApp({ SWITCHBOARD_EMAIL_RATE_LIMIT: "100000" });
    // No workers: this test drives processing itself, one message at a time, to check each outcome.
    stack = await startEmailStack({ db: t.db, blobs: t.deps.blobs, config: t.deps.config }, t.url, {
      workers: false,
      listener: false,
    });
    const client = await makeClient(t);
    await t.db
      .insertInto("email_mailboxes")
      .values({ address: `${rand("corpus-")}@desk.example`, default_client_id: client.id })
      .execute();
  });

  afterAll(async () => {
    await stack?.stop();
    await t?.close();
  });

  it("stores each message, then processes it to its expected outcome, acknowledging only people", async () => {
    const mailbox = await t.db
      .selectFrom("email_mailboxes")
      .select("id")
      .where("address", "like", "corpus-%")
      .executeTakeFirstOrThrow();
    for (const [name, e] of Object.entries(corpus)) {
      const id = await acceptMessage(stack.deps, {
        raw: await raw(name),
        source: "api",
        mailboxId: mailbox.id,
      });
      const status = await processInbound(stack.deps, { id });
      expect(status === "duplicate" ? "processed" : status, name).toBe(e.outcome);
      const row = await t.db
        .selectFrom("email_messages")
        .selectAll()
        .where("id", "=", id)
        .executeTakeFirstOrThrow();
      if (status !== "processed") continue;
      const acks = await t.db
        .selectFrom("email_messages")
        .select("id")
        .where("ticket_id", "=", row.ticket_id)
        .where("template", "=", "acknowledgement")
        .execute();
      expect(acks.length > 0, name).toBe(e.acknowledged);
      const files = await t.db
        .selectFrom("attachments")
        .select("filename")
        .where("timeline_entry_id", "=", row.timeline_entry_id)
        .execute();
      expect(files.map((f) => f.filename).sort(), name).toEqual(
        (e.attachments ?? []).map((a) => a.filename).sort(),
      );
    }
  });
});
