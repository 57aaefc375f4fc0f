import { sql, type Transaction } from "kysely";
import type { DB } from "../../db/schema.ts";
import { systemActor } from "../auth/actor.ts";
import type { Bounce } from "./parse.ts";

/**
 * A delivery failure notice for a message we sent: that outgoing message becomes `bounced` with the
 * remote server's reason (shown on its ticket's timeline entry, with a retry), and its `email.bounced`
 * event goes out in the same statement. Returns the ticket the notice belongs to, or null when the
 * notice names no message of ours (then it is routed like any other auto-reply).
 */
export async function linkBounce(trx: Transaction<DB>, bounce: Bounce) {
  if (!bounce.messageId) return null;
  const { rows } = await sql<{ id: string; ticket_id: string; client_id: string }>`
    with m as (
      select e.id, e.ticket_id, t.client_id, e.status from email_messages e
      join tickets t on t.id = e.ticket_id
      where e.message_id = ${bounce.messageId} and e.direction = 'outbound'
      order by e.received_at desc limit 1
    ), u as (
      update email_messages e set status = 'bounced', last_error = ${bounce.reason}, status_reason = ${bounce.reason}
      from m where e.id = m.id and m.status <> 'bounced'
      returning e.id
    ), ev as (
      insert into domain_events (type, client_id, ticket_id, actor_user_id, payload)
      select 'email.bounced', m.client_id, m.ticket_id, ${systemActor("email").userId},
        jsonb_build_object('emailMessageId', m.id, 'response', ${bounce.reason}::text)
      from m join u on u.id = m.id
    )
    select id, ticket_id, client_id from m`.execute(trx);
  const hit = rows[0];
  return hit ? { ticketId: hit.ticket_id, clientId: hit.client_id, emailMessageId: hit.id } : null;
}
