import { randomUUID } from "node:crypto";
import type { LiveEvent } from "@switchboard/shared";
import { sql, type Transaction } from "kysely";
import type { DB, EmailTemplateKey } from "../../db/schema.ts";
import { bossDb } from "../../lib/jobs.ts";
import { systemActor } from "../auth/actor.ts";
import { ratingLinks } from "../csat/links.ts";
import type { EmailDeps } from "./deps.ts";
import { readBlob } from "./ingest.ts";
import { replyRoute } from "./reply-route.ts";
import { secretBox } from "./secrets.ts";
import { pickTemplate, RATING_BLOCK, render } from "./templates.ts";
import { withToken } from "./threading.ts";
import { PermanentSendError, transportFor } from "./transport.ts";

export const OUTBOUND_QUEUE = "email.outbound";
const RETRY = { retryLimit: 8, retryDelay: 30, retryBackoff: true, retryDelayMax: 3600 };

export interface OutboundInput {
  template: EmailTemplateKey;
  ticketId: string;
  to: string[];
  cc?: string[];
  mailboxId?: string | null;
  /** The reply's timeline entry, whose text is `{{body}}`. */
  entryId?: string | null;
  body?: string;
  inReplyTo?: string | null;
  references?: string[];
  /** For notifications: the event they answer, so a redelivered event mails nothing twice. */
  sourceEventId?: number;
  /** An invite: sent with a text/calendar part (REQUEST or CANCEL). */
  ical?: { method: "REQUEST" | "CANCEL"; content: string };
}

interface TemplateContext {
  id: string;
  number: number;
  subject: string;
  client_id: string;
  client_name: string;
  from_address: string | null;
  signature: string | null;
  /** The MSP's default From address set in the console (email_settings). */
  default_from: string | null;
  contact_name: string | null;
  mailbox: { id: string; address: string } | null;
  templates: Array<{ subject: string; body: string; client_id: string | null }> | null;
  /** The conversation's Message-IDs, newest first. */
  convo: Array<{ message_id: string; direction: string }> | null;
}

/**
 * What rendering a template for a ticket needs, in one round trip: the ticket, its client's settings,
 * the mailbox to send from (the given one, else the one the customer last wrote to), the template
 * candidates and the Message-IDs of the conversation (what a reply cites so mail programs thread it).
 */
async function templateContext(trx: Transaction<DB>, input: OutboundInput) {
  const { rows } = await sql<TemplateContext>`/*prepared*/
    select t.id, t.number, t.subject, t.client_id, c.name as client_name, s.from_address, s.signature,
      (select default_from_address from email_settings) as default_from,
      nullif(trim(p.first_name || ' ' || p.last_name), '') as contact_name,
      (select row_to_json(mb) from (select id, address from email_mailboxes where active
        and id = coalesce(${input.mailboxId ?? null}::uuid, (select mailbox_id from email_messages
          where ticket_id = t.id and direction = 'inbound' and mailbox_id is not null
          order by received_at desc limit 1),
          -- A ticket nobody mailed in (a phone call): the client's mailbox, else the MSP's first one.
          (select id from email_mailboxes where active and default_client_id = t.client_id
            order by created_at limit 1),
          (select id from email_mailboxes where active order by created_at limit 1))) mb) as mailbox,
      (select json_agg(tp) from (select subject, body, client_id from email_templates
        where key = ${input.template} and (client_id = t.client_id or client_id is null)) tp) as templates,
      (select json_agg(cv) from (select message_id, direction from email_messages
        where ticket_id = t.id and message_id is not null and status in ('processed', 'queued', 'sent')
        order by received_at desc limit 20) cv) as convo
    from tickets t
    join clients c on c.id = t.client_id
    left join contacts p on p.id = t.contact_id
    left join email_client_settings s on s.client_id = t.client_id
    where t.id = ${input.ticketId}`.execute(trx);
  const t = rows[0];
  if (!t) throw new Error(`queueTemplated: no ticket ${input.ticketId}`);
  return t;
}

/**
 * Renders a template for a ticket and queues it in the caller's transaction: the message row (status
 * `queued`, with the Message-ID we will send) and its delivery job commit together, so it goes out once
 * the change is saved and never when it rolled back. Returns the message id, or null if already queued.
 */
export async function queueTemplated(deps: EmailDeps, trx: Transaction<DB>, input: OutboundInput) {
  const t = await templateContext(trx, input);
  const mailbox = t.mailbox;
  const from =
    t.from_address ?? mailbox?.address ?? t.default_from ?? deps.config.SWITCHBOARD_EMAIL_FROM ?? null;
  const tpl = pickTemplate(t.templates ?? [], input.template, t.client_id);
  const vars: Record<string, string | number> = {
    "ticket.number": t.number,
    "ticket.subject": t.subject,
    "client.name": t.client_name,
    "contact.name": t.contact_name ?? "there",
    body: input.body ?? "",
    signature: t.signature ?? "",
  };
  let text = tpl.body;
  if (input.template === "resolved") {
    // The one-click satisfaction rating (domains/csat); added below a template that does not place it.
    Object.assign(vars, await ratingLinks(deps.config, t.id));
    if (!/\{\{\s*rating\./.test(text)) text = `${text.trimEnd()}\n\n${RATING_BLOCK}`;
  }
  const newest = t.convo ?? [];
  const convo = {
    ids: newest.map((r) => r.message_id).reverse(),
    lastInbound: newest.find((r) => r.direction === "inbound")?.message_id ?? null,
  };
  const inReplyTo = input.inReplyTo ?? convo.lastInbound ?? convo.ids.at(-1) ?? null;
  const references = [
    ...new Set([...(input.references ?? convo.ids), ...(inReplyTo ? [inReplyTo] : [])]),
  ].slice(-20);
  const domain = from?.split("@")[1] ?? "switchboard.invalid";
  const row = await trx
    .insertInto("email_messages")
    .values({
      direction: "outbound",
      source: input.template === "reply" ? "console" : "system",
      mailbox_id: mailbox?.id ?? null,
      status: "queued",
      message_id: `${randomUUID()}@${domain}`,
      in_reply_to: inReplyTo,
      reference_ids: references,
      subject: withToken(render(tpl.subject, vars), Number(t.number)),
      from_address: from,
      to_addresses: input.to,
      cc_addresses: input.cc ?? [],
      body_text: render(text, vars).trim(),
      is_auto_reply: input.template !== "reply",
      ticket_id: t.id,
      timeline_entry_id: input.entryId ?? null,
      template: input.template,
      source_event_id: input.sourceEventId ?? null,
      ical_method: input.ical?.method ?? null,
      ical_content: input.ical?.content ?? null,
    })
    // Each partial unique index makes one kind of message idempotent; the conflict target names it.
    .onConflict((oc) =>
      input.sourceEventId !== undefined
        ? oc.columns(["source_event_id", "template"]).where("source_event_id", "is not", null).doNothing()
        : oc
            .column("timeline_entry_id")
            .where("direction", "=", "outbound")
            .where("template", "=", "reply")
            .doNothing(),
    )
    .returning("id")
    .executeTakeFirst();
  if (!row) return null;
  await deps.boss.send(OUTBOUND_QUEUE, { id: row.id }, { db: bossDb(trx), ...RETRY });
  return row.id;
}

/**
 * A technician's public reply goes to the addresses the technician chose in the composer (carried on
 * the event), else to the ticket's contact (or whoever mailed the ticket in) and the addresses CC'd on
 * the conversation (see reply-route.ts). Internal entries never reach this: only public replies qualify.
 */
export async function mailPublicReply(deps: EmailDeps, event: LiveEvent) {
  const p = event.payload as {
    entryId?: string;
    kind?: string;
    visibility?: string;
    to?: string[];
    cc?: string[];
  };
  if (!event.ticketId || !p.entryId || p.kind !== "reply" || p.visibility !== "public") return;
  const entryId = p.entryId;
  const ticketId = event.ticketId;
  await deps.db.transaction().execute(async (trx) => {
    const entry = await trx
      .selectFrom("timeline_entries")
      .select(["id", "body", "visibility", "author_user_id", "ticket_id"])
      .where("id", "=", entryId)
      .executeTakeFirst();
    if (entry?.visibility !== "public" || !entry.author_user_id) return;
    const route = await replyRoute(trx, deps.config, entry.ticket_id);
    const to = p.to?.length ? p.to : (route?.to ?? []);
    const cc = (p.cc ?? route?.cc ?? []).filter((a) => !to.includes(a));
    if (to.length === 0) {
      deps.log?.warn({ ticketId, entryId }, "reply not mailed: no recipient (no contact email, no To)");
      return;
    }
    await queueTemplated(deps, trx, {
      template: "reply",
      ticketId: ticketId,
      to,
      cc,
      mailboxId: route?.mailbox?.id ?? null,
      entryId: entry.id,
      body: entry.body,
    });
  });
}

const bracket = (id: string) => `<${id}>`;

/**
 * Delivers one queued message (with the files of its timeline entry). A 5xx answer is final (retrying cannot help); anything else is retried
 * by pg-boss with backoff until the last attempt, which marks the message failed with the server's answer.
 */
export async function sendOutbound(
  deps: EmailDeps,
  job: { id: string; retryCount: number; retryLimit: number },
) {
  // The message and its mailbox's SMTP settings in one query.
  const m = await deps.db
    .selectFrom("email_messages as m")
    .leftJoin("email_mailboxes as b", "b.id", "m.mailbox_id")
    .selectAll("m")
    .select(["b.smtp_host", "b.smtp_port", "b.smtp_tls", "b.smtp_user", "b.smtp_secret"])
    .where("m.id", "=", job.id)
    .executeTakeFirst();
  if (m?.status !== "queued" || m.direction !== "outbound") return;
  let info: { response: string };
  try {
    // Queued before a From or a mailbox existed (then retried): decided again now, as the composer's check does.
    let from = m.from_address;
    let mailboxId = m.mailbox_id;
    if ((!from || !mailboxId) && m.ticket_id) {
      const route = await replyRoute(deps.db, deps.config, m.ticket_id);
      from ??= route?.from ?? null;
      mailboxId ??= route?.mailbox?.id ?? null;
    }
    if (!from) {
      throw new PermanentSendError(
        "no From address: set the client's From address, the default From in Admin > Email, a mailbox, or SWITCHBOARD_EMAIL_FROM",
      );
    }
    const transport =
      mailboxId && mailboxId === m.mailbox_id && m.smtp_tls !== null
        ? await transportFor(deps, mailboxId, { ...m, id: mailboxId, smtp_tls: m.smtp_tls })
        : await transportFor(deps, mailboxId);
    // A sealed body carries a credential (a sign-in link): opened only here, to be sent.
    const text = m.sealed_body ? (await secretBox(deps.config)).open(m.sealed_body) : (m.body_text ?? "");
    info = await transport.sendMail({
      from,
      to: m.to_addresses,
      cc: m.cc_addresses.length ? m.cc_addresses : undefined,
      subject: m.subject ?? "",
      text,
      messageId: bracket(m.message_id as string),
      inReplyTo: m.in_reply_to ? bracket(m.in_reply_to) : undefined,
      references: m.reference_ids.map(bracket),
      attachments: await entryAttachments(deps, m.timeline_entry_id),
      // An invite: the calendar part mail programs turn into an event (RFC 6047).
      icalEvent:
        m.ical_method && m.ical_content ? { method: m.ical_method, content: m.ical_content } : undefined,
      // RFC 3834: our automatic mail says so, so the other side's auto-responders stay quiet.
      headers: m.is_auto_reply ? { "Auto-Submitted": "auto-replied", "X-Auto-Response-Suppress": "All" } : {},
    });
    if (from !== m.from_address || mailboxId !== m.mailbox_id) {
      await deps.db
        .updateTable("email_messages")
        .set({ from_address: from, mailbox_id: mailboxId })
        .where("id", "=", m.id)
        .execute();
    }
  } catch (err) {
    const e = err as Error & { responseCode?: number; response?: string };
    const permanent =
      err instanceof PermanentSendError || (e.responseCode !== undefined && e.responseCode >= 500);
    const final = permanent || job.retryCount >= job.retryLimit;
    // Said at warn while it will be retried, at error once the message has failed for good.
    const log = { emailMessageId: m.id, ticketId: m.ticket_id, to: m.to_addresses, reason: e.message };
    if (final) deps.log?.error(log, "email delivery failed");
    else deps.log?.warn({ ...log, attempt: job.retryCount + 1 }, "email delivery failed; will retry");
    await settle(deps, m.id, m.ticket_id, {
      status: final ? "failed" : "queued",
      last_error: e.message.slice(0, 1000),
      smtp_response: e.response?.slice(0, 1000) ?? null,
    });
    if (!final) throw err;
    return;
  }
  deps.log?.info({ emailMessageId: m.id, ticketId: m.ticket_id }, "email sent");
  await settle(deps, m.id, m.ticket_id, {
    status: "sent",
    smtp_response: info.response.slice(0, 1000),
    sent_at: new Date(),
  });
}

/** The files attached to a reply's timeline entry, as the mail's attachments. */
async function entryAttachments(deps: EmailDeps, entryId: string | null) {
  if (!entryId) return [];
  const files = await deps.db
    .selectFrom("attachments")
    .select(["filename", "content_type", "storage_key"])
    .where("timeline_entry_id", "=", entryId)
    .orderBy("created_at")
    .execute();
  return Promise.all(
    files.map(async (f) => ({
      filename: f.filename,
      contentType: f.content_type,
      content: await readBlob(await deps.blobs.get(f.storage_key)),
    })),
  );
}

async function settle(
  deps: EmailDeps,
  id: string,
  ticketId: string | null,
  set: {
    status: "sent" | "failed" | "queued";
    smtp_response?: string | null;
    last_error?: string;
    sent_at?: Date;
  },
) {
  // The outcome and, once final, its event (scoped to the ticket's client) in one statement.
  await sql`/*prepared*/
    with u as (
      update email_messages set status = ${set.status},
        smtp_response = case when ${"smtp_response" in set} then ${set.smtp_response ?? null}::text else smtp_response end,
        last_error = case when ${"last_error" in set} then ${set.last_error ?? null}::text else last_error end,
        sent_at = case when ${"sent_at" in set} then ${set.sent_at ?? null}::timestamptz else sent_at end,
        sealed_body = case when ${set.status} = 'queued' then sealed_body end,
        attempts = attempts + 1
      where id = ${id}
    )
    insert into domain_events (type, client_id, ticket_id, actor_user_id, payload)
    select ${`email.${set.status}`}, (select client_id from tickets where id = ${ticketId}::uuid), ${ticketId}::uuid,
      ${systemActor("email").userId}, ${JSON.stringify({ emailMessageId: id, response: set.smtp_response ?? set.last_error ?? null })}::jsonb
    where ${set.status} <> 'queued'`.execute(deps.db);
}
