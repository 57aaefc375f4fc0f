import type { EmailMessageDto } from "@switchboard/shared";
import type { Selectable } from "kysely";
import type { Database } from "../../db/database.ts";
import type { EmailMessageStatus, EmailMessagesTable, EmailTemplateKey } from "../../db/schema.ts";
import { AppError, invalid, notFound } from "../../http/errors.ts";
import { bossDb } from "../../lib/jobs.ts";
import { writeAudit } from "../audit/audit.ts";
import { type Actor, assertClientVisible, requireRole } from "../auth/actor.ts";
import type { EmailDeps } from "./deps.ts";
import { enqueueInbound } from "./ingest.ts";
import { OUTBOUND_QUEUE } from "./outbound.ts";
import { DEFAULT_TEMPLATES, TEMPLATE_KEYS } from "./templates.ts";

type MessageRow = Selectable<EmailMessagesTable>;

export function toEmailMessageDto(m: MessageRow): EmailMessageDto {
  return {
    id: m.id,
    direction: m.direction,
    source: m.source,
    status: m.status,
    statusReason: m.status_reason,
    messageId: m.message_id,
    subject: m.subject,
    from: m.from_address,
    to: m.to_addresses,
    cc: m.cc_addresses,
    isAutoReply: m.is_auto_reply,
    autoReplyReason: m.auto_reply_reason,
    ticketId: m.ticket_id,
    relatedTicketId: m.related_ticket_id,
    timelineEntryId: m.timeline_entry_id,
    mailboxId: m.mailbox_id,
    attempts: m.attempts,
    lastError: m.last_error,
    smtpResponse: m.smtp_response,
    sizeBytes: Number(m.size_bytes),
    receivedAt: m.received_at.toISOString(),
    processedAt: m.processed_at?.toISOString() ?? null,
    sentAt: m.sent_at?.toISOString() ?? null,
  };
}

/** The held messages an admin works through: quarantine, review, unmatched, failed deliveries. */
export async function listEmailMessages(
  db: Database,
  actor: Actor,
  q: { status: EmailMessageStatus; limit: number },
) {
  requireRole(actor, "admin");
  const rows = await db
    .selectFrom("email_messages")
    .selectAll()
    .where("status", "=", q.status)
    .orderBy("received_at", "desc")
    .limit(q.limit)
    .execute();
  return rows.map(toEmailMessageDto);
}

/** Every message in or out of one ticket, oldest first: the timeline's delivery status. */
export async function listTicketEmails(db: Database, actor: Actor, ticketId: string) {
  const t = await db.selectFrom("tickets").select("client_id").where("id", "=", ticketId).executeTakeFirst();
  if (!t) throw notFound("Ticket");
  assertClientVisible(actor, t.client_id, "Ticket");
  const rows = await db
    .selectFrom("email_messages")
    .selectAll()
    .where((eb) => eb.or([eb("ticket_id", "=", ticketId), eb("related_ticket_id", "=", ticketId)]))
    .orderBy("received_at")
    .limit(500)
    .execute();
  return rows.map(toEmailMessageDto);
}

const RETRYABLE: EmailMessageStatus[] = ["quarantined", "review", "unmatched", "failed", "bounced"];

/**
 * Sends a held message through processing again (an inbound one) or delivery again (a failed outbound
 * one). The status change, the job and the audit row commit together.
 */
export async function retryEmailMessage(
  deps: Omit<EmailDeps, "boss"> & { boss: EmailDeps["boss"] | null },
  actor: Actor,
  id: string,
  target: { ticketId?: string; clientId?: string },
) {
  requireRole(actor, "admin");
  return deps.db.transaction().execute(async (trx) => {
    const m = await trx
      .selectFrom("email_messages")
      .selectAll()
      .where("id", "=", id)
      .forUpdate()
      .executeTakeFirst();
    if (!m) throw notFound("Email message");
    if (!RETRYABLE.includes(m.status)) {
      throw new AppError("invalid_transition", 409, `A ${m.status} message cannot be retried`);
    }
    if (target.ticketId) {
      const t = await trx
        .selectFrom("tickets")
        .select("id")
        .where("id", "=", target.ticketId)
        .executeTakeFirst();
      if (!t) throw invalid("body.ticketId", "no such ticket");
    }
    if (target.clientId) {
      const c = await trx
        .selectFrom("clients")
        .select("id")
        .where("id", "=", target.clientId)
        .executeTakeFirst();
      if (!c) throw invalid("body.clientId", "no such client");
    }
    const outbound = m.direction === "outbound";
    if (outbound && (target.ticketId || target.clientId)) {
      throw invalid("body", "an outbound message can only be retried as it is");
    }
    const status = outbound ? "queued" : "received";
    const boss = deps.boss;
    if (!boss) throw new AppError("internal_error", 500, "The job queue is not running in this process");
    await trx
      .updateTable("email_messages")
      .set({ status, status_reason: null })
      .where("id", "=", id)
      .execute();
    if (outbound) {
      await boss.send(
        OUTBOUND_QUEUE,
        { id },
        { db: bossDb(trx), retryLimit: 8, retryDelay: 30, retryBackoff: true },
      );
    } else {
      await enqueueInbound({ ...deps, boss }, trx, { id, force: true, ...target });
    }
    await writeAudit(trx, actor, {
      action: "email.retry",
      entityType: "email_message",
      entityId: id,
      before: { status: m.status, reason: m.status_reason },
      after: { status, ...target },
    });
    return { id, status };
  });
}

export async function listTemplates(db: Database, actor: Actor, clientId: string | null) {
  requireRole(actor, "admin");
  const saved = await db
    .selectFrom("email_templates")
    .selectAll()
    .where((eb) => (clientId ? eb("client_id", "=", clientId) : eb("client_id", "is", null)))
    .execute();
  return TEMPLATE_KEYS.map((key) => {
    const own = saved.find((s) => s.key === key);
    return own
      ? { key, clientId, subject: own.subject, body: own.body, isDefault: false }
      : { key, clientId, ...DEFAULT_TEMPLATES[key], isDefault: true };
  });
}

export async function saveTemplate(
  db: Database,
  actor: Actor,
  key: EmailTemplateKey,
  input: { clientId: string | null; subject: string; body: string },
) {
  requireRole(actor, "admin");
  return db.transaction().execute(async (trx) => {
    if (input.clientId) {
      const c = await trx
        .selectFrom("clients")
        .select("id")
        .where("id", "=", input.clientId)
        .executeTakeFirst();
      if (!c) throw invalid("body.clientId", "no such client");
    }
    const before = await trx
      .selectFrom("email_templates")
      .selectAll()
      .where("key", "=", key)
      .where((eb) => (input.clientId ? eb("client_id", "=", input.clientId) : eb("client_id", "is", null)))
      .forUpdate()
      .executeTakeFirst();
    const row = before
      ? await trx
          .updateTable("email_templates")
          .set((eb) => ({
            subject: input.subject,
            body: input.body,
            version: eb("version", "+", 1),
            updated_at: new Date(),
          }))
          .where("id", "=", before.id)
          .returningAll()
          .executeTakeFirstOrThrow()
      : await trx
          .insertInto("email_templates")
          .values({ key, client_id: input.clientId, subject: input.subject, body: input.body })
          .returningAll()
          .executeTakeFirstOrThrow();
    await writeAudit(trx, actor, {
      action: "email.template.save",
      entityType: "email_template",
      entityId: row.id,
      clientId: input.clientId,
      before: before ? { subject: before.subject, body: before.body } : undefined,
      after: { key, subject: row.subject, body: row.body },
    });
    return { key, clientId: row.client_id, subject: row.subject, body: row.body, isDefault: false };
  });
}

export async function saveClientSettings(
  db: Database,
  actor: Actor,
  clientId: string,
  input: { fromAddress: string | null; signature: string },
) {
  requireRole(actor, "admin");
  return db.transaction().execute(async (trx) => {
    const c = await trx.selectFrom("clients").select("id").where("id", "=", clientId).executeTakeFirst();
    if (!c) throw notFound("Client");
    const before = await trx
      .selectFrom("email_client_settings")
      .selectAll()
      .where("client_id", "=", clientId)
      .executeTakeFirst();
    await trx
      .insertInto("email_client_settings")
      .values({ client_id: clientId, from_address: input.fromAddress, signature: input.signature })
      .onConflict((oc) =>
        oc.column("client_id").doUpdateSet({
          from_address: input.fromAddress,
          signature: input.signature,
          updated_at: new Date(),
        }),
      )
      .execute();
    await writeAudit(trx, actor, {
      action: "email.client_settings.save",
      entityType: "client",
      entityId: clientId,
      clientId,
      before: before ? { fromAddress: before.from_address, signature: before.signature } : undefined,
      after: input,
    });
    return input;
  });
}
