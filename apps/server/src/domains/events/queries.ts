import type { LiveEvent } from "@switchboard/shared";
import type { Selectable } from "kysely";
import type { Database } from "../../db/database.ts";
import type { DomainEventsTable } from "../../db/schema.ts";
import type { Actor } from "../auth/actor.ts";
import { INTERNAL_EVENTS } from "./internal.ts";

export function toLiveEvent(row: Selectable<DomainEventsTable>): LiveEvent {
  return {
    id: row.id,
    type: row.type,
    ticketId: row.ticket_id,
    clientId: row.client_id,
    actorUserId: row.actor_user_id,
    at: row.created_at.toISOString(),
    payload: row.payload,
  };
}

/** Events after `afterId` that the actor may see: a reconnecting stream replays what it missed. */
export async function eventsSince(db: Database, actor: Actor, afterId: number, limit = 500) {
  let q = db
    .selectFrom("domain_events")
    .selectAll()
    .where("id", ">", afterId)
    .where("type", "not in", INTERNAL_EVENTS)
    .orderBy("id")
    .limit(limit);
  if (actor.clientIds !== null) {
    const ids = actor.clientIds;
    q = q.where((eb) =>
      eb.or([eb("client_id", "is", null), ...(ids.length ? [eb("client_id", "in", ids)] : [])]),
    );
  }
  return (await q.execute()).map(toLiveEvent);
}

export async function latestEventId(db: Database) {
  const row = await db
    .selectFrom("domain_events")
    .select((eb) => eb.fn.max("id").as("id"))
    .executeTakeFirst();
  return Number(row?.id ?? 0);
}
