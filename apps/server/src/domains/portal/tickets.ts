import type { PortalTicketDto, PortalTicketSummaryDto } from "@switchboard/shared";
import type { Selectable } from "kysely";
import { type SqlBool, sql } from "kysely";
import type { Database } from "../../db/database.ts";
import type { AttachmentsTable, StatusCategory } from "../../db/schema.ts";
import { forbidden, notFound } from "../../http/errors.ts";
import type { BlobStore } from "../../lib/blob-store.ts";
import { decodeCursor, encodeCursor } from "../../lib/cursor.ts";
import { writeAudit } from "../audit/audit.ts";
import type { Actor } from "../auth/actor.ts";
import { createTicketInTx } from "../tickets/service.ts";
import { addTimelineEntryInTx } from "../tickets/timeline.ts";

/** The contact behind a portal actor; anything else reaching here is a bug, refused. */
export function contactOf(actor: Actor) {
  if (actor.kind !== "contact" || !actor.contact) throw forbidden("This is for portal contacts");
  return actor.contact;
}

/**
 * Which tickets a contact may see: their company's (row-level security already confines the statement
 * to it), and of those only their own (they are its contact, or cc'd on it) unless they are a company
 * admin asking for the company's. Merged tickets are left out (their conversation moved).
 */
export function visibleTo(actor: Actor, scope: "mine" | "company" = "mine") {
  const c = contactOf(actor);
  const own = sql<SqlBool>`(t.contact_id = ${c.id}
    or exists (select 1 from ticket_contacts tc where tc.ticket_id = t.id and tc.contact_id = ${c.id}))`;
  const company = scope === "company" && c.companyAdmin;
  return sql<SqlBool>`t.client_id = ${c.clientId} and t.merged_into_id is null and ${company ? sql`true` : own}`;
}

interface SummaryRow {
  id: string;
  number: number;
  subject: string;
  status_name: string;
  status_category: StatusCategory;
  contact_first: string | null;
  contact_last: string | null;
  created_at: Date;
  last_activity_at: Date;
  resolved_at: Date | null;
  k: string;
}

const toSummary = (r: SummaryRow): PortalTicketSummaryDto => ({
  id: r.id,
  number: r.number,
  subject: r.subject,
  status: { name: r.status_name, category: r.status_category },
  contactName: r.contact_first === null ? null : `${r.contact_first} ${r.contact_last ?? ""}`.trim(),
  createdAt: r.created_at.toISOString(),
  lastActivityAt: r.last_activity_at.toISOString(),
  resolvedAt: r.resolved_at?.toISOString() ?? null,
});

const summaryColumns = sql`t.id, t.number, t.subject, s.name as status_name, t.status_category,
  ct.first_name as contact_first, ct.last_name as contact_last, t.created_at, t.last_activity_at,
  t.resolved_at, t.created_at::text as k`;

/** Newest first, keyset-paginated. */
export async function listPortalTickets(
  db: Database,
  actor: Actor,
  q: { scope: "mine" | "company"; status: "open" | "closed" | "all"; limit: number; cursor?: string },
) {
  const after = q.cursor ? decodeCursor(q.cursor, ["timestamptz", "uuid"]) : null;
  const status =
    q.status === "open" ? sql`t.is_open` : q.status === "closed" ? sql`not t.is_open` : sql`true`;
  const { rows } = await sql<SummaryRow>`
    select ${summaryColumns}
    from tickets t join ticket_statuses s on s.id = t.status_id left join contacts ct on ct.id = t.contact_id
    where ${visibleTo(actor, q.scope)} and ${status}
      and ${after ? sql`(t.created_at, t.id) < (${after[0]}::timestamptz, ${after[1]}::uuid)` : sql`true`}
    order by t.created_at desc, t.id desc
    limit ${q.limit + 1}`.execute(db);
  const page = rows.slice(0, q.limit);
  const last = page.at(-1);
  return {
    items: page.map(toSummary),
    nextCursor: rows.length > q.limit && last ? encodeCursor([last.k, last.id]) : null,
  };
}

/** A ticket as its contact sees it: the public conversation only. 404 for anything not theirs. */
export async function getPortalTicket(db: Database, actor: Actor, id: string): Promise<PortalTicketDto> {
  const { rows } = await sql<SummaryRow & { description: string; rating: "good" | "okay" | "bad" | null }>`
    select ${summaryColumns}, t.description, r.rating
    from tickets t join ticket_statuses s on s.id = t.status_id left join contacts ct on ct.id = t.contact_id
    left join csat_ratings r on r.ticket_id = t.id
    where t.id = ${id} and ${visibleTo(actor, "company")}`.execute(db);
  const row = rows[0];
  if (!row) throw notFound("Ticket");
  const entries = await db
    .selectFrom("timeline_entries as e")
    .leftJoin("users as u", "u.id", "e.author_user_id")
    .leftJoin("contacts as c", "c.id", "e.author_contact_id")
    .select([
      "e.id",
      "e.kind",
      "e.body",
      "e.created_at",
      "e.author_user_id",
      "u.name as user_name",
      "e.author_contact_id",
      "c.first_name",
      "c.last_name",
    ])
    .where("e.ticket_id", "=", id)
    .where("e.visibility", "=", "public")
    .where("e.kind", "in", ["reply", "email"])
    .orderBy("e.seq", "asc")
    .limit(500)
    .execute();
  const files = entries.length
    ? await db
        .selectFrom("attachments")
        .select(["id", "timeline_entry_id", "filename", "content_type", "size_bytes"])
        .where(
          "timeline_entry_id",
          "in",
          entries.map((e) => e.id),
        )
        .execute()
    : [];
  return {
    ...toSummary(row),
    description: row.description,
    rating: row.rating,
    entries: entries.map((e) => ({
      id: e.id,
      kind: e.kind as "reply" | "email",
      body: e.body,
      author: e.author_user_id
        ? { type: "user" as const, name: e.user_name ?? "" }
        : e.author_contact_id
          ? { type: "contact" as const, name: `${e.first_name ?? ""} ${e.last_name ?? ""}`.trim() }
          : null,
      attachments: files
        .filter((f) => f.timeline_entry_id === e.id)
        .map((f) => ({
          id: f.id,
          filename: f.filename,
          contentType: f.content_type,
          sizeBytes: f.size_bytes,
        })),
      createdAt: e.created_at.toISOString(),
    })),
  };
}

/** A company admin sees the company's tickets; anyone else their own. */
async function maySee(db: Database, actor: Actor, ticketId: string) {
  const { rows } = await sql<{ ok: boolean }>`
    select exists (select 1 from tickets t where t.id = ${ticketId} and ${visibleTo(actor, "company")}) as ok`.execute(
    db,
  );
  return rows[0]?.ok ?? false;
}

export async function createPortalTicket(
  db: Database,
  actor: Actor,
  input: { subject: string; description: string },
) {
  const c = contactOf(actor);
  const ticket = await db.transaction().execute((trx) =>
    createTicketInTx(trx, actor, {
      subject: input.subject,
      description: input.description,
      clientId: c.clientId,
      contactId: c.id,
      type: "incident",
      source: "portal",
      priority: 3,
      tags: [],
    }),
  );
  return getPortalTicket(db, actor, ticket.id);
}

export async function replyOnPortalTicket(db: Database, actor: Actor, ticketId: string, body: string) {
  const c = contactOf(actor);
  if (!(await maySee(db, actor, ticketId))) throw notFound("Ticket");
  return db.transaction().execute((trx) =>
    addTimelineEntryInTx(trx, actor, ticketId, {
      kind: "reply",
      visibility: "public",
      body,
      contactId: c.id,
    }),
  );
}

/**
 * Files a contact attaches go on a public entry of theirs (a reply saying what was attached), so the
 * technician sees who sent them and the contact sees them in the conversation.
 */
export async function attachOnPortalTicket(
  db: Database,
  blobs: BlobStore,
  actor: Actor,
  ticketId: string,
  files: Array<{ filename: string; contentType: string; data: Buffer }>,
  note: string,
) {
  const c = contactOf(actor);
  if (!(await maySee(db, actor, ticketId))) throw notFound("Ticket");
  const stored = await Promise.all(files.map(async (f) => ({ ...f, blob: await blobs.put(f.data) })));
  return db.transaction().execute(async (trx) => {
    const names = stored.map((f) => f.filename).join(", ");
    const { entryId, ticketId: target } = await addTimelineEntryInTx(trx, actor, ticketId, {
      kind: "reply",
      visibility: "public",
      body: note.trim() || `Attached ${names}`,
      contactId: c.id,
    });
    const rows: Array<Selectable<AttachmentsTable>> = [];
    for (const f of stored) {
      rows.push(
        await trx
          .insertInto("attachments")
          .values({
            ticket_id: target,
            timeline_entry_id: entryId,
            filename: f.filename.slice(0, 255),
            content_type: f.contentType,
            size_bytes: f.blob.sizeBytes,
            sha256: f.blob.sha256,
            storage_key: f.blob.key,
            created_by_user_id: null,
          })
          .returningAll()
          .executeTakeFirstOrThrow(),
      );
    }
    await writeAudit(trx, actor, {
      action: "ticket.attachment_add",
      entityType: "ticket",
      entityId: target,
      clientId: c.clientId,
      after: {
        entryId,
        attachments: rows.map((r) => ({ id: r.id, filename: r.filename, sha256: r.sha256 })),
      },
    });
    return rows;
  });
}

/** An attachment on a public entry of a ticket the contact may see; 404 otherwise. */
export async function getPortalAttachment(db: Database, actor: Actor, id: string) {
  const row = await db
    .selectFrom("attachments as a")
    .innerJoin("timeline_entries as e", "e.id", "a.timeline_entry_id")
    .select(["a.id", "a.ticket_id", "a.filename", "a.content_type", "a.size_bytes", "a.storage_key"])
    .where("a.id", "=", id)
    .where("e.visibility", "=", "public")
    .executeTakeFirst();
  if (!row || !(await maySee(db, actor, row.ticket_id))) throw notFound("Attachment");
  return row;
}
