import type { ArticleDto, ArticleSummaryDto } from "@switchboard/shared";
import { type SqlBool, sql } from "kysely";
import type { Database } from "../../db/database.ts";
import { invalid, notFound, versionConflict } from "../../http/errors.ts";
import type { BlobStore } from "../../lib/blob-store.ts";
import { plainToRichText, richTextToPlain, sanitizeRichText } from "../../lib/rich-text.ts";
import { writeAudit } from "../audit/audit.ts";
import { type Actor, assertClientVisible, canSeeClient, requireWriter } from "../auth/actor.ts";
import { SEARCH_CONFIG } from "../tickets/queries.ts";

interface ArticleRow {
  id: string;
  title: string;
  visibility: "internal" | "public";
  client_id: string | null;
  client_name: string | null;
  body_html: string;
  body_text: string;
  source_ticket_id: string | null;
  source_number: number | null;
  created_at: Date;
  updated_at: Date;
  updated_by: string | null;
  version: number;
}

const excerpt = (text: string) => (text.length > 200 ? `${text.slice(0, 200).trimEnd()}…` : text);

const toSummary = (r: ArticleRow): ArticleSummaryDto => ({
  id: r.id,
  title: r.title,
  visibility: r.visibility,
  client: r.client_id ? { id: r.client_id, name: r.client_name ?? "" } : null,
  excerpt: excerpt(r.body_text),
  updatedAt: r.updated_at.toISOString(),
});

const toDto = (r: ArticleRow): ArticleDto => ({
  ...toSummary(r),
  bodyHtml: r.body_html,
  bodyText: r.body_text,
  sourceTicket: r.source_ticket_id ? { id: r.source_ticket_id, number: r.source_number ?? 0 } : null,
  createdAt: r.created_at.toISOString(),
  updatedBy: r.updated_by,
  version: r.version,
});

const columns = sql`a.id, a.title, a.visibility, a.client_id, c.name as client_name, a.body_html, a.body_text,
  a.source_ticket_id, t.number as source_number, a.created_at, a.updated_at, u.name as updated_by, a.version`;
const from = sql`kb_articles a left join clients c on c.id = a.client_id
  left join tickets t on t.id = a.source_ticket_id left join users u on u.id = a.updated_by_user_id`;

/** Articles for everyone, plus those of the clients the actor sees (row-level security agrees). */
const staffScope = (actor: Actor) =>
  actor.clientIds === null
    ? sql<SqlBool>`true`
    : sql<SqlBool>`(a.client_id is null or a.client_id = any(${actor.clientIds}::uuid[]))`;

export async function listArticles(
  db: Database,
  actor: Actor,
  q: { q?: string; clientId?: string; visibility?: "internal" | "public"; limit: number },
) {
  const words = q.q?.trim();
  const query = sql`websearch_to_tsquery(${sql.lit(SEARCH_CONFIG)}::regconfig, ${words ?? ""})`;
  const { rows } = await sql<ArticleRow>`
    select ${columns} from ${from}
    where ${staffScope(actor)}
      and ${q.clientId ? sql`(a.client_id = ${q.clientId} or a.client_id is null)` : sql`true`}
      and ${q.visibility ? sql`a.visibility = ${q.visibility}` : sql`true`}
      and ${words ? sql`a.search_vector @@ ${query}` : sql`true`}
    order by ${words ? sql`ts_rank_cd(a.search_vector, ${query}, 1) desc,` : sql``} a.updated_at desc
    limit ${q.limit}`.execute(db);
  return rows.map(toSummary);
}

async function loadArticle(db: Database, id: string) {
  const { rows } = await sql<ArticleRow>`select ${columns} from ${from} where a.id = ${id}`.execute(db);
  return rows[0];
}

export async function getArticle(db: Database, actor: Actor, id: string) {
  const row = await loadArticle(db, id);
  if (!row || (row.client_id && !canSeeClient(actor, row.client_id))) throw notFound("Article");
  return toDto(row);
}

function checkClient(actor: Actor, clientId: string | null) {
  if (clientId && !canSeeClient(actor, clientId)) throw invalid("body.clientId", "no such client");
  // An article for every client is MSP-wide: only staff who see every client write one.
  if (clientId === null && actor.clientIds !== null) {
    throw invalid("body.clientId", "choose one of your clients");
  }
}

export async function createArticle(
  db: Database,
  actor: Actor,
  input: {
    title: string;
    bodyHtml: string;
    visibility: "internal" | "public";
    clientId: string | null;
    sourceTicketId?: string | null;
  },
) {
  requireWriter(actor);
  checkClient(actor, input.clientId);
  const html = sanitizeRichText(input.bodyHtml);
  const id = await db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto("kb_articles")
      .values({
        title: input.title,
        body_html: html,
        body_text: richTextToPlain(html),
        visibility: input.visibility,
        client_id: input.clientId,
        source_ticket_id: input.sourceTicketId ?? null,
        created_by_user_id: actor.userId,
        updated_by_user_id: actor.userId,
      })
      .returning(["id", "title", "visibility", "client_id"])
      .executeTakeFirstOrThrow();
    await writeAudit(trx, actor, {
      action: "kb.article_create",
      entityType: "kb_article",
      entityId: row.id,
      clientId: row.client_id,
      after: { title: row.title, visibility: row.visibility, clientId: row.client_id },
    });
    return row.id;
  });
  return getArticle(db, actor, id);
}

export async function updateArticle(
  db: Database,
  actor: Actor,
  id: string,
  input: {
    version: number;
    title?: string;
    bodyHtml?: string;
    visibility?: "internal" | "public";
    clientId?: string | null;
  },
) {
  requireWriter(actor);
  await db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom("kb_articles")
      .selectAll()
      .where("id", "=", id)
      .forUpdate()
      .executeTakeFirst();
    if (!row || (row.client_id && !canSeeClient(actor, row.client_id))) throw notFound("Article");
    if (row.client_id === null && actor.clientIds !== null) throw notFound("Article");
    if (row.version !== input.version) throw versionConflict("article", toDto((await loadArticle(trx, id))!));
    if (input.clientId !== undefined) checkClient(actor, input.clientId);
    const html = input.bodyHtml !== undefined ? sanitizeRichText(input.bodyHtml) : row.body_html;
    const after = await trx
      .updateTable("kb_articles")
      .set({
        title: input.title ?? row.title,
        body_html: html,
        body_text: richTextToPlain(html),
        visibility: input.visibility ?? row.visibility,
        client_id: input.clientId !== undefined ? input.clientId : row.client_id,
        updated_by_user_id: actor.userId,
        updated_at: new Date(),
        version: row.version + 1,
      })
      .where("id", "=", id)
      .returning(["title", "visibility", "client_id", "version"])
      .executeTakeFirstOrThrow();
    await writeAudit(trx, actor, {
      action: "kb.article_update",
      entityType: "kb_article",
      entityId: id,
      clientId: after.client_id ?? row.client_id,
      before: { title: row.title, visibility: row.visibility, clientId: row.client_id, version: row.version },
      after: { ...after, bodyChanged: html !== row.body_html },
    });
  });
  return getArticle(db, actor, id);
}

export async function deleteArticle(db: Database, actor: Actor, id: string) {
  requireWriter(actor);
  await db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom("kb_articles")
      .selectAll()
      .where("id", "=", id)
      .forUpdate()
      .executeTakeFirst();
    if (!row || (row.client_id && !canSeeClient(actor, row.client_id))) throw notFound("Article");
    if (row.client_id === null && actor.clientIds !== null) throw notFound("Article");
    await trx.deleteFrom("kb_articles").where("id", "=", id).execute();
    await writeAudit(trx, actor, {
      action: "kb.article_delete",
      entityType: "kb_article",
      entityId: id,
      clientId: row.client_id,
      before: { title: row.title, visibility: row.visibility, clientId: row.client_id },
    });
  });
}

/**
 * "Create article from this ticket": an internal draft for the ticket's client, titled with the
 * subject, holding the description and the public conversation (what was asked and what fixed it).
 */
export async function articleFromTicket(db: Database, actor: Actor, ticketId: string) {
  requireWriter(actor);
  const t = await db
    .selectFrom("tickets")
    .select(["id", "subject", "description", "client_id"])
    .where("id", "=", ticketId)
    .executeTakeFirst();
  if (!t) throw invalid("body.ticketId", "no such ticket");
  assertClientVisible(actor, t.client_id, "Ticket");
  const replies = await db
    .selectFrom("timeline_entries")
    .select(["body", "kind"])
    .where("ticket_id", "=", ticketId)
    .where("visibility", "=", "public")
    .where("kind", "in", ["reply", "email"])
    .orderBy("seq")
    .limit(50)
    .execute();
  const parts = [`<h2>Problem</h2>${plainToRichText(t.description || t.subject)}`];
  const fixes = replies.filter((r) => r.kind === "reply" && r.body.trim());
  if (fixes.length) parts.push(`<h2>Resolution</h2>${fixes.map((r) => plainToRichText(r.body)).join("\n")}`);
  return createArticle(db, actor, {
    title: t.subject,
    bodyHtml: parts.join("\n"),
    visibility: "internal",
    clientId: t.client_id,
    sourceTicketId: t.id,
  });
}

const IMAGE_TYPES = /^image\/(png|jpeg|gif|webp)$/i;

/** An image for an article; the editor puts `/api/v1/kb/files/<id>` in the article's HTML. */
export async function addArticleFile(
  db: Database,
  blobs: BlobStore,
  actor: Actor,
  articleId: string,
  file: { filename: string; contentType: string; data: Buffer },
) {
  requireWriter(actor);
  const a = await db
    .selectFrom("kb_articles")
    .select(["id", "client_id"])
    .where("id", "=", articleId)
    .executeTakeFirst();
  if (!a || (a.client_id && !canSeeClient(actor, a.client_id))) throw notFound("Article");
  if (!IMAGE_TYPES.test(file.contentType))
    throw invalid("body.file", "must be a PNG, JPEG, GIF or WebP image");
  const blob = await blobs.put(file.data);
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto("kb_files")
      .values({
        article_id: articleId,
        filename: file.filename.slice(0, 255),
        content_type: file.contentType,
        size_bytes: blob.sizeBytes,
        sha256: blob.sha256,
        storage_key: blob.key,
        created_by_user_id: actor.userId,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await writeAudit(trx, actor, {
      action: "kb.file_add",
      entityType: "kb_article",
      entityId: articleId,
      clientId: a.client_id,
      after: { fileId: row.id, filename: row.filename, sha256: row.sha256 },
    });
    return row;
  });
}

export async function getArticleFile(db: Database, actor: Actor, id: string) {
  const row = await db
    .selectFrom("kb_files as f")
    .innerJoin("kb_articles as a", "a.id", "f.article_id")
    .select(["f.filename", "f.content_type", "f.size_bytes", "f.storage_key", "a.client_id"])
    .where("f.id", "=", id)
    .executeTakeFirst();
  if (!row || (row.client_id && !canSeeClient(actor, row.client_id))) throw notFound("File");
  return row;
}
