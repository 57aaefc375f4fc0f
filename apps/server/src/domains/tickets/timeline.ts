import type { TimelineEntryDto } from "@switchboard/shared";
import { sql, type Transaction } from "kysely";
import type { Database } from "../../db/database.ts";
import type { DB, TimelineKind } from "../../db/schema.ts";
import { invalid, notFound } from "../../http/errors.ts";
import { recordChange } from "../audit/record.ts";
import { type Actor, assertClientVisible, requireWriter } from "../auth/actor.ts";
import { appendToTicketVector, lockTicket } from "./queries.ts";
import { loadTimeline } from "./read.ts";

export interface NewEntry {
  kind: TimelineKind;
  visibility: "public" | "internal";
  body?: string;
  authorContactId?: string | null;
  call?: { direction: "inbound" | "outbound"; number?: string | null; durationSeconds: number };
  event?: Record<string, unknown>;
}

/**
 * Writes one timeline entry and keeps the ticket's activity time and search vector in step. No audit,
 * no event: callers decide (system events are part of the change that caused them).
 */
export async function insertEntry(trx: Transaction<DB>, actor: Actor, ticket: { id: string }, e: NewEntry) {
  const entry = await trx
    .insertInto("timeline_entries")
    .values({
      ticket_id: ticket.id,
      kind: e.kind,
      visibility: e.visibility,
      author_user_id: actor.userId,
      author_contact_id: e.authorContactId ?? null,
      body: e.body ?? "",
      call_direction: e.call?.direction ?? null,
      call_number: e.call?.number ?? null,
      call_duration_seconds: e.call?.durationSeconds ?? null,
      event: e.event ? JSON.stringify(e.event) : null,
    })
    .returning(["id", "seq", "created_at"])
    .executeTakeFirstOrThrow();
  if (e.kind !== "event") {
    await sql`update tickets set last_activity_at = now() where id = ${ticket.id}`.execute(trx);
    if (e.body) await appendToTicketVector(trx, ticket.id, e.body);
  }
  return entry;
}

export interface AddEntryInput {
  kind: "reply" | "note" | "call" | "email";
  body: string;
  /** Defaults: replies and emails are public, notes and calls internal. */
  visibility?: "public" | "internal";
  contactId?: string | null;
  call?: { direction: "inbound" | "outbound"; number?: string | null; durationSeconds: number };
  /** A reply's recipients, chosen in the composer (default: decided by the email channel). */
  to?: string[];
  cc?: string[];
  /** Files uploaded to the ticket beforehand, tied to this entry in its transaction. */
  attachmentIds?: string[];
}

/**
 * Adds a reply, note, call log or email to a ticket inside the caller's transaction; audits it and emits
 * `ticket.timeline_added`. A merged ticket's entries go to the ticket it was merged into.
 */
export async function addTimelineEntryInTx(
  trx: Transaction<DB>,
  actor: Actor,
  ticketId: string,
  input: AddEntryInput,
) {
  requireWriter(actor);
  let ticket = await lockTicket(trx, ticketId);
  if (!ticket) throw notFound("Ticket");
  assertClientVisible(actor, ticket.client_id, "Ticket");
  for (let hops = 0; ticket.merged_into_id && hops < 20; hops++) {
    ticket = await lockTicket(trx, ticket.merged_into_id);
    if (!ticket) throw notFound("Ticket");
  }
  if (input.contactId) {
    const c = await trx
      .selectFrom("contacts")
      .select("client_id")
      .where("id", "=", input.contactId)
      .executeTakeFirst();
    if (c?.client_id !== ticket.client_id) throw invalid("body.contactId", "no such contact for this client");
  }
  const visibility =
    input.visibility ?? (input.kind === "reply" || input.kind === "email" ? "public" : "internal");
  const entry = await insertEntry(trx, actor, ticket, {
    kind: input.kind,
    visibility,
    body: input.body,
    authorContactId: input.contactId ?? (input.kind === "call" ? ticket.contact_id : null),
    call: input.call,
  });
  if (input.attachmentIds?.length) {
    // Only files of this ticket (or the one merged into it) not yet tied to another entry. Tied here,
    // before the entry's event commits, so the reply's mail carries them.
    const linked = await trx
      .updateTable("attachments")
      .set({ timeline_entry_id: entry.id })
      .where("id", "in", input.attachmentIds)
      .where("ticket_id", "in", [ticketId, ticket.id])
      .where("timeline_entry_id", "is", null)
      .executeTakeFirst();
    if (Number(linked.numUpdatedRows) !== new Set(input.attachmentIds).size) {
      throw invalid("body.attachmentIds", "no such file waiting on this ticket");
    }
  }
  await recordChange(
    trx,
    actor,
    {
      action: `ticket.${input.kind}`,
      entityType: "ticket",
      entityId: ticket.id,
      clientId: ticket.client_id,
      after: {
        entryId: entry.id,
        kind: input.kind,
        visibility,
        body: input.body.slice(0, 2000),
        call: input.call,
        ...(input.to ? { to: input.to } : {}),
        ...(input.cc ? { cc: input.cc } : {}),
        ...(input.attachmentIds?.length ? { attachmentIds: input.attachmentIds } : {}),
      },
    },
    {
      type: "ticket.timeline_added",
      clientId: ticket.client_id,
      ticketId: ticket.id,
      payload: {
        number: ticket.number,
        subject: ticket.subject,
        entryId: entry.id,
        kind: input.kind,
        visibility,
        // Who was on the ticket when this was written: lets the dispatcher skip handlers with nothing to do.
        assigneeId: ticket.assignee_id,
        // The recipients the technician chose for a reply (the email channel mails them).
        ...(input.to ? { to: input.to } : {}),
        ...(input.cc ? { cc: input.cc } : {}),
        // A contact's own words (the portal): news for the assignee, like a customer's mail.
        ...(actor.kind === "contact" ? { byContact: true } : {}),
      },
    },
  );
  return { entryId: entry.id, ticketId: ticket.id };
}

export async function addTimelineEntry(db: Database, actor: Actor, ticketId: string, input: AddEntryInput) {
  return db.transaction().execute((trx) => addTimelineEntryInTx(trx, actor, ticketId, input));
}

export async function getTimelineEntry(
  db: Database,
  ticketId: string,
  entryId: string,
): Promise<TimelineEntryDto> {
  // The entry was just written; it is the newest on its ticket or very close to it.
  const { entries } = await loadTimeline(db, ticketId, 20);
  const found = entries.find((e) => e.id === entryId);
  if (found) return found;
  const seq = await db
    .selectFrom("timeline_entries")
    .select("seq")
    .where("id", "=", entryId)
    .executeTakeFirstOrThrow();
  const { entries: around } = await loadTimeline(db, ticketId, 1, seq.seq + 1);
  return around[0]!;
}

export async function listTimeline(
  db: Database,
  actor: Actor,
  ticketId: string,
  opts: { limit: number; before?: number },
) {
  const t = await db.selectFrom("tickets").select("client_id").where("id", "=", ticketId).executeTakeFirst();
  if (!t) throw notFound("Ticket");
  assertClientVisible(actor, t.client_id, "Ticket");
  return loadTimeline(db, ticketId, opts.limit, opts.before);
}
