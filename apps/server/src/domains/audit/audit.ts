import type { Transaction } from "kysely";
import type { DB } from "../../db/schema.ts";
import type { Actor } from "../auth/actor.ts";

export interface AuditEntry {
  action: string;
  entityType: string;
  entityId: string;
  clientId?: string | null;
  before?: unknown;
  after?: unknown;
}

/** Written in the caller's transaction: the audit row exists exactly when the change does. */
export async function writeAudit(trx: Transaction<DB>, actor: Actor, entry: AuditEntry) {
  await trx
    .insertInto("audit_log")
    .values({
      actor_user_id: actor.userId,
      actor_label: actor.kind === "system" ? `system:${actor.name}` : actor.name,
      action: entry.action,
      entity_type: entry.entityType,
      entity_id: entry.entityId,
      client_id: entry.clientId ?? null,
      before: entry.before === undefined ? null : JSON.stringify(entry.before),
      after: entry.after === undefined ? null : JSON.stringify(entry.after),
      ip: actor.ip ?? null,
      request_id: actor.requestId ?? null,
    })
    .execute();
}
