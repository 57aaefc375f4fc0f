import { CreateTicketRequest } from "@switchboard/shared";
import { sql, type Transaction } from "kysely";
import type { DB } from "../../db/schema.ts";
import { systemActor } from "../auth/actor.ts";
import { emitEvent } from "../events/outbox.ts";
import { BUILTIN_STATUS, lockTicket } from "../tickets/queries.ts";
import { createTicketInTx } from "../tickets/service.ts";
import { addTimelineEntryInTx } from "../tickets/timeline.ts";
import { applyChanges } from "../tickets/update.ts";
import type { TicketDecision } from "./rules.ts";

// Alerts become work on the server, never on the agent: an offline agent can open no ticket.

/** Every ticket, note and status change monitoring makes is written (and audited) as this actor. */
export const monitorActor = systemActor("monitoring");

export interface NewAlertTicket {
  clientId: string;
  siteId: string | null;
  subject: string;
  description: string;
}

/** Opens the ticket with the priority, team and assignee the alert's ticket rule decided (rules.ts). */
export async function openAlertTicket(trx: Transaction<DB>, t: NewAlertTicket, rule: TicketDecision) {
  const ticket = await createTicketInTx(
    trx,
    monitorActor,
    CreateTicketRequest.parse({
      subject: t.subject.slice(0, 500),
      description: t.description.slice(0, 100_000),
      clientId: t.clientId,
      siteId: t.siteId,
      type: "alert",
      source: "monitoring",
      priority: rule.priority,
      teamId: rule.teamId,
      assigneeId: rule.assigneeId,
      tags: ["monitoring"],
    }),
  );
  // The page a P1 wakes: notification channels subscribe to this event (paging, mail).
  await emitEvent(trx, monitorActor, {
    type: "monitoring.ticket_opened",
    clientId: t.clientId,
    ticketId: ticket.id,
    payload: {
      number: ticket.number,
      priority: ticket.priority,
      subject: ticket.subject,
      assigneeId: ticket.assignee_id,
      teamId: ticket.team_id,
    },
  });
  return ticket;
}

/** An internal note on the alert's ticket (the ticket it was merged into, if it was). */
export async function noteOnTicket(trx: Transaction<DB>, ticketId: string, body: string) {
  await addTimelineEntryInTx(trx, monitorActor, ticketId, { kind: "note", visibility: "internal", body });
}

/**
 * Recovery resolves the ticket monitoring opened, unless a technician already moved it on, or the ticket
 * rule that opened it said recovery only notes it (`auto`; a technician resolving the alert by hand
 * always resolves).
 */
export async function resolveTicket(trx: Transaction<DB>, ticketId: string, body: string, auto = true) {
  await noteOnTicket(trx, ticketId, body);
  const row = await lockTicket(trx, ticketId);
  if (!row?.is_open || row.merged_into_id) return;
  if (auto) {
    const { rows } = await sql<{ note_only: boolean }>`
      select exists (select 1 from monitoring_alerts where ticket_id = ${ticketId} and resolve_on_recovery = false)
        or exists (select 1 from monitoring_incidents where ticket_id = ${ticketId} and resolve_on_recovery = false)
        as note_only`.execute(trx);
    if (rows[0]?.note_only) return;
  }
  await applyChanges(trx, monitorActor, row, { statusId: BUILTIN_STATUS.resolved.id });
}

/** The alert came back soon after it resolved: the same ticket reopens instead of a new one. */
export async function reopenTicket(trx: Transaction<DB>, ticketId: string, body: string) {
  await noteOnTicket(trx, ticketId, body);
  const row = await lockTicket(trx, ticketId);
  if (!row || row.is_open || row.merged_into_id || row.status_category === "closed") return;
  await applyChanges(trx, monitorActor, row, { statusId: BUILTIN_STATUS.open.id });
}

/**
 * Recovery of one alert: its ticket resolves only when no other open alert shares it (a check failing on
 * many devices at once is one ticket); otherwise the recovery is noted.
 */
export async function resolveTicketUnlessShared(
  trx: Transaction<DB>,
  ticketId: string,
  body: string,
  auto = true,
) {
  const other = await trx
    .selectFrom("monitoring_alerts")
    .select("id")
    .where("ticket_id", "=", ticketId)
    .where("state", "<>", "resolved")
    .limit(1)
    .executeTakeFirst();
  if (other) return noteOnTicket(trx, ticketId, `${body} Other alerts on this ticket are still open.`);
  return resolveTicket(trx, ticketId, body, auto);
}
