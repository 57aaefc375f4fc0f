import { sql } from "kysely";
import type { Database } from "../../db/database.ts";
import { notFound } from "../../http/errors.ts";
import type { Actor } from "../auth/actor.ts";
import { contactOf } from "../portal/tickets.ts";
import { SEARCH_CONFIG } from "../tickets/queries.ts";

// The knowledge base as a portal contact sees it: public articles for everyone or for their company.

/** Images in an article point at the staff file route; in the portal, at the portal's. */
const portalHtml = (html: string) =>
  html.replace(/(src=")\/api\/v1\/kb\/files\//g, "$1/api/v1/portal/kb/files/");

/** Public articles matching the words (or the newest without words): the suggestions before a new ticket. */
export async function suggestArticles(db: Database, actor: Actor, q: { q?: string; limit: number }) {
  const c = contactOf(actor);
  const words = q.q?.trim();
  // Suggestions match any of the words typed (a subject is not a query: every word need not appear).
  const query = sql`to_tsquery(${sql.lit(SEARCH_CONFIG)}::regconfig, ${orQuery(words ?? "")})`;
  const { rows } = await sql<{ id: string; title: string; body_text: string; updated_at: Date }>`
    select a.id, a.title, a.body_text, a.updated_at from kb_articles a
    where a.visibility = 'public' and (a.client_id is null or a.client_id = ${c.clientId})
      and ${words ? sql`a.search_vector @@ ${query}` : sql`true`}
    order by ${words ? sql`ts_rank_cd(a.search_vector, ${query}, 1) desc,` : sql``} a.updated_at desc
    limit ${q.limit}`.execute(db);
  return rows.map((r) => ({
    id: r.id,
    title: r.title,
    visibility: "public" as const,
    client: null,
    excerpt: r.body_text.length > 200 ? `${r.body_text.slice(0, 200).trimEnd()}…` : r.body_text,
    updatedAt: r.updated_at.toISOString(),
  }));
}

/** The words of free text as an OR query for to_tsquery; only letters and digits reach it. */
export function orQuery(text: string) {
  const words = text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((w) => w.length > 1)
    .slice(0, 20);
  return words.length ? words.join(" | ") : "";
}

export async function getPortalArticle(db: Database, actor: Actor, id: string) {
  const c = contactOf(actor);
  const a = await db
    .selectFrom("kb_articles")
    .select(["id", "title", "body_html", "updated_at", "client_id", "visibility"])
    .where("id", "=", id)
    .executeTakeFirst();
  if (!a || a.visibility !== "public" || (a.client_id !== null && a.client_id !== c.clientId)) {
    throw notFound("Article");
  }
  return {
    id: a.id,
    title: a.title,
    bodyHtml: portalHtml(a.body_html),
    updatedAt: a.updated_at.toISOString(),
  };
}

export async function getPortalArticleFile(db: Database, actor: Actor, id: string) {
  const c = contactOf(actor);
  const f = await db
    .selectFrom("kb_files as f")
    .innerJoin("kb_articles as a", "a.id", "f.article_id")
    .select(["f.filename", "f.content_type", "f.size_bytes", "f.storage_key", "a.client_id", "a.visibility"])
    .where("f.id", "=", id)
    .executeTakeFirst();
  if (!f || f.visibility !== "public" || (f.client_id !== null && f.client_id !== c.clientId)) {
    throw notFound("File");
  }
  return f;
}
