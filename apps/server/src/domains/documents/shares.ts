import { sql } from "kysely";
import type { AppDeps } from "../../app.ts";
import { asSystem, runInScope } from "../../db/scope.ts";
import { AppError, invalid, notFound } from "../../http/errors.ts";
import { writeAudit } from "../audit/audit.ts";
import { type Actor, canSeeClient, requireWriter } from "../auth/actor.ts";
import { newSecret, sha256 } from "../auth/crypto.ts";
import { queueSystemMail } from "../email/system-mail.ts";
import { publicBase } from "../portal/sign-in.ts";
import { insertEntry } from "../tickets/timeline.ts";

/**
 * Shares documents of one client with a contact by an expiring link. The token is random (256 bits) and
 * only its hash is kept; the link is shown once (and mailed, sealed in the outgoing mail). The sharing is
 * recorded on the ticket, when one is named, and in the audit log.
 */
export async function createShare(
  deps: AppDeps,
  actor: Actor,
  input: {
    documentIds: string[];
    contactId: string | null;
    ticketId: string | null;
    expiresInDays: number;
    email: boolean;
  },
) {
  requireWriter(actor);
  const { db } = deps;
  const docs = await db
    .selectFrom("documents")
    .select(["id", "client_id", "title"])
    .where("id", "in", input.documentIds)
    .where("archived_at", "is", null)
    .execute();
  const ids = [...new Set(input.documentIds)];
  if (docs.length !== ids.length || docs.some((d) => !canSeeClient(actor, d.client_id))) {
    throw invalid("body.documentIds", "no such document");
  }
  const clientId = docs[0]!.client_id;
  if (docs.some((d) => d.client_id !== clientId))
    throw invalid("body.documentIds", "must all be of one client");
  const contact = input.contactId
    ? await db
        .selectFrom("contacts")
        .select(["id", "client_id", "emails", "first_name"])
        .where("id", "=", input.contactId)
        .executeTakeFirst()
    : null;
  if (input.contactId && contact?.client_id !== clientId)
    throw invalid("body.contactId", "no such contact of this client");
  const ticket = input.ticketId
    ? await db
        .selectFrom("tickets")
        .select(["id", "client_id", "number"])
        .where("id", "=", input.ticketId)
        .executeTakeFirst()
    : null;
  if (input.ticketId && ticket?.client_id !== clientId)
    throw invalid("body.ticketId", "no such ticket of this client");
  if (input.email && !contact?.emails[0])
    throw invalid("body.email", "choose a contact with an email address");

  const token = newSecret("sbs_");
  const url = `${publicBase(deps.config)}/portal/shared#token=${token}`;
  const expiresAt = new Date(Date.now() + input.expiresInDays * 86400_000);
  const share = await db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto("document_shares")
      .values({
        client_id: clientId,
        token_hash: sha256(token),
        document_ids: ids,
        contact_id: contact?.id ?? null,
        ticket_id: ticket?.id ?? null,
        expires_at: expiresAt,
        created_by_user_id: actor.userId,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    const titles = docs.map((d) => d.title);
    if (ticket) {
      await insertEntry(trx, actor, ticket, {
        kind: "event",
        visibility: "internal",
        event: {
          type: "documents_shared",
          shareId: row.id,
          titles,
          contactId: contact?.id ?? null,
          expiresAt: expiresAt.toISOString(),
        },
      });
    }
    await writeAudit(trx, actor, {
      action: "document.share",
      entityType: "document_share",
      entityId: row.id,
      clientId,
      after: {
        documentIds: ids,
        titles,
        contactId: contact?.id ?? null,
        ticketId: ticket?.id ?? null,
        expiresAt,
        email: input.email,
      },
    });
    if (input.email && contact) {
      const body = (link: string) =>
        `Hello ${contact.first_name},\n\nHere is the documentation you asked for: ${titles.join(", ")}.\n\n${link}\n\nThe link works until ${expiresAt.toUTCString()}.`;
      await queueSystemMail(deps, trx, {
        to: contact.emails[0]!,
        subject: `Documentation: ${titles.join(", ").slice(0, 150)}`,
        text: body("[link: sent, not stored]"),
        secretText: body(url),
        template: "document_share",
        ticketId: ticket?.id,
      });
    }
    return row;
  });
  return { id: share.id, url, expiresAt: expiresAt.toISOString() };
}

/** The share a token opens, if it is current; the lookup verifies the credential (system scope). */
async function shareOf(deps: AppDeps, token: string) {
  const s = await asSystem(() =>
    deps.db
      .selectFrom("document_shares")
      .select(["id", "client_id", "document_ids", "expires_at", "revoked_at"])
      .where("token_hash", "=", sha256(token))
      .executeTakeFirst(),
  );
  if (!s || s.revoked_at || s.expires_at < new Date()) {
    throw new AppError("not_found", 404, "This link is invalid, revoked or expired");
  }
  return s;
}

/** What a share link shows; everything after the token check runs confined to the share's client. */
export async function openShare(deps: AppDeps, token: string) {
  const s = await shareOf(deps, token);
  return runInScope({ kind: "clients", clientIds: [s.client_id] }, async () => {
    const { db } = deps;
    const [docs, files, client] = await Promise.all([
      db
        .selectFrom("documents as d")
        .innerJoin("doc_layouts as l", "l.id", "d.layout_id")
        .select(["d.id", "d.title", "l.name as layout", "l.fields", "d.data", "d.notes_html", "d.updated_at"])
        .where("d.id", "in", s.document_ids)
        .where("d.client_id", "=", s.client_id)
        .where("d.archived_at", "is", null)
        .orderBy("d.title")
        .execute(),
      db
        .selectFrom("document_files")
        .select(["id", "document_id", "filename", "size_bytes"])
        .where("document_id", "in", s.document_ids)
        .execute(),
      db.selectFrom("clients").select("name").where("id", "=", s.client_id).executeTakeFirstOrThrow(),
    ]);
    await db.transaction().execute(async (trx) => {
      await sql`update document_shares set open_count = open_count + 1, first_opened_at = coalesce(first_opened_at, now())
        where id = ${s.id}`.execute(trx);
    });
    return {
      client: client.name,
      expiresAt: s.expires_at.toISOString(),
      documents: docs.map((d) => ({
        id: d.id,
        title: d.title,
        layout: d.layout,
        fields: d.fields,
        data: d.data as Record<string, string | string[] | Array<Record<string, string>>>,
        notesHtml: d.notes_html,
        files: files
          .filter((f) => f.document_id === d.id)
          .map((f) => ({ id: f.id, filename: f.filename, sizeBytes: f.size_bytes })),
        updatedAt: d.updated_at.toISOString(),
      })),
    };
  });
}

export async function sharedFile(deps: AppDeps, token: string, fileId: string) {
  const s = await shareOf(deps, token);
  return runInScope({ kind: "clients", clientIds: [s.client_id] }, async () => {
    const f = await deps.db
      .selectFrom("document_files")
      .selectAll()
      .where("id", "=", fileId)
      .executeTakeFirst();
    if (!f || !s.document_ids.includes(f.document_id)) throw notFound("File");
    return f;
  });
}

export async function revokeShare(deps: AppDeps, actor: Actor, id: string) {
  requireWriter(actor);
  await deps.db.transaction().execute(async (trx) => {
    const s = await trx
      .selectFrom("document_shares")
      .select(["client_id", "revoked_at"])
      .where("id", "=", id)
      .forUpdate()
      .executeTakeFirst();
    if (!s || !canSeeClient(actor, s.client_id)) throw notFound("Share");
    if (s.revoked_at) return;
    await trx.updateTable("document_shares").set({ revoked_at: new Date() }).where("id", "=", id).execute();
    await writeAudit(trx, actor, {
      action: "document.share_revoke",
      entityType: "document_share",
      entityId: id,
      clientId: s.client_id,
    });
  });
}
