import {
  type ContactListQuery,
  type CreateContactRequest,
  phoneDigits,
  type UpdateContactRequest,
} from "@switchboard/shared";
import type { Transaction } from "kysely";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import type { DB, PhoneNumber } from "../../db/schema.ts";
import { invalid, notFound, versionConflict } from "../../http/errors.ts";
import { writeAudit } from "../audit/audit.ts";
import { changedFields } from "../audit/changes.ts";
import { type Actor, canSeeClient, requireWriter } from "../auth/actor.ts";
import { emitEvent } from "../events/outbox.ts";
import { findContact, listContacts as listContactRows } from "./contacts-queries.ts";
import { decodeCursor, pageOf } from "./cursor.ts";
import { type ContactRow, toContactDto } from "./dto.ts";
import { findClient, findSite } from "./queries.ts";
import { visibleClient } from "./service.ts";

/**
 * The stored form of a contact's phone numbers: the list as JSON, and `phone_digits`, the digits of
 * every number joined by spaces, which the trigram index searches whatever format the caller types.
 */
export function normalizeContactPhones(phones: { label?: string; number: string }[]) {
  const list: PhoneNumber[] = phones.map((p) => ({
    label: p.label?.trim() || "work",
    number: p.number.trim(),
  }));
  return {
    phones: JSON.stringify(list),
    phone_digits: list
      .map((p) => phoneDigits(p.number))
      .filter(Boolean)
      .join(" "),
  };
}

/** Emails compare case-insensitively everywhere (inbound mail matching included): store them lowercased. */
const normalizeEmails = (emails: string[]) => [...new Set(emails.map((e) => e.trim().toLowerCase()))];

export async function listContacts(db: Database, actor: Actor, query: z.output<typeof ContactListQuery>) {
  if (query.clientId) await visibleClient(db, actor, query.clientId);
  const rows = await listContactRows(db, {
    visibleIds: actor.clientIds,
    clientId: query.clientId,
    q: query.q,
    includeInactive: query.includeInactive,
    after: decodeCursor(query.cursor),
    limit: query.limit,
  });
  return pageOf(rows, query.limit, (r) => r.sort_key);
}

/** A contact of a client the actor may not see answers 404, exactly like an unknown id. */
export async function getContact(db: Database, actor: Actor, id: string): Promise<ContactRow> {
  const row = await findContact(db, id);
  if (!row || !canSeeClient(actor, row.client_id)) throw notFound("Contact");
  return row;
}

export async function createContact(
  db: Database,
  actor: Actor,
  input: z.output<typeof CreateContactRequest>,
) {
  requireWriter(actor);
  return db.transaction().execute(async (trx) => {
    const client = await findClient(trx, input.clientId);
    // An invisible client reads exactly like an unknown one.
    if (!client || !canSeeClient(actor, client.id)) throw invalid("body.clientId", "is not a known client");
    if (input.siteId) await assertSiteOfClient(trx, input.siteId, client.id);
    const { id } = await trx
      .insertInto("contacts")
      .values({
        client_id: client.id,
        site_id: input.siteId ?? null,
        first_name: input.firstName,
        last_name: input.lastName,
        title: input.title ?? null,
        emails: normalizeEmails(input.emails),
        ...normalizeContactPhones(input.phones),
        vip: input.vip,
        notes: input.notes,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    const row = (await findContact(trx, id))!;
    await writeAudit(trx, actor, {
      action: "contact.create",
      entityType: "contact",
      entityId: id,
      clientId: client.id,
      after: toContactDto(row),
    });
    await emitEvent(trx, actor, {
      type: "contact.created",
      clientId: client.id,
      payload: { clientId: client.id, contactId: id, name: toContactDto(row).name },
    });
    return row;
  });
}

export async function updateContact(
  db: Database,
  actor: Actor,
  id: string,
  input: z.output<typeof UpdateContactRequest>,
) {
  requireWriter(actor);
  return db.transaction().execute(async (trx) => {
    const before = await findContact(trx, id, { lock: true });
    if (!before || !canSeeClient(actor, before.client_id)) throw notFound("Contact");
    if (before.version !== input.version) throw versionConflict("contact", toContactDto(before));
    if (input.siteId) await assertSiteOfClient(trx, input.siteId, before.client_id);
    await trx
      .updateTable("contacts")
      .set((eb) => ({
        site_id: input.siteId,
        first_name: input.firstName,
        last_name: input.lastName,
        title: input.title,
        emails: input.emails && normalizeEmails(input.emails),
        ...(input.phones ? normalizeContactPhones(input.phones) : {}),
        vip: input.vip,
        notes: input.notes,
        active: input.active,
        version: eb("version", "+", 1),
        updated_at: new Date(),
      }))
      .where("id", "=", id)
      .execute();
    const after = (await findContact(trx, id))!;
    const diff = changedFields(toContactDto(before), toContactDto(after), ["version"]);
    await writeAudit(trx, actor, {
      action: "contact.update",
      entityType: "contact",
      entityId: id,
      clientId: after.client_id,
      before: diff.before,
      after: diff.after,
    });
    await emitEvent(trx, actor, {
      type: "contact.updated",
      clientId: after.client_id,
      payload: { clientId: after.client_id, contactId: id, changed: diff.keys },
    });
    return after;
  });
}

async function assertSiteOfClient(trx: Transaction<DB>, siteId: string, clientId: string) {
  const site = await findSite(trx, siteId);
  if (!site || site.client_id !== clientId)
    throw invalid("body.siteId", "must be a site of the contact's client");
}
