import type { UpdateDeviceTagsRequest } from "@switchboard/shared";
import { sql, type Transaction } from "kysely";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import type { DB } from "../../db/schema.ts";
import { notFound } from "../../http/errors.ts";
import { recordChange } from "../audit/record.ts";
import { type Actor, assertClientVisible, requireWriter } from "../auth/actor.ts";
import { effectiveChecks, POLICY_LEVEL, POLICY_REACHES } from "./checks.ts";
import { taskAlertKey } from "./tasks.ts";
import { resolveTicketUnlessShared } from "./tickets.ts";

/** The enabled tasks that reach a device (inherited like checks: the most specific of a name wins). */
async function effectiveTaskIds(trx: Transaction<DB>, deviceId: string) {
  const { rows } = await sql<{ id: string; enabled: boolean }>`
    select distinct on (t.name) t.id, t.enabled
    from devices d
    join monitoring_policies p on p.enabled and ${POLICY_REACHES}
    join monitoring_tasks t on t.policy_id = p.id
    where d.id = ${deviceId}
    order by t.name, ${POLICY_LEVEL} desc, t.created_at desc`.execute(trx);
  return new Set(rows.filter((r) => r.enabled).map((r) => r.id));
}

/**
 * Replaces a device's tags. The checks and tasks it no longer gets (a tag policy that stops reaching it)
 * resolve their open alerts on this device, with their tickets, like a removed check's; the caller pushes
 * the device its new set of checks once this commits.
 */
export async function setDeviceTags(
  db: Database,
  actor: Actor,
  deviceId: string,
  input: z.output<typeof UpdateDeviceTagsRequest>,
) {
  requireWriter(actor);
  return db.transaction().execute(async (trx) => {
    const d = await trx
      .selectFrom("devices")
      .select(["id", "client_id", "hostname", "tags"])
      .where("id", "=", deviceId)
      .forUpdate()
      .executeTakeFirst();
    if (!d) throw notFound("Device");
    assertClientVisible(actor, d.client_id, "Device");
    const same = d.tags.length === input.tags.length && d.tags.every((t, i) => t === input.tags[i]);
    if (same) return { deviceId, tags: d.tags, changed: false };
    const checksBefore = (await effectiveChecks(trx, [deviceId])).get(deviceId) ?? [];
    const tasksBefore = await effectiveTaskIds(trx, deviceId);
    await trx
      .updateTable("devices")
      .set((eb) => ({ tags: input.tags, version: eb("version", "+", 1) }))
      .where("id", "=", deviceId)
      .execute();
    const checksAfter = new Set(
      ((await effectiveChecks(trx, [deviceId])).get(deviceId) ?? []).map((c) => c.id),
    );
    const tasksAfter = await effectiveTaskIds(trx, deviceId);
    const keys = [
      ...checksBefore.filter((c) => !checksAfter.has(c.id)).map((c) => c.id),
      ...[...tasksBefore].filter((t) => !tasksAfter.has(t)).map(taskAlertKey),
    ];
    await resolveDeviceAlerts(trx, deviceId, keys, d.hostname);
    await recordChange(
      trx,
      actor,
      {
        action: "device.tags_set",
        entityType: "device",
        entityId: deviceId,
        clientId: d.client_id,
        before: { tags: d.tags },
        after: { tags: input.tags },
      },
      {
        type: "device.tags_changed",
        clientId: d.client_id,
        payload: { deviceId, tags: input.tags },
      },
    );
    return { deviceId, tags: input.tags, changed: true };
  });
}

/** Alerts of checks and tasks the device no longer runs resolve, nothing is left firing forever. */
async function resolveDeviceAlerts(trx: Transaction<DB>, deviceId: string, keys: string[], hostname: string) {
  if (!keys.length) return;
  const { rows } = await sql<{ ticket_id: string | null; name: string }>`
    update monitoring_alerts set state = 'resolved', resolved_at = now(),
      resolution = 'no longer applies to the device', updated_at = now(), version = version + 1
    where device_id = ${deviceId} and check_key = any(${keys}::text[]) and state <> 'resolved'
    returning ticket_id, name`.execute(trx);
  for (const r of rows)
    if (r.ticket_id)
      await resolveTicketUnlessShared(
        trx,
        r.ticket_id,
        `"${r.name}" no longer applies to ${hostname} (its tags changed); its alert is resolved.`,
      );
}

/** Tags in use on the devices the actor sees, for the console's suggestions. */
export async function knownTags(db: Database, actor: Actor): Promise<string[]> {
  let q = db
    .selectFrom(
      sql<{
        tag: string;
        client_id: string;
      }>`(select unnest(tags) as tag, client_id from devices where retired_at is null)`.as("t"),
    )
    .select("t.tag")
    .distinct()
    .orderBy("t.tag")
    .limit(1000);
  if (actor.clientIds) {
    if (!actor.clientIds.length) return [];
    q = q.where("t.client_id", "in", actor.clientIds);
  }
  return (await q.execute()).map((r) => r.tag);
}
