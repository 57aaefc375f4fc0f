import { type MergeContactsRequest, phoneDigits } from "@switchboard/shared";
import { sql } from "kysely";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import type { PhoneNumber } from "../../db/schema.ts";
import { AppError, invalid, notFound } from "../../http/errors.ts";
import { writeAudit } from "../audit/audit.ts";
import { type Actor, canSeeClient, requireRole } from "../auth/actor.ts";
import { emitEvent } from "../events/outbox.ts";
import { normalizeContactPhones } from "./contacts-service.ts";
import { contactName } from "./dto.ts";

/**
 * Folds duplicates into one contact: their tickets (as requester and as CC'd contact), the timeline
 * entries they authored (calls, emails) and their email messages move to the survivor, which also takes
 * their addresses and numbers. Each duplicate stays as an inactive pointer (`merged_into_id`) with no
 * addresses of its own, so inbound mail and phone lookups find the survivor and old links redirect.
 * One transaction; every contact involved is locked first, in id order, so two merges cannot interleave.
 */
export async function mergeContacts(
  db: Database,
  actor: Actor,
  survivorId: string,
  input: z.output<typeof MergeContactsRequest>,
) {
  requireRole(actor, "admin", "dispatcher");
  const duplicateIds = [...new Set(input.duplicateIds)];
  if (duplicateIds.includes(survivorId))
    throw invalid("body.duplicateIds", "must not include the contact kept");
  return db.transaction().execute(async (trx) => {
    const all = await trx
      .selectFrom("contacts")
      .selectAll()
      .where("id", "in", [survivorId, ...duplicateIds])
      .orderBy("id")
      .forUpdate()
      .execute();
    const survivor = all.find((c) => c.id === survivorId);
    if (!survivor || !canSeeClient(actor, survivor.client_id)) throw notFound("Contact");
    if (survivor.merged_into_id) {
      throw new AppError(
        "invalid_transition",
        409,
        "This contact was merged into another; merge into that one",
      );
    }
    const dups = duplicateIds.map((id) => all.find((c) => c.id === id));
    for (const [i, d] of dups.entries()) {
      if (!d || !canSeeClient(actor, d.client_id))
        throw invalid(`body.duplicateIds.${i}`, "is not a known contact");
      if (d.client_id !== survivor.client_id) {
        throw invalid(`body.duplicateIds.${i}`, "is a contact of another client");
      }
      if (d.merged_into_id) throw invalid(`body.duplicateIds.${i}`, "was merged already");
    }
    const merged = dups as NonNullable<(typeof dups)[number]>[];

    const tickets = await trx
      .updateTable("tickets")
      .set((eb) => ({ contact_id: survivorId, version: eb("version", "+", 1), updated_at: new Date() }))
      .where("contact_id", "in", duplicateIds)
      .executeTakeFirst();
    await sql`insert into ticket_contacts (ticket_id, contact_id)
      select ticket_id, ${survivorId}::uuid from ticket_contacts where contact_id = any(${duplicateIds}::uuid[])
      on conflict do nothing`.execute(trx);
    await trx.deleteFrom("ticket_contacts").where("contact_id", "in", duplicateIds).execute();
    const entries = await trx
      .updateTable("timeline_entries")
      .set({ author_contact_id: survivorId })
      .where("author_contact_id", "in", duplicateIds)
      .executeTakeFirst();
    const emails = await trx
      .updateTable("email_messages")
      .set({ contact_id: survivorId })
      .where("contact_id", "in", duplicateIds)
      .executeTakeFirst();

    // The survivor keeps its own values and takes what it lacks from the duplicates.
    const allEmails = [
      ...new Set([survivor, ...merged].flatMap((c) => c.emails.map((e) => e.toLowerCase()))),
    ];
    const seen = new Set<string>();
    const phones: PhoneNumber[] = [];
    for (const p of [survivor, ...merged].flatMap((c) => c.phones)) {
      const key = phoneDigits(p.number);
      if (seen.has(key)) continue;
      seen.add(key);
      phones.push(p);
    }
    const notes = [survivor.notes, ...merged.map((d) => d.notes)].filter((n) => n.trim()).join("\n\n");
    await trx
      .updateTable("contacts")
      .set((eb) => ({
        emails: allEmails.slice(0, 20),
        ...normalizeContactPhones(phones.slice(0, 20)),
        title: survivor.title ?? merged.find((d) => d.title)?.title ?? null,
        site_id: survivor.site_id ?? merged.find((d) => d.site_id)?.site_id ?? null,
        vip: survivor.vip || merged.some((d) => d.vip),
        notes: notes.slice(0, 20_000),
        version: eb("version", "+", 1),
        updated_at: new Date(),
      }))
      .where("id", "=", survivorId)
      .execute();
    await trx
      .updateTable("contacts")
      .set((eb) => ({
        merged_into_id: survivorId,
        active: false,
        emails: [],
        phones: "[]",
        phone_digits: "",
        version: eb("version", "+", 1),
        updated_at: new Date(),
      }))
      .where("id", "in", duplicateIds)
      .execute();

    const moved = {
      tickets: Number(tickets.numUpdatedRows),
      timelineEntries: Number(entries.numUpdatedRows),
      emails: Number(emails.numUpdatedRows),
    };
    await writeAudit(trx, actor, {
      action: "contact.merge",
      entityType: "contact",
      entityId: survivorId,
      clientId: survivor.client_id,
      before: { emails: survivor.emails, phones: survivor.phones },
      after: {
        merged: merged.map((d) => ({ id: d.id, name: contactName(d), emails: d.emails })),
        emails: allEmails,
        moved,
      },
    });
    for (const d of merged) {
      await writeAudit(trx, actor, {
        action: "contact.merged_into",
        entityType: "contact",
        entityId: d.id,
        clientId: d.client_id,
        before: { name: contactName(d), emails: d.emails, phones: d.phones, active: d.active },
        after: { mergedIntoId: survivorId, active: false },
      });
    }
    await emitEvent(trx, actor, {
      type: "contact.merged",
      clientId: survivor.client_id,
      payload: { clientId: survivor.client_id, contactId: survivorId, mergedIds: duplicateIds, moved },
    });
    return { survivorId, merged: duplicateIds, moved };
  });
}
