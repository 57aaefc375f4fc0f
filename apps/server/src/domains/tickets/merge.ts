import type { TicketDto } from "@switchboard/shared";
import { sql } from "kysely";
import type { Database } from "../../db/database.ts";
import { invalid, notFound } from "../../http/errors.ts";
import { recordChange } from "../audit/record.ts";
import { type Actor, assertClientVisible, requireWriter } from "../auth/actor.ts";
import { BUILTIN_STATUS, lockTicket } from "./queries.ts";
import { loadTicketDto } from "./read.ts";
import { insertEntry } from "./timeline.ts";
import { conflict } from "./validate.ts";

/**
 * Merges `sourceId` into `intoId`: the source's timeline, attachments, contacts and children move to the
 * target, its search text joins the target's, and the source is closed with `merged_into_id` set, so its
 * number keeps resolving (GET /tickets/by-number/N answers with the target).
 */
export async function mergeTickets(
  db: Database,
  actor: Actor,
  sourceId: string,
  intoId: string,
): Promise<TicketDto> {
  requireWriter(actor);
  if (sourceId === intoId) throw invalid("body.intoTicketId", "cannot merge a ticket into itself");
  await db.transaction().execute(async (trx) => {
    // Both rows locked in id order, so two opposite merges cannot deadlock.
    const [firstId, secondId] = [sourceId, intoId].sort() as [string, string];
    const first = await lockTicket(trx, firstId);
    const second = await lockTicket(trx, secondId);
    const source = first?.id === sourceId ? first : second;
    const target = first?.id === intoId ? first : second;
    if (!source) throw notFound("Ticket");
    assertClientVisible(actor, source.client_id, "Ticket");
    if (!target || (actor.clientIds !== null && !actor.clientIds.includes(target.client_id))) {
      throw invalid("body.intoTicketId", "no such ticket");
    }
    if (source.client_id !== target.client_id)
      throw conflict("Only tickets of the same client can be merged");
    if (source.merged_into_id) throw conflict(`Ticket #${source.number} was already merged`);
    if (target.merged_into_id)
      throw conflict(`Ticket #${target.number} was merged; merge into the ticket it went to`);
    if (target.status_category === "closed")
      throw conflict(`Ticket #${target.number} is closed; reopen it first`);

    await sql`update timeline_entries set ticket_id = ${target.id} where ticket_id = ${source.id}`.execute(
      trx,
    );
    await sql`update attachments set ticket_id = ${target.id} where ticket_id = ${source.id}`.execute(trx);
    await sql`update tickets set parent_id = ${target.id} where parent_id = ${source.id} and id <> ${target.id}`.execute(
      trx,
    );
    await sql`insert into ticket_contacts (ticket_id, contact_id)
      select ${target.id}::uuid, contact_id from (
        select contact_id from ticket_contacts where ticket_id = ${source.id}
        union select ${source.contact_id}::uuid where ${source.contact_id}::uuid is not null
      ) c
      where contact_id is distinct from ${target.contact_id}::uuid
      on conflict do nothing`.execute(trx);
    await sql`delete from ticket_contacts where ticket_id = ${source.id}`.execute(trx);
    const closed = BUILTIN_STATUS.closed;
    const now = new Date();
    await trx
      .updateTable("tickets")
      .set({
        merged_into_id: target.id,
        status_id: closed.id,
        status_category: "closed",
        status_changed_at: now,
        closed_at: now,
        updated_at: now,
        version: source.version + 1,
        parent_id: source.parent_id === target.id ? null : source.parent_id,
      })
      .where("id", "=", source.id)
      .execute();
    await sql`update tickets set search_vector = search_vector || ${source.search_vector}::tsvector,
        tags = array(select distinct unnest(tags || ${source.tags}::text[])),
        version = version + 1, updated_at = now(), last_activity_at = now()
      where id = ${target.id}`.execute(trx);

    const merged = { id: source.id, number: source.number, subject: source.subject };
    await insertEntry(trx, actor, target, {
      kind: "event",
      visibility: "internal",
      event: { type: "merged_in", source: merged },
    });
    await recordChange(
      trx,
      actor,
      {
        action: "ticket.merge",
        entityType: "ticket",
        entityId: source.id,
        clientId: source.client_id,
        before: { mergedIntoId: null, statusCategory: source.status_category },
        after: { mergedIntoId: target.id, targetNumber: target.number },
      },
      {
        type: "ticket.merged",
        clientId: source.client_id,
        ticketId: target.id,
        payload: { number: target.number, subject: target.subject, source: merged },
      },
    );
  });
  return (await loadTicketDto(db, intoId))!;
}
