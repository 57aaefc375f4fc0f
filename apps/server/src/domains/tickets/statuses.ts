import type { StatusDto } from "@switchboard/shared";
import { sql } from "kysely";
import type { Database } from "../../db/database.ts";
import type { StatusCategory } from "../../db/schema.ts";
import { conflictOn, invalid, notFound } from "../../http/errors.ts";
import { writeAudit } from "../audit/audit.ts";
import { type Actor, requireRole } from "../auth/actor.ts";

export async function listStatuses(db: Database): Promise<StatusDto[]> {
  const rows = await db
    .selectFrom("ticket_statuses")
    .selectAll()
    .orderBy("sort_order")
    .orderBy("name")
    .execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    category: r.category,
    builtin: r.builtin,
    sortOrder: r.sort_order,
  }));
}

/** Admins add statuses within a category ("Waiting on parts" in waiting_third_party); the SLA clock reads the category. */
export async function createStatus(
  db: Database,
  actor: Actor,
  input: { name: string; category: StatusCategory; sortOrder: number },
): Promise<StatusDto> {
  requireRole(actor, "admin");
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto("ticket_statuses")
      .values({ name: input.name, category: input.category, sort_order: input.sortOrder })
      // The unique index is on lower(name): "waiting on parts" and "Waiting on Parts" are one status.
      .onConflict((oc) => oc.expression(sql`lower(name)`).doNothing())
      .returningAll()
      .executeTakeFirst();
    if (!row) throw conflictOn("body.name", `a status named "${input.name}" exists`);
    await writeAudit(trx, actor, {
      action: "status.create",
      entityType: "ticket_status",
      entityId: row.id,
      after: row,
    });
    return {
      id: row.id,
      name: row.name,
      category: row.category,
      builtin: row.builtin,
      sortOrder: row.sort_order,
    };
  });
}

/**
 * Rename or reorder a status; move one an admin added to another category. The built-in statuses keep
 * their category (the SLA clock and the queues are defined on it). Tickets in the status follow a
 * category change in the same transaction, so their `status_category` never disagrees with the status.
 */
export async function updateStatus(
  db: Database,
  actor: Actor,
  id: string,
  input: { name?: string; category?: StatusCategory; sortOrder?: number },
): Promise<StatusDto> {
  requireRole(actor, "admin");
  return db.transaction().execute(async (trx) => {
    const before = await trx
      .selectFrom("ticket_statuses")
      .selectAll()
      .where("id", "=", id)
      .forUpdate()
      .executeTakeFirst();
    if (!before) throw notFound("Status");
    if (input.category && input.category !== before.category && before.builtin) {
      throw invalid("body.category", "a built-in status keeps its category");
    }
    if (input.name && input.name.toLowerCase() !== before.name.toLowerCase()) {
      const taken = await trx
        .selectFrom("ticket_statuses")
        .select("id")
        .where(sql`lower(name)`, "=", input.name.toLowerCase())
        .executeTakeFirst();
      if (taken) throw conflictOn("body.name", `a status named "${input.name}" exists`);
    }
    const row = await trx
      .updateTable("ticket_statuses")
      .set({ name: input.name, category: input.category, sort_order: input.sortOrder })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (row.category !== before.category) {
      await trx
        .updateTable("tickets")
        .set({ status_category: row.category })
        .where("status_id", "=", id)
        .execute();
    }
    await writeAudit(trx, actor, {
      action: "status.update",
      entityType: "ticket_status",
      entityId: id,
      before,
      after: row,
    });
    return {
      id: row.id,
      name: row.name,
      category: row.category,
      builtin: row.builtin,
      sortOrder: row.sort_order,
    };
  });
}
