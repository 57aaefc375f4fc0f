import { sql, type Transaction } from "kysely";
import type { DB } from "../../db/schema.ts";
import { writeAudit } from "../audit/audit.ts";
import type { Actor } from "../auth/actor.ts";
import { emitEvent } from "../events/outbox.ts";

export interface Sender {
  clientId: string;
  contactId: string | null;
  /** How we got there: a known contact, a client's email domain, or the mailbox's default client. */
  via: "contact" | "domain" | "default";
}

/**
 * Sender to contact: a known address is that contact (preferring `preferClientId`, the client of the
 * ticket being answered, when the same address belongs to several); an unknown address at a client's
 * domain becomes a new contact of that client; else the mailbox's default client, without a contact.
 * Null: nobody we know, the message waits in the unmatched queue.
 */
export async function resolveSender(
  trx: Transaction<DB>,
  actor: Actor,
  from: { address: string; name: string },
  opts: { preferClientId?: string | null; defaultClientId?: string | null },
): Promise<Sender | null> {
  const address = from.address.toLowerCase();
  const known = await sql<{ id: string; client_id: string }>`
    select c.id, c.client_id from contacts c
    where c.emails @> array[${address}]::text[] and c.active
    order by (c.client_id = ${opts.preferClientId ?? null}) desc nulls last, c.created_at
    limit 1`.execute(trx);
  const contact = known.rows[0];
  if (contact) return { clientId: contact.client_id, contactId: contact.id, via: "contact" };

  const domain = address.split("@")[1] ?? "";
  const client = await trx
    .selectFrom("clients")
    .select(["id", "name"])
    .where(sql<boolean>`email_domains @> array[${domain}]::text[]`)
    .where("active", "=", true)
    .orderBy("created_at")
    .executeTakeFirst();
  if (client) {
    const { first, last } = splitName(from.name, address);
    const created = await trx
      .insertInto("contacts")
      .values({ client_id: client.id, first_name: first, last_name: last, emails: [address] })
      .returning(["id", "client_id", "first_name", "last_name"])
      .executeTakeFirstOrThrow();
    await writeAudit(trx, actor, {
      action: "contact.create",
      entityType: "contact",
      entityId: created.id,
      clientId: client.id,
      after: { ...created, emails: [address], source: "email" },
    });
    await emitEvent(trx, actor, {
      type: "contact.created",
      clientId: client.id,
      payload: { contactId: created.id, source: "email" },
    });
    return { clientId: client.id, contactId: created.id, via: "domain" };
  }
  if (opts.defaultClientId) return { clientId: opts.defaultClientId, contactId: null, via: "default" };
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
