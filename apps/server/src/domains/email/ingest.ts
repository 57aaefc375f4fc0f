import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import { type Insertable, type Selectable, sql, type Transaction } from "kysely";
import type { DB, EmailMessagesTable } from "../../db/schema.ts";
import { AppError } from "../../http/errors.ts";
import { bossDb } from "../../lib/jobs.ts";
import { systemActor } from "../auth/actor.ts";
import { emitEvent } from "../events/outbox.ts";
import type { EmailDeps } from "./deps.ts";
import { type OutcomeAttachment, recordOutcome } from "./outcome.ts";
import { type ParsedEmail, parseEmail, UnparseableEmailError } from "./parse.ts";
import { type Outcome, route } from "./routing.ts";

export const INBOUND_QUEUE = "email.inbound";

export interface AcceptInput {
  raw: Buffer;
  source: "smtp" | "imap" | "api";
  mailboxId?: string | null;
  envelopeFrom?: string | null;
  envelopeTo?: string[];
}

export interface InboundJob {
  id: string;
  /** An admin's retry: process even if the sender is over the rate limit. */
  force?: boolean;
  /** An admin's decision for a held message: append it to this ticket... */
  ticketId?: string;
  /** ...or open a ticket for this client. */
  clientId?: string;
}

const INBOUND_RETRY = { retryLimit: 10, retryDelay: 2, retryBackoff: true };

type Pending = {
  values: Insertable<EmailMessagesTable> & { id: string };
  resolve: (id: string) => void;
  reject: (err: unknown) => void;
};

/**
 * Accepts that arrive while a commit is in flight share the next transaction: one multi-row insert of
 * their rows and one insert of their jobs, so concurrent senders pay for one commit, not one each.
 * Every caller is answered only after the transaction holding its row and job has committed (and all
 * of a failed transaction's callers get the error, so each sender retries).
 */
class AcceptBatcher {
  private pending: Pending[] = [];
  private running = false;
  private readonly deps: EmailDeps;
  constructor(deps: EmailDeps) {
    this.deps = deps;
  }

  add(values: Pending["values"]) {
    return new Promise<string>((resolve, reject) => {
      this.pending.push({ values, resolve, reject });
      if (!this.running) void this.drain();
    });
  }

  private async drain() {
    this.running = true;
    while (this.pending.length) {
      const batch = this.pending.splice(0, 100);
      try {
        await this.deps.db.transaction().execute(async (trx) => {
          await trx
            .insertInto("email_messages")
            .values(batch.map((p) => p.values))
            .execute();
          await this.deps.boss.insert(
            INBOUND_QUEUE,
            batch.map((p) => ({ data: { id: p.values.id }, ...INBOUND_RETRY })),
            { db: bossDb(trx) },
          );
        });
        for (const p of batch) p.resolve(p.values.id);
      } catch (err) {
        for (const p of batch) p.reject(err);
      }
    }
    this.running = false;
  }
}

/**
 * Raw messages this process accepted and has not processed yet, so its own workers need not read them
 * back from the blob store. Bounded by bytes (oldest out first); a miss - another process's worker, a
 * retry, a restart - reads the stored original as before.
 */
class RawHandoff {
  private readonly entries = new Map<string, Buffer>();
  private bytes = 0;
  private readonly limit: number;
  constructor(limit: number) {
    this.limit = limit;
  }

  put(id: string, raw: Buffer) {
    if (raw.length > this.limit / 8) return;
    this.entries.set(id, raw);
    this.bytes += raw.length;
    for (const [key, old] of this.entries) {
      if (this.bytes <= this.limit) break;
      this.entries.delete(key);
      this.bytes -= old.length;
    }
  }

  take(id: string) {
    const raw = this.entries.get(id);
    if (raw) {
      this.entries.delete(id);
      this.bytes -= raw.length;
    }
    return raw;
  }
}

/** The accept batcher and the raw handoff of one process's email channel (one per deps). */
const channels = new WeakMap<EmailDeps, { batcher: AcceptBatcher; handoff: RawHandoff }>();
function channelOf(deps: EmailDeps) {
  let c = channels.get(deps);
  if (!c) {
    c = { batcher: new AcceptBatcher(deps), handoff: new RawHandoff(64 * 1024 * 1024) };
    channels.set(deps, c);
  }
  return c;
}

/**
 * Step one of every inbound message: the raw bytes go to the blob store, then one transaction records
 * the message and enqueues its processing job. Only after it commits does the SMTP listener answer 250
 * (or the IMAP poller move on), so a crash at any point either loses nothing or makes the sender retry.
 */
export async function acceptMessage(deps: EmailDeps, input: AcceptInput): Promise<string> {
  const blob = await deps.blobs.put(input.raw);
  const { batcher, handoff } = channelOf(deps);
  const id = randomUUID();
  const accepted = batcher.add({
    id,
    direction: "inbound",
    source: input.source,
    mailbox_id: input.mailboxId ?? null,
    status: "received",
    envelope_from: input.envelopeFrom ?? null,
    envelope_to: (input.envelopeTo ?? []).map((a) => a.toLowerCase()),
    raw_key: blob.key,
    raw_sha256: blob.sha256,
    size_bytes: blob.sizeBytes,
  });
  // Handed over before the commit: the job can be fetched the moment the commit lands.
  handoff.put(id, input.raw);
  return accepted.catch((err) => {
    handoff.take(id);
    throw err;
  });
}

export async function enqueueInbound(deps: EmailDeps, trx: Transaction<DB>, job: InboundJob) {
  await deps.boss.send(INBOUND_QUEUE, job, { db: bossDb(trx), ...INBOUND_RETRY });
}

export async function readBlob(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Step two, run by the durable job: parse, dedupe, thread, resolve the sender and write the ticket or
 * timeline entry, all in one transaction that also marks the message processed. The row lock and the
 * status check make a second run (pg-boss retries are at-least-once) a no-op.
 */
export async function processInbound(
  deps: EmailDeps,
  job: InboundJob,
  opts: { finalAttempt?: boolean; row?: MessageRow | null } = {},
): Promise<string | null> {
  try {
    return await processOnce(deps, job, opts.row);
  } catch (err) {
    // A refusal by the ticket service will not pass on a retry, and nothing does after the last one:
    // the message goes to quarantine with the reason rather than wait unseen in `received`.
    if (!(err instanceof AppError) && !opts.finalAttempt) throw err;
    await holdInQuarantine(deps, job.id, `processing failed: ${(err as Error).message}`);
    return "quarantined";
  }
}

async function holdInQuarantine(deps: EmailDeps, id: string, reason: string) {
  await deps.db.transaction().execute(async (trx) => {
    const r = await trx
      .updateTable("email_messages")
      .set({
        status: "quarantined",
        status_reason: reason.slice(0, 1000),
        last_error: reason.slice(0, 1000),
        attempts: sql`attempts + 1`,
        processed_at: new Date(),
      })
      .where("id", "=", id)
      .where("status", "=", "received")
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) > 0) {
      await emitEvent(trx, systemActor("email"), {
        type: "email.quarantined",
        payload: { emailMessageId: id },
      });
    }
  });
}

type MessageRow = Selectable<EmailMessagesTable>;

/** The rows of a batch of jobs in one query: the worker hands each to processInbound. */
export async function loadMessages(deps: EmailDeps, ids: string[]) {
  const rows = ids.length
    ? await deps.db.selectFrom("email_messages").selectAll().where("id", "in", ids).execute()
    : [];
  return new Map(rows.map((r) => [r.id, r]));
}

async function processOnce(
  deps: EmailDeps,
  job: InboundJob,
  prefetched?: MessageRow | null,
): Promise<string | null> {
  // A prefetched row may be stale (another run finished it since): the locked status check below decides.
  const row =
    prefetched ??
    (await deps.db.selectFrom("email_messages").selectAll().where("id", "=", job.id).executeTakeFirst());
  if (row?.status !== "received" || !row.raw_key) return row?.status ?? null;

  let parsed: ParsedEmail | null = null;
  let failure: string | null = null;
  if (row.size_bytes > deps.config.SWITCHBOARD_EMAIL_MAX_BYTES) {
    failure = `too large: ${row.size_bytes} bytes (limit ${deps.config.SWITCHBOARD_EMAIL_MAX_BYTES})`;
  } else {
    try {
      const raw = channelOf(deps).handoff.take(row.id) ?? (await readBlob(await deps.blobs.get(row.raw_key)));
      parsed = await parseEmail(raw, row.envelope_from);
    } catch (err) {
      if (!(err instanceof UnparseableEmailError)) throw err;
      failure = err.message;
    }
  }
  // Attachments are content-addressed: storing them before the transaction is idempotent on a retry.
  const stored = parsed
    ? await Promise.all(parsed.attachments.map((a) => deps.blobs.put(a.content, a.sha256)))
    : [];

  return deps.db.transaction().execute(async (trx) => {
    // One sender's messages are processed one at a time: two first mails from a new address must not
    // make two contacts, and the rate limit must count what committed before. The sender's lock is taken
    // with the row's, in this statement, so routing's lookups (the next statement) see what the previous
    // holder committed.
    const sender = parsed ? `email-sender:${parsed.from?.address ?? ""}` : null;
    const { rows: lockedRows } = await sql<{ status: string }>`/*prepared*/
      select status, case when ${sender}::text is not null then pg_advisory_xact_lock(hashtext(${sender}::text)) end
      from email_messages where id = ${row.id} for update`.execute(trx);
    const locked = lockedRows[0];
    if (locked?.status !== "received") return locked?.status ?? null;
    const outcome: Outcome =
      failure || !parsed
        ? { status: "quarantined", reason: failure ?? "unparseable" }
        : await route(deps, trx, row, parsed, job);

    let html = parsed?.html ?? null;
    const attachments: OutcomeAttachment[] = [];
    if (parsed && outcome.status === "processed" && outcome.entryId) {
      const entryId = outcome.entryId;
      for (const [i, a] of parsed.attachments.entries()) {
        const blob = stored[i];
        if (!blob) continue;
        const id = randomUUID();
        attachments.push({
          id,
          ticket_id: outcome.ticketId,
          timeline_entry_id: entryId,
          filename: a.filename,
          content_type: a.contentType,
          size_bytes: blob.sizeBytes,
          sha256: blob.sha256,
          storage_key: blob.key,
          content_id: a.cid,
          inline: a.inline,
        });
        // Inline images point at the stored attachment, so the view shows them without remote loads.
        if (a.cid && html) html = html.split(`cid:${a.cid}`).join(`/api/v1/attachments/${id}`);
      }
    }
    await recordOutcome(trx, row.id, attachments, {
      status: outcome.status,
      mailbox_id: row.mailbox_id,
      status_reason: "reason" in outcome ? outcome.reason : null,
      message_id: parsed?.messageId ?? null,
      in_reply_to: parsed?.inReplyTo ?? null,
      reference_ids: parsed?.references ?? [],
      subject: parsed?.subject ?? null,
      from_address: parsed?.from?.address ?? null,
      to_addresses: parsed?.to ?? [],
      cc_addresses: parsed?.cc ?? [],
      body_html: html,
      is_auto_reply: parsed?.autoReply != null,
      auto_reply_reason: parsed?.autoReply ?? null,
      ticket_id: "ticketId" in outcome ? outcome.ticketId : null,
      timeline_entry_id: "entryId" in outcome ? outcome.entryId : null,
      contact_id: "contactId" in outcome ? outcome.contactId : null,
      related_ticket_id: "related" in outcome ? (outcome.related ?? null) : null,
      // Scoped to the ticket's client; held messages carry no content in the event, only that one arrived.
      event_client_id: "clientId" in outcome ? outcome.clientId : null,
    });
    return outcome.status;
  });
}
