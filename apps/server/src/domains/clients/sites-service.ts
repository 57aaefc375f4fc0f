import type { CreateSiteRequest, UpdateSiteRequest } from "@switchboard/shared";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import { notFound, versionConflict } from "../../http/errors.ts";
import { writeAudit } from "../audit/audit.ts";
import { changedFields } from "../audit/changes.ts";
import { type Actor, canSeeClient, requireWriter } from "../auth/actor.ts";
import { emitEvent } from "../events/outbox.ts";
import { type SiteRow, toSiteDto } from "./dto.ts";
import { findSite, listSites as listSiteRows } from "./queries.ts";
import { visibleClient } from "./service.ts";

export async function listSites(db: Database, actor: Actor, clientId: string) {
  await visibleClient(db, actor, clientId);
  return listSiteRows(db, clientId);
}

/** A site of a client the actor may not see answers 404, exactly like an unknown id. */
export async function getSite(db: Database, actor: Actor, id: string): Promise<SiteRow> {
  const row = await findSite(db, id);
  if (!row || !canSeeClient(actor, row.client_id)) throw notFound("Site");
  return row;
}

export async function createSite(
  db: Database,
  actor: Actor,
  clientId: string,
  input: z.output<typeof CreateSiteRequest>,
) {
  requireWriter(actor);
  return db.transaction().execute(async (trx) => {
    // The insert's foreign key check holds the client row against deletion until commit.
    await visibleClient(trx, actor, clientId);
    const row = await trx
      .insertInto("sites")
      .values({
        client_id: clientId,
        name: input.name,
        address_line1: input.addressLine1 ?? null,
        address_line2: input.addressLine2 ?? null,
        city: input.city ?? null,
        region: input.region ?? null,
        postal_code: input.postalCode ?? null,
        country: input.country ?? null,
        timezone: input.timezone,
        phone: input.phone ?? null,
        notes: input.notes,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await writeAudit(trx, actor, {
      action: "site.create",
      entityType: "site",
      entityId: row.id,
      clientId,
      after: toSiteDto(row),
    });
    await emitEvent(trx, actor, {
      type: "site.created",
      clientId,
      payload: { clientId, siteId: row.id, name: row.name },
    });
    return row;
  });
}

export async function updateSite(
  db: Database,
  actor: Actor,
  id: string,
  input: z.output<typeof UpdateSiteRequest>,
) {
  requireWriter(actor);
  return db.transaction().execute(async (trx) => {
    const before = await findSite(trx, id, { lock: true });
    if (!before || !canSeeClient(actor, before.client_id)) throw notFound("Site");
    if (before.version !== input.version) throw versionConflict("site", toSiteDto(before));
    const after = await trx
      .updateTable("sites")
      .set((eb) => ({
        name: input.name,
        address_line1: input.addressLine1,
        address_line2: input.addressLine2,
        city: input.city,
        region: input.region,
        postal_code: input.postalCode,
        country: input.country,
        timezone: input.timezone,
        phone: input.phone,
        notes: input.notes,
        version: eb("version", "+", 1),
        updated_at: new Date(),
      }))
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
    const diff = changedFields(toSiteDto(before), toSiteDto(after), ["version"]);
    await writeAudit(trx, actor, {
      action: "site.update",
      entityType: "site",
      entityId: id,
      clientId: after.client_id,
      before: diff.before,
      after: diff.after,
    });
    await emitEvent(trx, actor, {
      type: "site.updated",
      clientId: after.client_id,
      payload: { clientId: after.client_id, siteId: id, changed: diff.keys },
    });
    return after;
  });
}
