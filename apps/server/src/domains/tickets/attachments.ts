import type { Database } from "../../db/database.ts";
import { invalid, notFound } from "../../http/errors.ts";
import type { BlobStore } from "../../lib/blob-store.ts";
import { recordChange } from "../audit/record.ts";
import { type Actor, assertClientVisible, requireWriter } from "../auth/actor.ts";

/** Types a browser could run if served inline; they are always downloaded as octet-stream. */
const ACTIVE_TYPES =
  /^(text\/html|application\/xhtml|image\/svg|text\/xml|application\/xml|application\/javascript|text\/javascript)/i;

export function safeContentType(type: string) {
  return ACTIVE_TYPES.test(type) ? "application/octet-stream" : type;
}

/** Shown in place when asked (raster images, PDFs); anything else is always a download. */
export function previewable(type: string) {
  return /^(image\/(png|jpeg|gif|webp|bmp)|application\/pdf)$/i.test(type);
}

/** Stores the file (blob first, then the row: a crash leaves at worst an orphan blob, never a dangling row). */
export async function addAttachment(
  db: Database,
  blobs: BlobStore,
  actor: Actor,
  ticketId: string,
  file: { filename: string; contentType: string; data: Buffer; timelineEntryId?: string | null },
) {
  requireWriter(actor);
  const ticket = await db
    .selectFrom("tickets")
    .select(["id", "client_id", "number"])
    .where("id", "=", ticketId)
    .executeTakeFirst();
  if (!ticket) throw notFound("Ticket");
  assertClientVisible(actor, ticket.client_id, "Ticket");
  if (file.timelineEntryId) {
    const e = await db
      .selectFrom("timeline_entries")
      .select("ticket_id")
      .where("id", "=", file.timelineEntryId)
      .executeTakeFirst();
    if (e?.ticket_id !== ticketId) throw invalid("body.timelineEntryId", "no such entry on this ticket");
  }
  const blob = await blobs.put(file.data);
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto("attachments")
      .values({
        ticket_id: ticketId,
        timeline_entry_id: file.timelineEntryId ?? null,
        filename: file.filename.slice(0, 255),
        content_type: file.contentType,
        size_bytes: blob.sizeBytes,
        sha256: blob.sha256,
        storage_key: blob.key,
        created_by_user_id: actor.userId,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordChange(
      trx,
      actor,
      {
        action: "ticket.attachment_add",
        entityType: "ticket",
        entityId: ticketId,
        clientId: ticket.client_id,
        after: {
          attachmentId: row.id,
          filename: row.filename,
          sizeBytes: row.size_bytes,
          sha256: row.sha256,
        },
      },
      {
        type: "ticket.attachment_added",
        clientId: ticket.client_id,
        ticketId,
        payload: { number: ticket.number, attachmentId: row.id, filename: row.filename },
      },
    );
    return row;
  });
}

export async function getAttachment(db: Database, actor: Actor, id: string) {
  const row = await db
    .selectFrom("attachments as a")
    .innerJoin("tickets as t", "t.id", "a.ticket_id")
    .select(["a.id", "a.filename", "a.content_type", "a.size_bytes", "a.storage_key", "t.client_id"])
    .where("a.id", "=", id)
    .executeTakeFirst();
  if (!row) throw notFound("Attachment");
  assertClientVisible(actor, row.client_id, "Attachment");
  return row;
}
