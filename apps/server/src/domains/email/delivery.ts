import type { Database } from "../../db/database.ts";
import { AppError, notFound } from "../../http/errors.ts";
import { bossDb } from "../../lib/jobs.ts";
import { recordChange } from "../audit/record.ts";
import { type Actor, assertClientVisible, requireWriter } from "../auth/actor.ts";
import type { EmailDeps } from "./deps.ts";
import { OUTBOUND_QUEUE } from "./outbound.ts";
import { replyRoute } from "./reply-route.ts";

// A technician's side of outgoing mail: where a reply would go (checked before sending) and a retry of
// a reply that failed or bounced, from the ticket where they see it.

type Deps = Pick<EmailDeps, "db" | "config"> & { boss: EmailDeps["boss"] | null };

async function visibleTicket(db: Database, actor: Actor, ticketId: string) {
  const t = await db
    .selectFrom("tickets")
    .select(["id", "client_id", "number"])
    .where("id", "=", ticketId)
    .executeTakeFirst();
  if (!t) throw notFound("Ticket");
  assertClientVisible(actor, t.client_id, "Ticket");
  return t;
}

export async function getReplyRoute(deps: Deps, actor: Actor, ticketId: string) {
  await visibleTicket(deps.db, actor, ticketId);
  const r = await replyRoute(deps.db, deps.config, ticketId);
  if (!r) throw notFound("Ticket");
  return { from: r.from, via: r.via, to: r.to, cc: r.cc, problem: r.problem };
}

/**
 * Sends a failed or bounced message of this ticket again, as it is (From and mailbox are decided again
 * if they were missing). The status change, the job, the audit row and the event commit together.
 */
export async function retryDelivery(deps: Deps, actor: Actor, ticketId: string, emailId: string) {
  requireWriter(actor);
  const ticket = await visibleTicket(deps.db, actor, ticketId);
  return deps.db.transaction().execute(async (trx) => {
    const m = await trx
      .selectFrom("email_messages")
      .select(["id", "status", "last_error", "direction"])
      .where("id", "=", emailId)
      .where("ticket_id", "=", ticketId)
      .forUpdate()
      .executeTakeFirst();
    if (m?.direction !== "outbound") throw notFound("Email message");
    if (m.status !== "failed" && m.status !== "bounced") {
      throw new AppError("invalid_transition", 409, `A ${m.status} message cannot be sent again`);
    }
    // Only once the message is known to exist: an unknown id is a 404 even where no queue runs.
    const boss = deps.boss;
    if (!boss) throw new AppError("internal_error", 500, "The job queue is not running in this process");
    await trx
      .updateTable("email_messages")
      .set({ status: "queued", status_reason: null })
      .where("id", "=", m.id)
      .execute();
    await boss.send(
      OUTBOUND_QUEUE,
      { id: m.id },
      { db: bossDb(trx), retryLimit: 8, retryDelay: 30, retryBackoff: true, retryDelayMax: 3600 },
    );
    await recordChange(
      trx,
      actor,
      {
        action: "email.retry",
        entityType: "email_message",
        entityId: m.id,
        clientId: ticket.client_id,
        before: { status: m.status, lastError: m.last_error },
        after: { status: "queued" },
      },
      {
        type: "email.queued",
        clientId: ticket.client_id,
        ticketId,
        payload: { emailMessageId: m.id, number: ticket.number },
      },
    );
    return { id: m.id, status: "queued" as const };
  });
}
