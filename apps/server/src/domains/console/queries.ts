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
 * Events others caused since `since` on tickets assigned to the viewer or unassigned in their teams,
 * grouped per ticket. It starts from the events (domain_events_created_idx): what happened since the
 * viewer last looked is a small slice of the outbox, while the tickets they can see may be thousands.
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
      array_agg(distinct e.type) as kinds, count(*) as count, max(e.created_at) as last_at,
      (array_agg(coalesce(u.name, 'system') order by e.id desc))[1] as last_actor
    from domain_events e
    join tickets t on t.id = e.ticket_id
    join clients c on c.id = t.client_id
    left join users u on u.id = e.actor_user_id
    where e.created_at > ${since} and e.ticket_id is not null
      and e.actor_user_id is distinct from ${userId}::uuid
      and (t.assignee_id = ${userId}::uuid
        or (t.team_id in (${sql.join(teamIds)}) and t.assignee_id is null))
      and t.merged_into_id is null
      and ${clientFilter}
    group by t.id, c.name
    order by last_at desc
    limit ${limit}`.execute(db);
  return rows;
}
