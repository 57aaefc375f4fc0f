import { notFound } from "../../http/errors.ts";
import type { Actor } from "../auth/actor.ts";
import { assertClientVisible } from "../auth/actor.ts";
import type { EmailDeps } from "./deps.ts";
import { readBlob } from "./ingest.ts";
import { parseEmail, splitQuoted } from "./parse.ts";

/**
 * A message's readable content: the sanitized HTML (inline images pointing at their attachments), the
 * text split into what the sender wrote and the quoted history or signature the view folds, and its
 * attachments. A message on a ticket is visible to whoever sees the ticket; a held one to admins only.
 */
export async function getEmailContent(deps: Pick<EmailDeps, "db" | "blobs">, actor: Actor, id: string) {
  const m = await deps.db.selectFrom("email_messages").selectAll().where("id", "=", id).executeTakeFirst();
  if (!m) throw notFound("Email message");
  const ticketId = m.ticket_id ?? m.related_ticket_id;
  if (m.ticket_id) {
    const t = await deps.db
      .selectFrom("tickets")
      .select("client_id")
      .where("id", "=", m.ticket_id)
      .executeTakeFirst();
    if (!t) throw notFound("Email message");
    assertClientVisible(actor, t.client_id, "Email message");
  } else if (actor.role !== "admin") {
    throw notFound("Email message");
  }
  let text = m.body_text ?? "";
  if (m.timeline_entry_id && m.direction === "inbound") {
    const e = await deps.db
      .selectFrom("timeline_entries")
      .select("body")
      .where("id", "=", m.timeline_entry_id)
      .executeTakeFirst();
    text = e?.body ?? "";
  } else if (!m.ticket_id && m.raw_key) {
    // A held message has no entry yet: read it from the stored original.
    text = await parseEmail(await readBlob(await deps.blobs.get(m.raw_key)))
      .then((p) => p.text)
      .catch((err: Error) => `(cannot be read: ${err.message})`);
  }
  const parts = await deps.db
    .selectFrom("email_attachment_parts as p")
    .innerJoin("attachments as a", "a.id", "p.attachment_id")
    .select(["a.id", "a.filename", "a.content_type", "a.size_bytes", "p.inline", "p.content_id"])
    .where("p.email_message_id", "=", id)
    .execute();
  const { main, folded } = splitQuoted(text);
  return {
    id: m.id,
    ticketId,
    html: m.body_html,
    text,
    main,
    folded,
    attachments: parts.map((p) => ({
      id: p.id,
      filename: p.filename,
      contentType: p.content_type,
      sizeBytes: Number(p.size_bytes),
      inline: p.inline,
      contentId: p.content_id,
    })),
  };
}
