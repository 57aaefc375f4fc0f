import { type Kysely, sql } from "kysely";
import type { Database } from "../../db/database.ts";
import type { DB } from "../../db/schema.ts";
import type { Actor } from "../auth/actor.ts";

export function listSavedViews(db: Database, userId: string) {
  return db
    .selectFrom("saved_views")
    .selectAll()
    .where("user_id", "=", userId)
    .orderBy("name")
    .orderBy("created_at")
    .execute();
}

export function ticketClient(db: Kysely<DB>, ticketId: string) {
  return db.selectFrom("tickets").select(["id", "client_id"]).where("id", "=", ticketId).executeTakeFirst();
}

export interface ChangedTicketRow {
  ticket_id: string;
  number: string | number;
  subject: string;
  client_id: string;
  client_name: string;
  kinds: string[];
  count: string | number;
  last_at: Date;
  last_actor: string | null;
}

/**
 * Events others caused since `since` on tickets assigned to the viewer or sitting in their teams,
 * grouped per ticket. The ticket predicate comes first so the scan is bounded by the viewer's tickets
 * (a handful to a few hundred), each probed through domain_events_ticket_idx.
 */
export async function changedTickets(db: Database, actor: Actor, userId: string, since: Date, limit: number) {
  const teamIds = actor.teamIds.length ? actor.teamIds : ["00000000-0000-0000-0000-000000000000"];
  const clientFilter =
    actor.clientIds === null
      ? sql`true`
      : actor.clientIds.length
        ? sql`t.client_id in (${sql.join(actor.clientIds)})`
        : sql`false`;
  const { rows } = await sql<ChangedTicketRow>`
    select t.id as ticket_id, t.number, t.subject, t.client_id, c.name as client_name,
      ev.kinds, ev.count, ev.last_at, ev.last_actor
    from tickets t
    join clients c on c.id = t.client_id
    cross join lateral (
      select array_agg(distinct e.type) as kinds, count(*) as count, max(e.created_at) as last_at,
        (select coalesce(u.name, 'system') from domain_events e2 left join users u on u.id = e2.actor_user_id
          where e2.ticket_id = t.id and e2.created_at > ${since}
            and e2.actor_user_id is distinct from ${userId}::uuid
          order by e2.id desc limit 1) as last_actor
      from domain_events e
      where e.ticket_id = t.id and e.created_at > ${since} and e.actor_user_id is distinct from ${userId}::uuid
    ) ev
    where (t.assignee_id = ${userId}::uuid
        or (t.team_id in (${sql.join(teamIds)}) and t.assignee_id is null))
      and t.merged_into_id is null
      and ${clientFilter}
      and ev.count > 0
    order by ev.last_at desc
    limit ${limit}`.execute(db);
  return rows;
}
