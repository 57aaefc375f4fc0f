import type { CreateSnippetRequest, SnippetDto, UpdateSnippetRequest } from "@switchboard/shared";
import { type Selectable, sql, type Transaction } from "kysely";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import type { DB, SnippetsTable } from "../../db/schema.ts";
import { notFound, versionConflict } from "../../http/errors.ts";
import { writeAudit } from "../audit/audit.ts";
import { type Actor, requireRole, requireUser, requireWriter } from "../auth/actor.ts";

// Canned responses: every signed-in user reads the shared ones and their own; writers keep their own;
// admins and dispatchers edit the shared ones (the MSP's wording).

type Row = Selectable<SnippetsTable>;

export const toSnippetDto = (r: Row): SnippetDto => ({
  id: r.id,
  title: r.title,
  body: r.body,
  shared: r.owner_user_id === null,
  ownerId: r.owner_user_id,
  updatedAt: r.updated_at.toISOString(),
  version: r.version,
});

export async function listSnippets(db: Database, actor: Actor) {
  const me = requireUser(actor);
  const rows = await db
    .selectFrom("snippets")
    .selectAll()
    .where((eb) => eb.or([eb("owner_user_id", "is", null), eb("owner_user_id", "=", me)]))
    .orderBy(sql`lower(title)`)
    .limit(500)
    .execute();
  return rows.map(toSnippetDto);
}

/** A snippet this actor may change: their own, or a shared one for admins and dispatchers. */
async function editable(db: Database | Transaction<DB>, actor: Actor, id: string, forUpdate: boolean) {
  const me = requireUser(actor);
  let q = db.selectFrom("snippets").selectAll().where("id", "=", id);
  if (forUpdate) q = q.forUpdate();
  const row = await q.executeTakeFirst();
  // Someone else's own snippet is not visible at all.
  if (!row || (row.owner_user_id !== null && row.owner_user_id !== me)) throw notFound("Snippet");
  if (row.owner_user_id === null) requireRole(actor, "admin", "dispatcher");
  return row;
}

export async function createSnippet(
  db: Database,
  actor: Actor,
  input: z.output<typeof CreateSnippetRequest>,
) {
  requireWriter(actor);
  const me = requireUser(actor);
  if (input.shared) requireRole(actor, "admin", "dispatcher");
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto("snippets")
      .values({
        title: input.title,
        body: input.body,
        owner_user_id: input.shared ? null : me,
        created_by_user_id: me,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await writeAudit(trx, actor, {
      action: "snippet.create",
      entityType: "snippet",
      entityId: row.id,
      after: { title: row.title, shared: input.shared },
    });
    return toSnippetDto(row);
  });
}

export async function updateSnippet(
  db: Database,
  actor: Actor,
  id: string,
  input: z.output<typeof UpdateSnippetRequest>,
) {
  requireWriter(actor);
  return db.transaction().execute(async (trx) => {
    const before = await editable(trx, actor, id, true);
    if (before.version !== input.version) throw versionConflict("snippet", toSnippetDto(before));
    const row = await trx
      .updateTable("snippets")
      .set({
        title: input.title ?? before.title,
        body: input.body ?? before.body,
        version: before.version + 1,
        updated_at: new Date(),
      })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await writeAudit(trx, actor, {
      action: "snippet.update",
      entityType: "snippet",
      entityId: id,
      before: { title: before.title, body: before.body },
      after: { title: row.title, body: row.body },
    });
    return toSnippetDto(row);
  });
}

export async function deleteSnippet(db: Database, actor: Actor, id: string) {
  requireWriter(actor);
  await db.transaction().execute(async (trx) => {
    const row = await editable(trx, actor, id, true);
    await trx.deleteFrom("snippets").where("id", "=", id).execute();
    await writeAudit(trx, actor, {
      action: "snippet.delete",
      entityType: "snippet",
      entityId: id,
      before: { title: row.title, body: row.body },
    });
  });
}
