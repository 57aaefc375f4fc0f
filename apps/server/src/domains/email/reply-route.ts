import { sql, type Transaction } from "kysely";
import type { Config } from "../../config.ts";
import type { Database } from "../../db/database.ts";
import type { DB } from "../../db/schema.ts";

type Db = Database | Transaction<DB>;

/**
 * Where a reply on a ticket goes and how it leaves, decided the same way for the composer's check
 * (before sending) and for the delivery itself:
 * - the mailbox: the one the customer last wrote to, else the client's (its default client), else the
 *   MSP's default mailbox (the first active one created); a phone ticket has no inbound mail, so it
 *   takes one of the last two;
 * - From: the client's From address, else that mailbox's address, else the default From set in
 *   Admin > Email (email_settings), else SWITCHBOARD_EMAIL_FROM;
 * - the transport: the mailbox's own SMTP server, else the relay set in Admin > Email, else
 *   SWITCHBOARD_SMTP_RELAY_URL;
 * - To: the ticket's contact, else whoever mailed the ticket in; CC: the others on the last inbound
 *   mail, except our own addresses.
 */
export interface ReplyRoute {
  from: string | null;
  mailbox: { id: string; address: string; smtp: boolean } | null;
  via: "mailbox" | "relay" | null;
  to: string[];
  cc: string[];
  /**
   * What stops any reply from going out (no From, no SMTP), in words for the technician; null when it
   * can go. An empty `to` is not a problem here: the technician can type an address.
   */
  problem: string | null;
}

interface Row {
  from_address: string | null;
  default_from: string | null;
  console_relay: boolean | null;
  contact_email: string | null;
  last: { from_address: string | null; to_addresses: string[]; cc_addresses: string[] } | null;
  mailbox: { id: string; address: string; smtp: boolean } | null;
  ours: string[] | null;
}

export async function replyRoute(
  db: Db,
  config: Pick<Config, "SWITCHBOARD_EMAIL_FROM" | "SWITCHBOARD_SMTP_RELAY_URL">,
  ticketId: string,
  mailboxId?: string | null,
): Promise<ReplyRoute | null> {
  const { rows } = await sql<Row>`
    with last as (
      select from_address, to_addresses, cc_addresses, mailbox_id from email_messages
      where ticket_id = ${ticketId} and direction = 'inbound' and status = 'processed'
      order by received_at desc limit 1
    ), t as (select id, client_id, contact_id from tickets where id = ${ticketId})
    select s.from_address, lower(c.emails[1]) as contact_email,
      (select default_from_address from email_settings limit 1) as default_from,
      (select relay_host is not null from email_settings limit 1) as console_relay,
      (select row_to_json(l) from (select from_address, to_addresses, cc_addresses from last) l) as last,
      (select row_to_json(mb) from (select id, address, smtp_host is not null and smtp_port is not null as smtp
        from email_mailboxes where active and id = coalesce(
          ${mailboxId ?? null}::uuid,
          (select mailbox_id from last),
          (select id from email_mailboxes where active and default_client_id = t.client_id order by created_at limit 1),
          (select id from email_mailboxes where active order by created_at limit 1))) mb) as mailbox,
      (select array_agg(lower(address)) from email_mailboxes) as ours
    from t
    left join contacts c on c.id = t.contact_id
    left join email_client_settings s on s.client_id = t.client_id`.execute(db);
  const r = rows[0];
  if (!r) return null;
  const from =
    r.from_address ?? r.mailbox?.address ?? r.default_from ?? config.SWITCHBOARD_EMAIL_FROM ?? null;
  const via = r.mailbox?.smtp
    ? "mailbox"
    : r.console_relay || config.SWITCHBOARD_SMTP_RELAY_URL
      ? "relay"
      : null;
  const to = r.contact_email ?? r.last?.from_address ?? null;
  const ours = new Set(r.ours ?? []);
  const cc = [...new Set([...(r.last?.cc_addresses ?? []), ...(r.last?.to_addresses ?? [])])]
    .map((a) => a.toLowerCase())
    .filter((a) => a !== to && !ours.has(a));
  const problem = !from
    ? "No From address: set the client's From address or the default From in Admin > Email, or add a mailbox."
    : !via
      ? "No way to send mail: set the outbound relay in Admin > Email, or give the mailbox an SMTP server."
      : null;
  return { from, mailbox: r.mailbox, via, to: to ? [to] : [], cc, problem };
}
