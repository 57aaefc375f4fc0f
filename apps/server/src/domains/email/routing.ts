import { sql, type Transaction } from "kysely";
import type { DB } from "../../db/schema.ts";
import { systemActor } from "../auth/actor.ts";
import { addEntryToNewTicketInTx, addTimelineEntryLeanInTx } from "../tickets/intake.ts";
import { createTicketInTx } from "../tickets/service.ts";
import { linkBounce } from "./bounces.ts";
import type { EmailDeps } from "./deps.ts";
import type { InboundJob } from "./ingest.ts";
import { queueTemplated } from "./outbound.ts";
import type { ParsedEmail } from "./parse.ts";
import { resolveSender } from "./senders.ts";
import { subjectToken } from "./threading.ts";

// Where a parsed inbound message goes: duplicate, held (rate limit, review, unmatched), a new ticket or
// an entry on the ticket it answers. Runs inside the processing transaction (see ingest.ts).

export type Outcome =
  | {
      status: "processed";
      ticketId: string;
      clientId: string;
      /** Null for a bounce: it marks the message it reports on instead of adding an entry. */
      entryId: string | null;
      contactId: string | null;
      related?: string | null;
    }
  | { status: "duplicate"; ticketId: string | null }
  | { status: "quarantined"; reason: string }
  | { status: "review"; reason: string; related: string | null; contactId: string | null }
  | { status: "unmatched"; reason: string };

type Row = { id: string; mailbox_id: string | null; envelope_to: string[] };

interface MailboxRow {
  id: string;
  default_client_id: string | null;
  default_team_id: string | null;
  stranger_policy: string;
  send_acknowledgement: boolean;
}
type TicketRef = { id: string; client_id: string; number: number };

interface Context {
  claimed: boolean;
  first: { id: string; ticket_id: string | null } | null;
  recent: number;
  mailbox: MailboxRow | null;
  thread: TicketRef | null;
  admin: TicketRef | null;
  contact: { id: string; client_id: string } | null;
  domain_client: { id: string; name: string } | null;
  cc_ok: boolean;
}

/**
 * Everything routing needs to know, in one round trip: the dedupe claim, the sender's recent count, the
 * mailbox, the thread (cited Message-IDs in order, then the subject token, each followed through merges),
 * the sender as a contact or by domain, and whether the sender was on the thread's mail. The caller holds
 * the sender's lock, taken in an earlier statement so this one's snapshot sees what committed before.
 */
async function loadContext(trx: Transaction<DB>, row: Row, mail: ParsedEmail, job: InboundJob, key: string) {
  const address = mail.from?.address ?? "";
  const lower = address.toLowerCase();
  const candidates = [...row.envelope_to, ...mail.to, ...mail.cc].map((a) => a.toLowerCase());
  const threading = !job.ticketId && !job.clientId;
  const cited = threading
    ? [...(mail.inReplyTo ? [mail.inReplyTo] : []), ...[...mail.references].reverse()].filter(
        (id) => id !== mail.messageId,
      )
    : [];
  const token = threading ? subjectToken(mail.subject) : null;
  const { rows } = await sql<Context>`/*prepared*/
    with recursive claim as (
      insert into email_dedupe_keys (dedupe_key, email_message_id) values (${key}, ${row.id})
      on conflict do nothing returning email_message_id
    ), cand as (
      select * from (
        select distinct on (c.ord) c.ord, coalesce(m.ticket_id, m.related_ticket_id) as tid
        from unnest(${cited}::text[]) with ordinality c(mid, ord)
        join email_messages m on m.message_id = c.mid
          and (m.ticket_id is not null or m.related_ticket_id is not null)
        order by c.ord) h
      union all
      select * from (select 1000000::bigint, id from tickets where number = ${token}::bigint limit 1) s
    ), walk as (
      select ord, tid as id, 0 as hops from cand
      union all
      select w.ord, t.merged_into_id, w.hops + 1 from walk w
      cross join lateral (select merged_into_id from tickets where id = w.id offset 0) t
      where t.merged_into_id is not null and w.hops < 19
    ), thread as (
      -- Lateral lookups by primary key (offset 0 keeps them so): a join here let the planner hash the
      -- whole tickets table once per message whenever its statistics lagged behind its growth.
      select t.id, t.client_id, t.number from walk w
      cross join lateral (select id, client_id, number, merged_into_id from tickets where id = w.id offset 0) t
      where t.merged_into_id is null order by w.ord limit 1
    ), admin as (
      select id, client_id, number from tickets where id = ${job.ticketId ?? null}::uuid
    ), target as (
      select * from admin union all select * from thread limit 1
    ), mb as (
      select id, default_client_id, default_team_id, stranger_policy, send_acknowledgement from email_mailboxes
      where case when ${row.mailbox_id}::uuid is not null then id = ${row.mailbox_id}::uuid
        else lower(address) = any(${candidates}::text[]) and active end
      limit 1
    ), ct as (
      select c.id, c.client_id from contacts c
      where c.emails @> array[${lower}]::text[] and c.active
      order by (c.client_id = coalesce(${job.clientId ?? null}::uuid, (select client_id from target))) desc nulls last,
        c.created_at
      limit 1
    )
    select exists (select 1 from claim) as claimed,
      (select row_to_json(f) from (select m.id, m.ticket_id from email_dedupe_keys k
        join email_messages m on m.id = k.email_message_id where k.dedupe_key = ${key}) f) as first,
      case when ${job.force === true} then 0 else (select count(*)::int from email_messages
        where direction = 'inbound' and lower(from_address) = ${address}
          and received_at > now() - interval '1 hour' and id <> ${row.id}
          and status in ('processed', 'review', 'unmatched')) end as recent,
      (select row_to_json(mb) from mb) as mailbox,
      (select row_to_json(thread) from thread) as thread,
      (select row_to_json(admin) from admin) as admin,
      (select row_to_json(ct) from ct) as contact,
      (select row_to_json(d) from (select id, name from clients
        where email_domains @> array[${lower.split("@")[1] ?? ""}]::text[] and active
        order by created_at limit 1) d) as domain_client,
      exists (select 1 from email_messages where ticket_id = (select id from target)
        and (lower(from_address) = ${address} or ${address} = any(cc_addresses) or ${address} = any(to_addresses))
        and status in ('processed', 'queued', 'sent')) as cc_ok`.execute(trx);
  return rows[0] as Context;
}

export async function route(
  deps: EmailDeps,
  trx: Transaction<DB>,
  row: Row,
  mail: ParsedEmail,
  job: InboundJob,
): Promise<Outcome> {
  const actor = systemActor("email");
  const key = `${mail.messageId ?? ""}\n${mail.contentHash}`;
  const ctx = await loadContext(trx, row, mail, job, key);
  if (!ctx.claimed) {
    // The claim's owner committed while this statement ran: its row is not in this statement's snapshot.
    const first =
      ctx.first ??
      (await trx
        .selectFrom("email_dedupe_keys as k")
        .innerJoin("email_messages as m", "m.id", "k.email_message_id")
        .select(["m.id", "m.ticket_id"])
        .where("k.dedupe_key", "=", key)
        .executeTakeFirstOrThrow());
    // A retried message keeps its own claim; only another message with the same key is a duplicate.
    if (first.id !== row.id) return { status: "duplicate", ticketId: first.ticket_id };
  }

  if (mail.bounce) {
    const hit = await linkBounce(trx, mail.bounce);
    if (hit)
      return {
        status: "processed",
        ticketId: hit.ticketId,
        clientId: hit.clientId,
        entryId: null,
        contactId: null,
      };
  }

  if (!job.force && ctx.recent >= deps.config.SWITCHBOARD_EMAIL_RATE_LIMIT) {
    return { status: "quarantined", reason: "rate limited: too many messages from this sender in an hour" };
  }

  const from = mail.from ?? { address: "", name: "" };
  const mailbox = ctx.mailbox;
  // Remembered on the row: replies on this ticket go out from the mailbox the customer wrote to.
  row.mailbox_id = mailbox?.id ?? row.mailbox_id;
  const hit = job.ticketId ? ctx.admin : ctx.thread;
  const thread = hit ? { ticketId: hit.id, clientId: hit.client_id, number: Number(hit.number) } : null;
  const resolved = await resolveSender(trx, actor, from, {
    contact: ctx.contact,
    domainClient: ctx.domain_client,
    defaultClientId: mailbox?.default_client_id,
  });
  const sender = job.clientId
    ? { clientId: job.clientId, contactId: resolved?.clientId === job.clientId ? resolved.contactId : null }
    : resolved;

  if (thread) {
    // Everyone on the ticket may write to it: its client's contacts, and addresses that were on its mail.
    const ok =
      job.ticketId !== undefined ||
      (sender?.contactId != null && sender.clientId === thread.clientId) ||
      ctx.cc_ok;
    if (ok) {
      const contactId = sender?.clientId === thread.clientId ? sender.contactId : null;
      const entry = await addTimelineEntryLeanInTx(trx, actor, thread.ticketId, {
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
  const entry = await addEntryToNewTicketInTx(trx, actor, ticket, {
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
