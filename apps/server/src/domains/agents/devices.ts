import type { DeviceQuery } from "@switchboard/shared";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import type { AgentHub } from "../../gateway/hub.ts";
import { notFound } from "../../http/errors.ts";
import { writeAudit } from "../audit/audit.ts";
import { type Actor, canSeeClient, requireRole } from "../auth/actor.ts";
import { decodeCursor, pageOf } from "../clients/cursor.ts";
import { emitEvent } from "../events/outbox.ts";

type ListQuery = z.output<typeof DeviceQuery>;

const SUMMARY = [
  "id",
  "client_id",
  "site_id",
  "hostname",
  "platform",
  "arch",
  "os_name",
  "os_version",
  "agent_version",
  "enrollment_token_id",
  "online",
  "gateway_id",
  "last_seen_at",
  "last_address",
  "inventory_hash",
  "inventory_updated_at",
  "enrolled_at",
  "retired_at",
  "version",
  "support_session_id",
  "tags",
] as const;

/** Devices the actor may see, by hostname; filters by client, site and status. */
export async function listDevices(db: Database, actor: Actor, q: ListQuery) {
  let query = db
    .selectFrom("devices")
    .select(SUMMARY)
    .orderBy("hostname")
    .orderBy("id")
    .limit(q.limit + 1);
  if (q.clientId) query = query.where("client_id", "=", q.clientId);
  if (q.siteId) query = query.where("site_id", "=", q.siteId);
  if (actor.clientIds) {
    if (!actor.clientIds.length) return { items: [], nextCursor: null };
    query = query.where("client_id", "in", actor.clientIds);
  }
  if (q.status === "retired") query = query.where("retired_at", "is not", null);
  else if (q.status)
    query = query.where("retired_at", "is", null).where("online", "=", q.status === "online");
  const after = decodeCursor(q.cursor);
  if (after) {
    query = query.where((eb) =>
      eb.or([
        eb("hostname", ">", after.key),
        eb.and([eb("hostname", "=", after.key), eb("id", ">", after.id)]),
      ]),
    );
  }
  return pageOf(await query.execute(), q.limit, (d) => d.hostname);
}

export async function getDevice(db: Database, actor: Actor, id: string) {
  const d = await db.selectFrom("devices").selectAll().where("id", "=", id).executeTakeFirst();
  if (!d || !canSeeClient(actor, d.client_id)) throw notFound("Device");
  return d;
}

/**
 * Revokes the device's key: it is refused at its next handshake, and a live connection is closed now
 * (wherever it is) so that handshake happens at once.
 */
export async function retireDevice(db: Database, hub: AgentHub, actor: Actor, id: string) {
  requireRole(actor, "admin");
  const row = await db.transaction().execute(async (trx) => {
    const d = await trx.selectFrom("devices").selectAll().where("id", "=", id).forUpdate().executeTakeFirst();
    if (!d || !canSeeClient(actor, d.client_id)) throw notFound("Device");
    if (d.retired_at) return d;
    const row = await trx
      .updateTable("devices")
      .set({ retired_at: new Date(), online: false, gateway_id: null, version: d.version + 1 })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await writeAudit(trx, actor, {
      action: "device.retired",
      entityType: "device",
      entityId: id,
      clientId: d.client_id,
      before: { retiredAt: null, online: d.online },
      after: { retiredAt: row.retired_at },
    });
    await emitEvent(trx, actor, {
      type: "device.retired",
      clientId: d.client_id,
      payload: { deviceId: id, hostname: d.hostname },
    });
    // Queued commands would never be delivered now.
    await trx
      .updateTable("device_commands")
      .set({ status: "expired", finished_at: new Date(), error: "device retired" })
      .where("device_id", "=", id)
      .where("status", "=", "queued")
      .execute();
    return row;
  });
  hub.kick(id);
  return row;
}
