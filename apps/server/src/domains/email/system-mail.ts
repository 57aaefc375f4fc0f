import { randomUUID } from "node:crypto";
import type { Transaction } from "kysely";
import type { DB } from "../../db/schema.ts";
import { AppError } from "../../http/errors.ts";
import { bossDb } from "../../lib/jobs.ts";
import type { EmailDeps } from "./deps.ts";
import { OUTBOUND_QUEUE } from "./outbound.ts";
import { secretBox } from "./secrets.ts";

const RETRY = { retryLimit: 8, retryDelay: 30, retryBackoff: true, retryDelayMax: 3600 };

/**
 * Queues a mail that is not a ticket's conversation (a portal sign-in link, a shared document) in the
 * caller's transaction, delivered by the same outbound worker with the same retries and `failed` state.
 * `secretText` is the body as it must be sent when it carries a credential: it is stored sealed with
 * the server's secret box (never in body_text, which shows `text`), and cleared once delivered.
 */
export async function queueSystemMail(
  deps: Omit<EmailDeps, "boss"> & { boss: EmailDeps["boss"] | null },
  trx: Transaction<DB>,
  mail: {
    to: string;
    subject: string;
    text: string;
    secretText?: string;
    template: string;
    ticketId?: string;
  },
) {
  if (!deps.boss) throw new AppError("internal_error", 500, "The job queue is not running in this process");
  const from = deps.config.SWITCHBOARD_EMAIL_FROM ?? null;
  const sealed = mail.secretText ? (await secretBox(deps.config)).seal(mail.secretText) : null;
  const row = await trx
    .insertInto("email_messages")
    .values({
      direction: "outbound",
      source: "system",
      status: "queued",
      message_id: `${randomUUID()}@${from?.split("@")[1] ?? "switchboard.invalid"}`,
      subject: mail.subject,
      from_address: from,
      to_addresses: [mail.to],
      body_text: mail.text,
      sealed_body: sealed,
      is_auto_reply: true,
      ticket_id: mail.ticketId ?? null,
      template: mail.template,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  await deps.boss.send(OUTBOUND_QUEUE, { id: row.id }, { db: bossDb(trx), ...RETRY });
  return row.id;
}
