import { sql, type Transaction } from "kysely";
import type { DB } from "../../db/schema.ts";
import { systemActor } from "../auth/actor.ts";
import { createTicketInTx } from "../tickets/service.ts";
import { addTimelineEntryInTx } from "../tickets/timeline.ts";
import type { EmailDeps } from "./deps.ts";
import type { InboundJob } from "./ingest.ts";
import { queueTemplated } from "./outbound.ts";
import type { ParsedEmail } from "./parse.ts";
import { resolveSender } from "./senders.ts";
import { findThread, isParticipant } from "./threading.ts";

// Where a parsed inbound message goes: duplicate, held (rate limit, review, unmatched), a new ticket or
// an entry on the ticket it answers. Runs inside the processing transaction (see ingest.ts).

export type Outcome =
  | {
      status: "processed";
      ticketId: string;
      clientId: string;
      entryId: string;
      contactId: string | null;
      related?: string | null;
    }
  | { status: "duplicate"; ticketId: string | null }
  | { status: "quarantined"; reason: string }
  | { status: "review"; reason: string; related: string | null; contactId: string | null }
  | { status: "unmatched"; reason: string };

async function ticketById(trx: Transaction<DB>, id: string) {
  const t = await trx
    .selectFrom("tickets")
    .select(["id", "client_id", "number"])
    .where("id", "=", id)
    .executeTakeFirst();
  return t
    ? { ticketId: t.id, clientId: t.client_id, number: Number(t.number), how: "admin" as const }
    : null;
}

type Row = { id: string; mailbox_id: string | null; envelope_to: string[] };

async function findMailbox(trx: Transaction<DB>, row: Row, mail: ParsedEmail) {
  const q = trx.selectFrom("email_mailboxes").selectAll();
  if (row.mailbox_id) return q.where("id", "=", row.mailbox_id).executeTakeFirst();
  const candidates = [...row.envelope_to, ...mail.to, ...mail.cc].map((a) => a.toLowerCase());
  if (!candidates.length) return undefined;
  return q
    .where(sql<boolean>`lower(address) = any(${candidates}::text[])`)
    .where("active", "=", true)
    .executeTakeFirst();
}

export async function route(
  deps: EmailDeps,
  trx: Transaction<DB>,
  row: Row,
  mail: ParsedEmail,
  job: InboundJob,
): Promise<Outcome> {
  const actor = systemActor("email");
  // One sender's messages are processed one at a time: two first mails from a new address must not
  // make two contacts, and the rate limit must count what committed before.
  await sql`select pg_advisory_xact_lock(hashtext(${`email-sender:${mail.from?.address ?? ""}`}))`.execute(
    trx,
  );
  const key = `${mail.messageId ?? ""}\n${mail.contentHash}`;
  const claim = await trx
    .insertInto("email_dedupe_keys")
    .values({ dedupe_key: key, email_message_id: row.id })
    .onConflict((oc) => oc.doNothing())
    .returning("email_message_id")
    .executeTakeFirst();
  if (!claim) {
    const first = await trx
      .selectFrom("email_dedupe_keys as k")
      .innerJoin("email_messages as m", "m.id", "k.email_message_id")
      .select(["m.id", "m.ticket_id"])
      .where("k.dedupe_key", "=", key)
      .executeTakeFirstOrThrow();
    // A retried message keeps its own claim; only another message with the same key is a duplicate.
    if (first.id !== row.id) return { status: "duplicate", ticketId: first.ticket_id };
  }

  if (!job.force) {
    const recent = await sql<{ n: number }>`
      select count(*)::int as n from email_messages
      where direction = 'inbound' and lower(from_address) = ${mail.from?.address ?? ""}
        and received_at > now() - interval '1 hour' and id <> ${row.id}
        and status in ('processed', 'review', 'unmatched')`.execute(trx);
    if ((recent.rows[0]?.n ?? 0) >= deps.config.SWITCHBOARD_EMAIL_RATE_LIMIT) {
      return { status: "quarantined", reason: "rate limited: too many messages from this sender in an hour" };
    }
  }

  const from = mail.from ?? { address: "", name: "" };
  const mailbox = await findMailbox(trx, row, mail);
  // Remembered on the row: replies on this ticket go out from the mailbox the customer wrote to.
  row.mailbox_id = mailbox?.id ?? row.mailbox_id;
  const thread = job.ticketId
    ? await ticketById(trx, job.ticketId)
    : job.clientId
      ? null
      : await findThread(trx, mail);
  const resolved = await resolveSender(trx, actor, from, {
    preferClientId: job.clientId ?? thread?.clientId,
    defaultClientId: mailbox?.default_client_id,
  });
  const sender = job.clientId
    ? { clientId: job.clientId, contactId: resolved?.clientId === job.clientId ? resolved.contactId : null }
    : resolved;

  if (thread) {
    const ok =
      job.ticketId !== undefined ||
      (await isParticipant(trx, thread.ticketId, thread.clientId, sender?.contactId ?? null, from.address));
    if (ok) {
      const contactId = sender?.clientId === thread.clientId ? sender.contactId : null;
      const entry = await addTimelineEntryInTx(trx, actor, thread.ticketId, {
        kind: "email",
        visibility: "public",
        body: mail.text,
        contactId,
      });
      return {
        status: "processed",
        ticketId: entry.ticketId,
        clientId: thread.clientId,
        entryId: entry.entryId,
        contactId,
      };
    }
    // A stranger answering someone else's ticket: never appended silently.
    if (mailbox?.stranger_policy === "review" || !sender) {
      return {
        status: "review",
        reason: `sender is not a contact of ticket #${thread.number}'s client`,
        related: thread.ticketId,
        contactId: sender?.contactId ?? null,
      };
    }
  }
  if (!sender)
    return { status: "unmatched", reason: "sender matches no contact, client domain or mailbox default" };

  const note = thread
    ? `\n\n(Reply to ticket #${thread.number} from a sender who is not one of its contacts.)`
    : "";
  const ticket = await createTicketInTx(trx, actor, {
    subject: mail.subject || "(no subject)",
    description: (mail.text + note).slice(0, 100_000),
    clientId: sender.clientId,
    contactId: sender.contactId,
    type: "incident",
    source: "email",
    priority: 3,
    tags: [],
    teamId: mailbox?.default_team_id ?? null,
  });
  const entry = await addTimelineEntryInTx(trx, actor, ticket.id, {
    kind: "email",
    visibility: "public",
    body: mail.text,
    contactId: sender.contactId,
  });
  if (!mail.autoReply && (mailbox?.send_acknowledgement ?? true)) {
    await queueTemplated(deps, trx, {
      template: "acknowledgement",
      ticketId: ticket.id,
      to: [from.address],
      mailboxId: mailbox?.id ?? null,
      inReplyTo: mail.messageId,
      references: mail.messageId ? [...mail.references, mail.messageId] : mail.references,
    });
  }
  return {
    status: "processed",
    ticketId: ticket.id,
    clientId: ticket.client_id,
    entryId: entry.entryId,
    contactId: sender.contactId,
    related: thread?.ticketId ?? null,
  };
}
