import type { Selectable } from "kysely";
import type { Database } from "../../db/database.ts";
import type { AuditLogTable } from "../../db/schema.ts";

export type AuditRow = Selectable<AuditLogTable>;

/** Newest first, keyset on id: each filter has an index that ends in `id desc`, or id itself. */
export async function listAudit(
  db: Database,
  filter: {
    entityType?: string;
    entityId?: string;
    actorUserId?: string;
    action?: string;
    from?: string;
    to?: string;
    before?: number;
    limit: number;
    /** null: every entry. Otherwise only entries of these clients. */
    clientIds?: readonly string[] | null;
  },
): Promise<AuditRow[]> {
  let q = db.selectFrom("audit_log").selectAll();
  if (filter.clientIds) {
    if (filter.clientIds.length === 0) return [];
    q = q.where("client_id", "in", [...filter.clientIds]);
  }
  if (filter.entityType) q = q.where("entity_type", "=", filter.entityType);
  if (filter.entityId) q = q.where("entity_id", "=", filter.entityId);
  if (filter.actorUserId) q = q.where("actor_user_id", "=", filter.actorUserId);
  if (filter.action) q = q.where("action", "=", filter.action);
  if (filter.from) q = q.where("at", ">=", new Date(filter.from));
  if (filter.to) q = q.where("at", "<", new Date(filter.to));
  if (filter.before) q = q.where("id", "<", filter.before);
  return q
    .orderBy("id", "desc")
    .limit(filter.limit + 1)
    .execute();
}
