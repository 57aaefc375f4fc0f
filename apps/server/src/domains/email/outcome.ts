import { sql, type Transaction } from "kysely";
import type { DB } from "../../db/schema.ts";
import { systemActor } from "../auth/actor.ts";

export interface OutcomeAttachment {
  id: string;
  ticket_id: string;
  timeline_entry_id: string;
  filename: string;
  content_type: string;
  size_bytes: number;
  sha256: string;
  storage_key: string;
  content_id: string | null;
  inline: boolean;
}

export interface OutcomeRow {
  status: string;
  mailbox_id: string | null;
  status_reason: string | null;
  message_id: string | null;
  in_reply_to: string | null;
  reference_ids: string[];
  subject: string | null;
  from_address: string | null;
  to_addresses: string[];
  cc_addresses: string[];
  body_html: string | null;
  is_auto_reply: boolean;
  auto_reply_reason: string | null;
  ticket_id: string | null;
  timeline_entry_id: string | null;
  contact_id: string | null;
  related_ticket_id: string | null;
  event_client_id: string | null;
}

/** The attachments, the message's outcome and its `email.<status>` event, in one statement. */
export async function recordOutcome(
  trx: Transaction<DB>,
  id: string,
  attachments: OutcomeAttachment[],
  r: OutcomeRow,
) {
  const actor = systemActor("email");
  await sql`/*prepared*/
    with att as (
      insert into attachments (id, ticket_id, timeline_entry_id, filename, content_type, size_bytes, sha256, storage_key)
      select id, ticket_id, timeline_entry_id, filename, content_type, size_bytes, sha256, storage_key
      from jsonb_to_recordset(${JSON.stringify(attachments)}::jsonb) as x(id uuid, ticket_id uuid,
        timeline_entry_id uuid, filename text, content_type text, size_bytes bigint, sha256 text, storage_key text)
      returning id
    ), parts as (
      insert into email_attachment_parts (attachment_id, email_message_id, content_id, inline)
      select x.id, ${id}, x.content_id, x.inline
      from jsonb_to_recordset(${JSON.stringify(attachments)}::jsonb) as x(id uuid, content_id text, inline boolean)
      join att on att.id = x.id
    ), m as (
      update email_messages set status = ${r.status}, mailbox_id = ${r.mailbox_id}, status_reason = ${r.status_reason},
        message_id = ${r.message_id}, in_reply_to = ${r.in_reply_to}, reference_ids = ${r.reference_ids}::text[],
        subject = ${r.subject}, from_address = ${r.from_address}, to_addresses = ${r.to_addresses}::text[],
        cc_addresses = ${r.cc_addresses}::text[], body_html = ${r.body_html}, is_auto_reply = ${r.is_auto_reply},
        auto_reply_reason = ${r.auto_reply_reason}, ticket_id = ${r.ticket_id}, timeline_entry_id = ${r.timeline_entry_id},
        contact_id = ${r.contact_id}, related_ticket_id = ${r.related_ticket_id}, processed_at = clock_timestamp(),
        attempts = attempts + 1
      where id = ${id}
    )
    insert into domain_events (type, client_id, ticket_id, actor_user_id, payload)
    values (${`email.${r.status}`}, ${r.event_client_id}, ${r.ticket_id}, ${actor.userId},
      ${JSON.stringify({ emailMessageId: id })}::jsonb)`.execute(trx);
}
