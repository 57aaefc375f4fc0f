import type { DocumentDto, DocumentSummaryDto } from "@switchboard/shared";
import { type SqlBool, sql, type Transaction } from "kysely";
import type { Database } from "../../db/database.ts";
import type { DB, DocLayoutField } from "../../db/schema.ts";
import { conflictOn, invalid, notFound, versionConflict } from "../../http/errors.ts";
import type { BlobStore } from "../../lib/blob-store.ts";
import { richTextToPlain, sanitizeRichText } from "../../lib/rich-text.ts";
import { writeAudit } from "../audit/audit.ts";
import { type Actor, assertClientVisible, canSeeClient, requireRole, requireWriter } from "../auth/actor.ts";
import { SEARCH_CONFIG } from "../tickets/queries.ts";

type Db = Database | Transaction<DB>;
type Data = Record<string, string | string[] | Array<Record<string, string>>>;
type Link = { type: "site" | "device" | "contact"; id: string };

export async function listLayouts(db: Database) {
  const rows = await db
    .selectFrom("doc_layouts")
    .selectAll()
    .orderBy("builtin", "desc")
    .orderBy("name")
    .execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    fields: r.fields,
    builtin: r.builtin,
    version: r.version,
  }));
}

export async function createLayout(
  db: Database,
  actor: Actor,
  input: { name: string; fields: DocLayoutField[] },
) {
  requireRole(actor, "admin");
  const keys = input.fields.map((f) => f.key);
  if (new Set(keys).size !== keys.length) throw invalid("body.fields", "field keys must be unique");
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto("doc_layouts")
      .values({ name: input.name, fields: JSON.stringify(input.fields) })
      .onConflict((oc) => oc.expression(sql`lower(name)`).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) throw conflictOn("body.name", `a layout named "${input.name}" exists`);
    await writeAudit(trx, actor, {
      action: "doc_layout.create",
      entityType: "doc_layout",
      entityId: row.id,
      after: input,
    });
    return { id: row.id, name: row.name, fields: row.fields, builtin: row.builtin, version: row.version };
  });
}

/** Values checked against the layout: known fields only, each of its type; table cells of its columns. */
function checkData(fields: DocLayoutField[], data: Data): Data {
  const byKey = new Map(fields.map((f) => [f.key, f]));
  for (const [key, value] of Object.entries(data)) {
    const f = byKey.get(key);
    const path = `body.data.${key}`;
    if (!f) throw invalid(path, "is not a field of the layout");
    if (f.type === "text" || f.type === "textarea") {
      if (typeof value !== "string") throw invalid(path, "must be text");
    } else if (f.type === "list") {
      if (!Array.isArray(value) || value.some((v) => typeof v !== "string"))
        throw invalid(path, "must be a list of text");
    } else {
      const cols = new Set((f.columns ?? []).map((c) => c.key));
      if (!Array.isArray(value) || value.some((r) => typeof r !== "object" || r === null)) {
        throw invalid(path, "must be rows");
      }
      for (const row of value as Array<Record<string, string>>) {
        for (const k of Object.keys(row)) if (!cols.has(k)) throw invalid(path, `has no column ${k}`);
      }
    }
  }
  return data;
}

/** The values and notes as text for search (the circuit id, the support number, the SSID...). */
function searchText(data: Data, notesHtml: string) {
  const parts: string[] = [];
  for (const v of Object.values(data)) {
    if (typeof v === "string") parts.push(v);
    else for (const x of v) parts.push(typeof x === "string" ? x : Object.values(x).join(" "));
  }
  parts.push(richTextToPlain(notesHtml));
  return parts.join("\n").slice(0, 200_000);
}

async function checkLinks(db: Db, clientId: string, links: Link[]) {
  for (const [i, l] of links.entries()) {
    const table = l.type === "site" ? "sites" : l.type === "device" ? "devices" : "contacts";
    const row = await db.selectFrom(table).select("client_id").where("id", "=", l.id).executeTakeFirst();
    if (row?.client_id !== clientId) throw invalid(`body.links.${i}.id`, `no such ${l.type} of this client`);
  }
}

const scopeOf = (actor: Actor) =>
  actor.clientIds === null ? sql<SqlBool>`true` : sql<SqlBool>`d.client_id = any(${actor.clientIds}::uuid[])`;

export async function listDocuments(
  db: Database,
  actor: Actor,
  q: { clientId?: string; q?: string },
): Promise<DocumentSummaryDto[]> {
  const words = q.q?.trim();
  const query = sql`websearch_to_tsquery(${sql.lit(SEARCH_CONFIG)}::regconfig, ${words ?? ""})`;
  const { rows } = await sql<{
    id: string;
    title: string;
    client_id: string;
    client_name: string;
    layout_id: string;
    layout_name: string;
    updated_at: Date;
    version: number;
  }>`select d.id, d.title, d.client_id, c.name as client_name, d.layout_id, l.name as layout_name, d.updated_at, d.version
    from documents d join clients c on c.id = d.client_id join doc_layouts l on l.id = d.layout_id
    where d.archived_at is null and ${scopeOf(actor)}
      and ${q.clientId ? sql`d.client_id = ${q.clientId}` : sql`true`}
      and ${words ? sql`d.search_vector @@ ${query}` : sql`true`}
    order by c.name, l.name, d.title limit 500`.execute(db);
  return rows.map((r) => ({
    id: r.id,
    title: r.title,
    client: { id: r.client_id, name: r.client_name },
    layout: { id: r.layout_id, name: r.layout_name },
    updatedAt: r.updated_at.toISOString(),
    version: r.version,
  }));
}

export async function loadDocument(db: Db, id: string): Promise<DocumentDto | undefined> {
  const d = await db
    .selectFrom("documents as d")
    .innerJoin("clients as c", "c.id", "d.client_id")
    .innerJoin("doc_layouts as l", "l.id", "d.layout_id")
    .leftJoin("users as u", "u.id", "d.updated_by_user_id")
    .select([
      "d.id",
      "d.title",
      "d.client_id",
      "c.name as client_name",
      "d.layout_id",
      "l.name as layout_name",
      "l.fields",
      "d.data",
      "d.notes_html",
      "d.updated_at",
      "d.version",
      "u.name as updated_by",
    ])
    .where("d.id", "=", id)
    .where("d.archived_at", "is", null)
    .executeTakeFirst();
  if (!d) return undefined;
  const [links, files, versions] = await Promise.all([
    sql<{ type: "site" | "device" | "contact"; id: string; name: string | null }>`
      select l.target_type as type, l.target_id as id, coalesce(s.name, dv.hostname, trim(ct.first_name || ' ' || ct.last_name)) as name
      from document_links l
      left join sites s on l.target_type = 'site' and s.id = l.target_id
      left join devices dv on l.target_type = 'device' and dv.id = l.target_id
      left join contacts ct on l.target_type = 'contact' and ct.id = l.target_id
      where l.document_id = ${id} order by l.target_type, name`.execute(db),
    db
      .selectFrom("document_files")
      .select(["id", "filename", "content_type", "size_bytes"])
      .where("document_id", "=", id)
      .orderBy("created_at")
      .execute(),
    db
      .selectFrom("document_versions")
      .select(["version", "author_label", "created_at"])
      .where("document_id", "=", id)
      .orderBy("version", "desc")
      .limit(100)
      .execute(),
  ]);
  return {
    id: d.id,
    title: d.title,
    client: { id: d.client_id, name: d.client_name },
    layout: { id: d.layout_id, name: d.layout_name },
    fields: d.fields,
    data: d.data as Data,
    notesHtml: d.notes_html,
    links: links.rows.map((l) => ({ type: l.type, id: l.id, name: l.name ?? "" })),
    files: files.map((f) => ({
      id: f.id,
      filename: f.filename,
      contentType: f.content_type,
      sizeBytes: f.size_bytes,
    })),
    versions: versions.map((v) => ({
      version: v.version,
      author: v.author_label,
      createdAt: v.created_at.toISOString(),
    })),
    updatedAt: d.updated_at.toISOString(),
    updatedBy: d.updated_by,
    version: d.version,
  };
}

export async function getDocument(db: Database, actor: Actor, id: string) {
  const d = await loadDocument(db, id);
  if (!d) throw notFound("Document");
  assertClientVisible(actor, d.client.id, "Document");
  return d;
}

async function writeLinks(trx: Transaction<DB>, documentId: string, clientId: string, links: Link[]) {
  await trx.deleteFrom("document_links").where("document_id", "=", documentId).execute();
  const unique = [...new Map(links.map((l) => [`${l.type}:${l.id}`, l])).values()];
  if (unique.length) {
    await trx
      .insertInto("document_links")
      .values(
        unique.map((l) => ({
          document_id: documentId,
          client_id: clientId,
          target_type: l.type,
          target_id: l.id,
        })),
      )
      .execute();
  }
}

export async function createDocument(
  db: Database,
  actor: Actor,
  input: { clientId: string; layoutId: string; title: string; data: Data; notesHtml: string; links: Link[] },
) {
  requireWriter(actor);
  if (!canSeeClient(actor, input.clientId)) throw invalid("body.clientId", "no such client");
  const layout = await db
    .selectFrom("doc_layouts")
    .select(["id", "fields"])
    .where("id", "=", input.layoutId)
    .executeTakeFirst();
  if (!layout) throw invalid("body.layoutId", "no such layout");
  const data = checkData(layout.fields, input.data);
  const notes = sanitizeRichText(input.notesHtml);
  await checkLinks(db, input.clientId, input.links);
  const id = await db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto("documents")
      .values({
        client_id: input.clientId,
        layout_id: input.layoutId,
        title: input.title,
        data: JSON.stringify(data),
        notes_html: notes,
        search_text: searchText(data, notes),
        created_by_user_id: actor.userId,
        updated_by_user_id: actor.userId,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    await writeLinks(trx, row.id, input.clientId, input.links);
    await writeAudit(trx, actor, {
      action: "document.create",
      entityType: "document",
      entityId: row.id,
      clientId: input.clientId,
      after: { title: input.title, layoutId: input.layoutId },
    });
    return row.id;
  });
  return getDocument(db, actor, id);
}

/** Saves a new version; the one it replaces is kept in document_versions (the history). */
export async function updateDocument(
  db: Database,
  actor: Actor,
  id: string,
  input: { version: number; title?: string; data?: Data; notesHtml?: string; links?: Link[] },
) {
  requireWriter(actor);
  await db.transaction().execute(async (trx) => {
    const d = await trx
      .selectFrom("documents as d")
      .innerJoin("doc_layouts as l", "l.id", "d.layout_id")
      .selectAll("d")
      .select("l.fields")
      .where("d.id", "=", id)
      .where("d.archived_at", "is", null)
      .forUpdate("d")
      .executeTakeFirst();
    if (!d || !canSeeClient(actor, d.client_id)) throw notFound("Document");
    if (d.version !== input.version) throw versionConflict("document", await loadDocument(trx, id));
    const data = input.data ? checkData(d.fields, input.data) : (d.data as Data);
    const notes = input.notesHtml !== undefined ? sanitizeRichText(input.notesHtml) : d.notes_html;
    if (input.links) await checkLinks(trx, d.client_id, input.links);
    const author = await trx
      .selectFrom("users")
      .select("name")
      .where("id", "=", d.updated_by_user_id ?? actor.userId ?? "00000000-0000-0000-0000-000000000000")
      .executeTakeFirst();
    await trx
      .insertInto("document_versions")
      .values({
        document_id: id,
        client_id: d.client_id,
        version: d.version,
        title: d.title,
        data: JSON.stringify(d.data),
        notes_html: d.notes_html,
        author_user_id: d.updated_by_user_id,
        author_label: author?.name ?? "unknown",
        created_at: d.updated_at,
      })
      .execute();
    await trx
      .updateTable("documents")
      .set({
        title: input.title ?? d.title,
        data: JSON.stringify(data),
        notes_html: notes,
        search_text: searchText(data, notes),
        version: d.version + 1,
        updated_by_user_id: actor.userId,
        updated_at: new Date(),
      })
      .where("id", "=", id)
      .execute();
    if (input.links) await writeLinks(trx, id, d.client_id, input.links);
    await writeAudit(trx, actor, {
      action: "document.update",
      entityType: "document",
      entityId: id,
      clientId: d.client_id,
      before: { title: d.title, version: d.version },
      after: { title: input.title ?? d.title, version: d.version + 1 },
    });
  });
  return getDocument(db, actor, id);
}

export async function getDocumentVersion(db: Database, actor: Actor, id: string, version: number) {
  const v = await db
    .selectFrom("document_versions")
    .selectAll()
    .where("document_id", "=", id)
    .where("version", "=", version)
    .executeTakeFirst();
  if (!v || !canSeeClient(actor, v.client_id)) throw notFound("Document version");
  return {
    version: v.version,
    title: v.title,
    data: v.data as Data,
    notesHtml: v.notes_html,
    author: v.author_label,
    createdAt: v.created_at.toISOString(),
  };
}

export async function archiveDocument(db: Database, actor: Actor, id: string) {
  requireWriter(actor);
  await db.transaction().execute(async (trx) => {
    const d = await trx
      .selectFrom("documents")
      .select(["client_id", "title"])
      .where("id", "=", id)
      .where("archived_at", "is", null)
      .forUpdate()
      .executeTakeFirst();
    if (!d || !canSeeClient(actor, d.client_id)) throw notFound("Document");
    await trx.updateTable("documents").set({ archived_at: new Date() }).where("id", "=", id).execute();
    await writeAudit(trx, actor, {
      action: "document.archive",
      entityType: "document",
      entityId: id,
      clientId: d.client_id,
      before: { title: d.title },
    });
  });
}

export async function addDocumentFile(
  db: Database,
  blobs: BlobStore,
  actor: Actor,
  documentId: string,
  file: { filename: string; contentType: string; data: Buffer },
) {
  requireWriter(actor);
  const d = await db
    .selectFrom("documents")
    .select(["id", "client_id"])
    .where("id", "=", documentId)
    .where("archived_at", "is", null)
    .executeTakeFirst();
  if (!d || !canSeeClient(actor, d.client_id)) throw notFound("Document");
  const blob = await blobs.put(file.data);
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto("document_files")
      .values({
        document_id: documentId,
        client_id: d.client_id,
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
      action: "document.file_add",
      entityType: "document",
      entityId: documentId,
      clientId: d.client_id,
      after: { fileId: row.id, filename: row.filename, sha256: row.sha256 },
    });
    return row;
  });
}

export async function getDocumentFile(db: Database, actor: Actor, id: string) {
  const f = await db.selectFrom("document_files").selectAll().where("id", "=", id).executeTakeFirst();
  if (!f || !canSeeClient(actor, f.client_id)) throw notFound("File");
  return f;
}
