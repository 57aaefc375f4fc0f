import type { Transaction } from "kysely";
import type { DB } from "../../db/schema.ts";
import type { Actor } from "../auth/actor.ts";

export interface DomainEventInput {
  type: string;
  clientId?: string | null;
  ticketId?: string | null;
  payload?: Record<string, unknown>;
}

/**
 * Appends a domain event in the caller's transaction (the outbox). A trigger NOTIFYs at commit for the
 * live stream; the dispatcher job hands pending rows to durable handlers.
 */
export async function emitEvent(trx: Transaction<DB>, actor: Actor, event: DomainEventInput) {
  await trx
    .insertInto("domain_events")
    .values({
      type: event.type,
      client_id: event.clientId ?? null,
      ticket_id: event.ticketId ?? null,
      actor_user_id: actor.userId,
      payload: JSON.stringify(event.payload ?? {}),
    })
    .execute();
}
