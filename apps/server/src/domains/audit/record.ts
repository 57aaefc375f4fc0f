import { sql, type Transaction } from "kysely";
import type { DB } from "../../db/schema.ts";
import type { Actor } from "../auth/actor.ts";
import type { DomainEventInput } from "../events/outbox.ts";
import type { AuditEntry } from "./audit.ts";

const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));

/**
 * The audit row and the domain event of one change, in one statement: a change that writes both (most
 * ticket writes) pays one round trip to the database for them instead of two.
 */
export async function recordChange(
  trx: Transaction<DB>,
  actor: Actor,
  audit: AuditEntry,
  event: DomainEventInput,
) {
  const label = actor.kind === "system" ? `system:${actor.name}` : actor.name;
  await sql`/*prepared*/
    with a as (
      insert into audit_log (actor_user_id, actor_label, action, entity_type, entity_id, client_id, before, after, ip, request_id)
      values (${actor.userId}, ${label}, ${audit.action}, ${audit.entityType}, ${audit.entityId}, ${audit.clientId ?? null},
        ${json(audit.before)}::jsonb, ${json(audit.after)}::jsonb, ${actor.ip ?? null}, ${actor.requestId ?? null})
    )
    insert into domain_events (type, client_id, ticket_id, actor_user_id, payload)
    values (${event.type}, ${event.clientId ?? null}, ${event.ticketId ?? null}, ${actor.userId}, ${json(event.payload ?? {})}::jsonb)`.execute(
    trx,
  );
}
