import { sql, type Transaction } from "kysely";
import type { DB } from "../../db/schema.ts";
import type { ParsedEmail } from "./parse.ts";

export interface ThreadMatch {
  ticketId: string;
  clientId: string;
  number: number;
  how: "header" | "subject";
}

const TOKEN = /\[#(\d{1,12})\]/;

/** The `[#1042]` token we put in every subject we send. */
export function subjectToken(subject: string): number | null {
  const m = TOKEN.exec(subject);
  return m ? Number(m[1]) : null;
}

export function withToken(subject: string, number: number) {
  return subjectToken(subject) === number ? subject : `${subject} [#${number}]`;
}

/** Follows merges to the surviving ticket, so a reply to a merged ticket lands where its timeline went. */
async function live(trx: Transaction<DB>, ticketId: string) {
  let id = ticketId;
  for (let hops = 0; hops < 20; hops++) {
    const t = await trx
      .selectFrom("tickets")
      .select(["id", "client_id", "number", "merged_into_id"])
      .where("id", "=", id)
      .executeTakeFirst();
    if (!t) return null;
    if (!t.merged_into_id) return t;
    id = t.merged_into_id;
  }
  return null;
}

/**
 * Which ticket a message answers: first the Message-IDs it cites (In-Reply-To, then References newest
 * first) among the messages we sent and received, then the subject token. Null means a new conversation.
 */
export async function findThread(trx: Transaction<DB>, mail: ParsedEmail): Promise<ThreadMatch | null> {
  const cited = [...(mail.inReplyTo ? [mail.inReplyTo] : []), ...[...mail.references].reverse()].filter(
    (id) => id !== mail.messageId,
  );
  if (cited.length) {
    const rows = await trx
      .selectFrom("email_messages")
      .select(["message_id", "ticket_id", "related_ticket_id"])
      .where("message_id", "in", cited)
      .where((eb) => eb.or([eb("ticket_id", "is not", null), eb("related_ticket_id", "is not", null)]))
      .execute();
    for (const id of cited) {
      const row = rows.find((r) => r.message_id === id);
      const ticketId = row?.ticket_id ?? row?.related_ticket_id;
      if (ticketId) {
        const t = await live(trx, ticketId);
        if (t) return { ticketId: t.id, clientId: t.client_id, number: Number(t.number), how: "header" };
      }
    }
  }
  const number = subjectToken(mail.subject);
  if (number !== null) {
    const t = await trx.selectFrom("tickets").select("id").where("number", "=", number).executeTakeFirst();
    const target = t ? await live(trx, t.id) : null;
    if (target)
      return {
        ticketId: target.id,
        clientId: target.client_id,
        number: Number(target.number),
        how: "subject",
      };
  }
  return null;
}

/** Everyone on the ticket may write to it: its contacts, and addresses that were on its mail (CC). */
export async function isParticipant(
  trx: Transaction<DB>,
  ticketId: string,
  clientId: string,
  contactId: string | null,
  address: string,
): Promise<boolean> {
  if (contactId) {
    const c = await trx
      .selectFrom("contacts")
      .select("client_id")
      .where("id", "=", contactId)
      .executeTakeFirst();
    if (c?.client_id === clientId) return true;
  }
  const cc = await sql<{ ok: number }>`
    select 1 as ok from email_messages
    where ticket_id = ${ticketId}
      and (lower(from_address) = ${address} or ${address} = any(cc_addresses) or ${address} = any(to_addresses))
      and status in ('processed', 'queued', 'sent')
    limit 1`.execute(trx);
  return cc.rows.length > 0;
}
