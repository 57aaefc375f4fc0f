import { randomUUID } from "node:crypto";
import { sql, type Transaction } from "kysely";
import type { DB } from "../../db/schema.ts";
import { invalid, notFound } from "../../http/errors.ts";
import { type Actor, assertClientVisible, requireWriter } from "../auth/actor.ts";
import { MAX_VECTOR_LEXEMES, SEARCH_CONFIG } from "./queries.ts";
import type { AddEntryInput } from "./timeline.ts";

// Intake (email) adds an entry to nearly every message it processes. These do what addTimelineEntryInTx
// does - the entry, the ticket's activity time and search vector, the audit row and the
// `ticket.timeline_added` event - in one statement after the ticket is locked, instead of six.

export interface EntryTicket {
  id: string;
  client_id: string;
  number: number | string;
  subject: string;
  assignee_id: string | null;
}

const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));

/** The entry, activity time, search vector, audit row and event, in one round trip. */
async function writeEntry(trx: Transaction<DB>, actor: Actor, ticket: EntryTicket, input: AddEntryInput) {
  const visibility =
    input.visibility ?? (input.kind === "reply" || input.kind === "email" ? "public" : "internal");
  // Chosen here so the audit row and the event can name the entry within the same statement.
  const entryId = randomUUID();
  const label = actor.kind === "system" ? `system:${actor.name}` : actor.name;
  const after = {
    entryId,
    kind: input.kind,
    visibility,
    body: input.body.slice(0, 2000),
    call: input.call,
  };
  const payload = {
    number: ticket.number,
    subject: ticket.subject,
    entryId,
    kind: input.kind,
    visibility,
    // Who was on the ticket when this was written: lets the dispatcher skip handlers with nothing to do.
    assigneeId: ticket.assignee_id,
  };
  const text = input.body.trim() ? input.body : null;
  await sql`/*prepared*/
    with e as (
      insert into timeline_entries (id, ticket_id, kind, visibility, author_user_id, author_contact_id, body,
        call_direction, call_number, call_duration_seconds)
      values (${entryId}, ${ticket.id}, ${input.kind}, ${visibility}, ${actor.userId},
        ${input.contactId ?? null}, ${input.body}, ${input.call?.direction ?? null},
        ${input.call?.number ?? null}, ${input.call?.durationSeconds ?? null})
      returning id
    ), u as (
      update tickets set last_activity_at = now(),
        search_vector = case when ${text}::text is not null and length(search_vector) < ${MAX_VECTOR_LEXEMES}
          then search_vector || setweight(to_tsvector(${sql.lit(SEARCH_CONFIG)}::regconfig, ${text}::text), 'C')
          else search_vector end
      where id = ${ticket.id}
    ), a as (
      insert into audit_log (actor_user_id, actor_label, action, entity_type, entity_id, client_id, after, ip, request_id)
      values (${actor.userId}, ${label}, ${`ticket.${input.kind}`}, 'ticket', ${ticket.id}, ${ticket.client_id},
        ${json(after)}::jsonb, ${actor.ip ?? null}, ${actor.requestId ?? null})
    )
    insert into domain_events (type, client_id, ticket_id, actor_user_id, payload)
    select 'ticket.timeline_added', ${ticket.client_id}, ${ticket.id}, ${actor.userId}, ${json(payload)}::jsonb
    from e`.execute(trx);
  return { entryId, ticketId: ticket.id };
}

/**
 * addTimelineEntryInTx in two round trips: the lock (which also reads the contact's client) and the
 * write. Same checks, same merge-following, same rows.
 */
export async function addTimelineEntryLeanInTx(
  trx: Transaction<DB>,
  actor: Actor,
  ticketId: string,
  input: AddEntryInput,
) {
  requireWriter(actor);
  const lock = (id: string) =>
    sql<
      EntryTicket & {
        merged_into_id: string | null;
        contact_id: string | null;
        contact_client: string | null;
      }
    >`/*prepared*/
      select t.id, t.client_id, t.number, t.subject, t.assignee_id, t.merged_into_id, t.contact_id,
        (select client_id from contacts where id = ${input.contactId ?? null}::uuid) as contact_client
      from tickets t where t.id = ${id} for update of t`
      .execute(trx)
      .then((r) => r.rows[0]);
  let ticket = await lock(ticketId);
  if (!ticket) throw notFound("Ticket");
  assertClientVisible(actor, ticket.client_id, "Ticket");
  for (let hops = 0; ticket.merged_into_id && hops < 20; hops++) {
    ticket = await lock(ticket.merged_into_id);
    if (!ticket) throw notFound("Ticket");
  }
  if (input.contactId && ticket.contact_client !== ticket.client_id) {
    throw invalid("body.contactId", "no such contact for this client");
  }
  return writeEntry(trx, actor, ticket, {
    ...input,
    contactId: input.contactId ?? (input.kind === "call" ? ticket.contact_id : null),
  });
}

/**
 * The first entry of a ticket created earlier in the same transaction (by createTicketInTx, which
 * checked the contact against the client): nobody else can see the ticket yet, so there is nothing to
 * lock or re-check.
 */
export async function addEntryToNewTicketInTx(
  trx: Transaction<DB>,
  actor: Actor,
  ticket: EntryTicket & { contact_id: string | null },
  input: AddEntryInput,
) {
  requireWriter(actor);
  return writeEntry(trx, actor, ticket, {
    ...input,
    contactId: input.contactId ?? (input.kind === "call" ? ticket.contact_id : null),
  });
}
