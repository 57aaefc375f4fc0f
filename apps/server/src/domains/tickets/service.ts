import { createHash } from "node:crypto";
import type { CreateTicketRequest, TicketDto } from "@switchboard/shared";
import type { Insertable, Selectable, Transaction } from "kysely";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import type { DB, TicketsTable } from "../../db/schema.ts";
import { AppError, invalid, notFound } from "../../http/errors.ts";
import { recordChange } from "../audit/record.ts";
import { type Actor, assertClientVisible, canSeeClient, requireUser, requireWriter } from "../auth/actor.ts";
import { BUILTIN_STATUS, resolveRefs, ticketVector } from "./queries.ts";
import { loadTicketDto, resolveNumber, toTicketDto } from "./read.ts";
import { insertEntry } from "./timeline.ts";
import { checkRefs } from "./validate.ts";

export type CreateTicketInput = z.output<typeof CreateTicketRequest>;
type TicketRow = Selectable<TicketsTable>;

/** What the audit log and events keep of a ticket: its fields, not its search vector. */
export function snapshot(t: TicketRow | Insertable<TicketsTable>) {
  const { search_vector: _v, ...rest } = t as TicketRow;
  return rest;
}

/**
 * Creates a ticket inside the caller's transaction (email ingestion and the demo seed open their own).
 * Checks every reference, writes the optional intake call log, the audit row and the `ticket.created` event.
 */
export async function createTicketInTx(trx: Transaction<DB>, actor: Actor, input: CreateTicketInput) {
  return (await insertTicket(trx, actor, input)).ticket;
}

/** The create itself; also returns the ticket as the API shows it, built from what the insert already knows. */
async function insertTicket(trx: Transaction<DB>, actor: Actor, input: CreateTicketInput) {
  requireWriter(actor);
  if (!canSeeClient(actor, input.clientId)) throw invalid("body.clientId", "no such client");
  const refs = await resolveRefs(trx, { ...input }, input.clientId);
  if (refs.client_name === null) throw invalid("body.clientId", "no such client");
  checkRefs(input, refs, input.clientId);
  const status = input.statusId
    ? { id: input.statusId, name: refs.status_name!, category: refs.status_category! }
    : BUILTIN_STATUS.new;
  const now = new Date();
  const ticket = await trx
    .insertInto("tickets")
    .values({
      subject: input.subject,
      description: input.description,
      client_id: input.clientId,
      site_id: input.siteId ?? null,
      contact_id: input.contactId ?? null,
      type: input.type,
      source: input.source,
      priority: input.priority,
      status_id: status.id,
      status_category: status.category,
      team_id: input.teamId ?? null,
      assignee_id: input.assigneeId ?? null,
      tags: [...new Set(input.tags)],
      follow_up_at: input.followUpAt ? new Date(input.followUpAt) : null,
      parent_id: input.parentId ?? null,
      created_by_user_id: actor.userId,
      resolved_at: status.category === "resolved" ? now : null,
      closed_at: status.category === "closed" ? now : null,
      search_vector: ticketVector(input.subject, input.description),
    })
    .returningAll()
    .executeTakeFirstOrThrow();

  if (input.call) {
    await insertEntry(trx, actor, ticket, {
      kind: "call",
      visibility: "internal",
      body: input.call.notes,
      authorContactId: input.contactId ?? null,
      call: input.call,
    });
  }
  if (input.parentId) {
    await insertEntry(
      trx,
      actor,
      { id: input.parentId },
      {
        kind: "event",
        visibility: "internal",
        event: {
          type: "child_added",
          child: { id: ticket.id, number: ticket.number, subject: ticket.subject },
        },
      },
    );
  }
  await recordChange(
    trx,
    actor,
    {
      action: "ticket.create",
      entityType: "ticket",
      entityId: ticket.id,
      clientId: ticket.client_id,
      after: snapshot(ticket),
    },
    {
      type: "ticket.created",
      clientId: ticket.client_id,
      ticketId: ticket.id,
      payload: {
        number: ticket.number,
        subject: ticket.subject,
        priority: ticket.priority,
        source: ticket.source,
        teamId: ticket.team_id,
        assigneeId: ticket.assignee_id,
        clientName: refs.client_name,
      },
    },
  );
  const dto = toTicketDto({
    ...ticket,
    status_name: status.name,
    client_name: refs.client_name,
    contact_first: refs.contact_first,
    contact_last: refs.contact_last,
    contact_vip: refs.contact_vip,
    contact_emails: refs.contact_emails,
    contact_phones: refs.contact_phones,
    contact_title: refs.contact_title,
    team_name: refs.team_name,
    assignee_name: refs.assignee_name,
    site_name: refs.site_name,
    parent_number: refs.parent_number,
    parent_subject: refs.parent_subject,
    merged_number: null,
  });
  return { ticket, dto };
}

const requestHash = (input: unknown) => createHash("sha256").update(JSON.stringify(input)).digest("hex");

/**
 * Creates a ticket. With an idempotency key, the key is claimed in the same transaction: a concurrent
 * retry waits on the key's unique index and then replays the first result; a finished retry replays at
 * once; the same key with a different body is refused.
 */
/**
 * Creates a ticket and returns it as the API shows it. With an idempotency key, the key is claimed in the
 * same transaction: a concurrent retry waits on the key's unique index and then replays the first result;
 * a finished retry replays at once; the same key with a different body is refused.
 */
export async function createTicket(
  db: Database,
  actor: Actor,
  input: CreateTicketInput,
  opts: { idempotencyKey?: string } = {},
): Promise<{ ticket: TicketDto; replayed: boolean }> {
  const result = await db.transaction().execute(async (trx) => {
    const key = opts.idempotencyKey;
    if (!key) return { created: (await insertTicket(trx, actor, input)).dto, priorId: null };
    const userId = requireUser(actor);
    const hash = requestHash(input);
    const claimed = await trx
      .insertInto("idempotency_keys")
      .values({ user_id: userId, key, request_hash: hash })
      .onConflict((oc) => oc.doNothing())
      .returning("key")
      .executeTakeFirst();
    if (!claimed) {
      const prior = await trx
        .selectFrom("idempotency_keys")
        .select(["request_hash", "response"])
        .where("user_id", "=", userId)
        .where("key", "=", key)
        .executeTakeFirstOrThrow();
      if (prior.request_hash !== hash) {
        throw new AppError(
          "idempotency_key_reused",
          422,
          "This Idempotency-Key was used with a different request body",
        );
      }
      return { created: null, priorId: (prior.response as { ticketId: string }).ticketId };
    }
    const { dto } = await insertTicket(trx, actor, input);
    await trx
      .updateTable("idempotency_keys")
      .set({ status_code: 201, response: JSON.stringify({ ticketId: dto.id }) })
      .where("user_id", "=", userId)
      .where("key", "=", key)
      .execute();
    return { created: dto, priorId: null };
  });
  if (result.created) return { ticket: result.created, replayed: false };
  // A replay answers with the ticket as it is now.
  return { ticket: await getTicket(db, actor, result.priorId!), replayed: true };
}

export async function getTicket(db: Database, actor: Actor, id: string): Promise<TicketDto> {
  const dto = await loadTicketDto(db, id);
  if (!dto) throw notFound("Ticket");
  assertClientVisible(actor, dto.client.id, "Ticket");
  return dto;
}

/** The ticket a number names, following merges; the number of a merged ticket redirects. */
export async function ticketIdByNumber(db: Database, actor: Actor, number: number) {
  const hit = await resolveNumber(db, number);
  if (!hit) throw notFound("Ticket");
  assertClientVisible(actor, hit.client_id, "Ticket");
  return hit.id;
}
