import { sql, type Transaction } from "kysely";
import type { DB } from "../../db/schema.ts";
import type { Actor } from "../auth/actor.ts";

export interface Sender {
  clientId: string;
  contactId: string | null;
  /** How we got there: a known contact, a client's email domain, or the mailbox's default client. */
  via: "contact" | "domain" | "default";
}

/**
 * Sender to contact: a known address is that contact (routing's lookup prefers the client of the ticket
 * being answered when the same address belongs to several); an unknown address at a client's domain
 * becomes a new contact of that client; else the mailbox's default client, without a contact.
 * Null: nobody we know, the message waits in the unmatched queue.
 */
export async function resolveSender(
  trx: Transaction<DB>,
  actor: Actor,
  from: { address: string; name: string },
  found: {
    contact: { id: string; client_id: string } | null;
    domainClient: { id: string } | null;
    defaultClientId?: string | null;
  },
): Promise<Sender | null> {
  const address = from.address.toLowerCase();
  if (found.contact)
    return { clientId: found.contact.client_id, contactId: found.contact.id, via: "contact" };
  const client = found.domainClient;
  if (client) {
    const { first, last } = splitName(from.name, address);
    // The contact, its audit row and its event in one statement.
    const label = actor.kind === "system" ? `system:${actor.name}` : actor.name;
    const { rows } = await sql<{ id: string }>`/*prepared*/
      with c as (
        insert into contacts (client_id, first_name, last_name, emails)
        values (${client.id}, ${first}, ${last}, ${[address]}::text[])
        returning id, client_id, first_name, last_name
      ), a as (
        insert into audit_log (actor_user_id, actor_label, action, entity_type, entity_id, client_id, after, ip, request_id)
        select ${actor.userId}, ${label}, 'contact.create', 'contact', c.id, c.client_id,
          to_jsonb(c) || jsonb_build_object('emails', ${[address]}::text[], 'source', 'email'),
          ${actor.ip ?? null}, ${actor.requestId ?? null}
        from c
      ), e as (
        insert into domain_events (type, client_id, actor_user_id, payload)
        select 'contact.created', c.client_id, ${actor.userId}, jsonb_build_object('contactId', c.id, 'source', 'email')
        from c
      )
      select id from c`.execute(trx);
    const created = rows[0] as { id: string };
    return { clientId: client.id, contactId: created.id, via: "domain" };
  }
  if (found.defaultClientId) return { clientId: found.defaultClientId, contactId: null, via: "default" };
  return null;
}

function splitName(display: string, address: string) {
  const cleaned = display.replace(/["']/g, "").trim();
  if (!cleaned || cleaned.includes("@")) return { first: address.split("@")[0] ?? address, last: "" };
  // "Last, First" is how many directories format names.
  if (cleaned.includes(",")) {
    const [last, first] = cleaned.split(",", 2).map((s) => s.trim());
    return { first: first || (last ?? cleaned), last: first ? (last ?? "") : "" };
  }
  const parts = cleaned.split(/\s+/);
  return { first: parts[0] ?? cleaned, last: parts.slice(1).join(" ") };
}
