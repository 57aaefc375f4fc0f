import type { CreateMaintenanceRequest, DeviceMonitoringDto } from "@switchboard/shared";
import type { Transaction } from "kysely";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import type { DB } from "../../db/schema.ts";
import { invalid, notFound } from "../../http/errors.ts";
import { recordChange } from "../audit/record.ts";
import { type Actor, assertClientVisible, canSeeClient, requireWriter } from "../auth/actor.ts";
import { listAlerts } from "./alerts.ts";
import { effectiveChecks } from "./checks.ts";
import { toCheckDto } from "./policies.ts";
import { metricHistory } from "./summaries.ts";

/** The device page's Monitoring tab: each check it runs with its last state, and its alerts. */
export async function deviceMonitoring(
  db: Database,
  actor: Actor,
  deviceId: string,
): Promise<DeviceMonitoringDto> {
  const device = await db
    .selectFrom("devices")
    .select(["id", "client_id", "online"])
    .where("id", "=", deviceId)
    .executeTakeFirst();
  if (!device) throw notFound("Device");
  assertClientVisible(actor, device.client_id, "Device");
  const checks = (await effectiveChecks(db, [deviceId])).get(deviceId) ?? [];
  const [states, policies, alerts, uplinks] = await Promise.all([
    db.selectFrom("monitoring_check_states").selectAll().where("device_id", "=", deviceId).execute(),
    checks.length
      ? db
          .selectFrom("monitoring_policies")
          .select(["id", "name"])
          .where(
            "id",
            "in",
            checks.map((c) => c.policy_id),
          )
          .execute()
      : [],
    listAlerts(db, actor, { state: "all", deviceId, limit: 50 }),
    checks.length
      ? db
          .selectFrom("monitoring_checks as mc")
          .innerJoin("sites as us", "us.id", "mc.uplink_site_id")
          .innerJoin("clients as uc", "uc.id", "us.client_id")
          .select([
            "mc.id",
            "mc.uplink_site_id",
            "us.name as uplink_site_name",
            "uc.id as uplink_client_id",
            "uc.name as uplink_client_name",
          ])
          .where(
            "mc.id",
            "in",
            checks.map((c) => c.id),
          )
          .execute()
      : [],
  ]);
  const uplinkOf = new Map(uplinks.map((u) => [u.id, u]));
  const stateOf = new Map(states.map((s) => [s.check_id, s]));
  const policyName = new Map(policies.map((p) => [p.id, p.name]));
  return {
    deviceId,
    online: device.online,
    checks: checks.map((c) => {
      const s = stateOf.get(c.id);
      return {
        check: toCheckDto({
          ...c,
          enabled: true,
          uplink_site_id: null,
          uplink_site_name: null,
          uplink_client_id: null,
          uplink_client_name: null,
          ...uplinkOf.get(c.id),
        }),
        policyName: policyName.get(c.policy_id) ?? "",
        state: s?.state ?? null,
        output: s?.output ?? "",
        metrics: s?.metrics ?? null,
        changedAt: s ? new Date(s.changed_at).toISOString() : null,
        reportedAt: s ? new Date(s.reported_at).toISOString() : null,
      };
    }),
    alerts,
  };
}

type MaintenanceIn = z.output<typeof CreateMaintenanceRequest>;

const toMaintenanceDto = (m: {
  id: string;
  client_id: string;
  site_id: string | null;
  device_id: string | null;
  starts_at: Date;
  ends_at: Date;
  reason: string;
}) => ({
  id: m.id,
  clientId: m.client_id,
  siteId: m.site_id,
  deviceId: m.device_id,
  startsAt: m.starts_at.toISOString(),
  endsAt: m.ends_at.toISOString(),
  reason: m.reason,
});

export async function listMaintenance(db: Database, actor: Actor, clientId?: string) {
  // Occurrences of recurring windows are listed as their series (maintenance-series.ts).
  let q = db
    .selectFrom("monitoring_maintenance")
    .selectAll()
    .where("ends_at", ">", new Date())
    .where("series_id", "is", null);
  if (clientId) q = q.where("client_id", "=", clientId);
  const rows = await q.orderBy("starts_at").limit(500).execute();
  return rows.filter((r) => canSeeClient(actor, r.client_id)).map(toMaintenanceDto);
}

/**
 * A maintenance window's scope (one-off or recurring): the client, one of its sites, one of its devices.
 * Returns the device's site, if a device is named.
 */
export async function windowScope(
  trx: Transaction<DB>,
  input: { clientId: string; siteId: string | null; deviceId: string | null },
) {
  const client = await trx
    .selectFrom("clients")
    .select("id")
    .where("id", "=", input.clientId)
    .executeTakeFirst();
  if (!client) throw invalid("body.clientId", "no such client");
  if (input.siteId) {
    const s = await trx
      .selectFrom("sites")
      .select("client_id")
      .where("id", "=", input.siteId)
      .executeTakeFirst();
    if (s?.client_id !== input.clientId) throw invalid("body.siteId", "no such site of this client");
  }
  if (!input.deviceId) return null;
  const d = await trx
    .selectFrom("devices")
    .select(["client_id", "site_id"])
    .where("id", "=", input.deviceId)
    .executeTakeFirst();
  if (d?.client_id !== input.clientId) throw invalid("body.deviceId", "no such device of this client");
  return d.site_id;
}

/** A window in which alerts of a client, site or device open but make no ticket (recovery still resolves). */
export async function createMaintenance(db: Database, actor: Actor, input: MaintenanceIn) {
  requireWriter(actor);
  if (!canSeeClient(actor, input.clientId)) throw invalid("body.clientId", "no such client");
  return db.transaction().execute(async (trx) => {
    await windowScope(trx, input);
    const row = await trx
      .insertInto("monitoring_maintenance")
      .values({
        client_id: input.clientId,
        site_id: input.siteId,
        device_id: input.deviceId,
        starts_at: input.startsAt,
        ends_at: input.endsAt,
        reason: input.reason,
        created_by_user_id: actor.userId,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordChange(
      trx,
      actor,
      {
        action: "monitoring.maintenance_create",
        entityType: "monitoring_maintenance",
        entityId: row.id,
        clientId: row.client_id,
        after: input,
      },
      { type: "monitoring.maintenance_changed", clientId: row.client_id, payload: { maintenanceId: row.id } },
    );
    return toMaintenanceDto(row);
  });
}

export async function deleteMaintenance(db: Database, actor: Actor, id: string) {
  requireWriter(actor);
  await db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom("monitoring_maintenance")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    if (!row || row.series_id) throw notFound("Maintenance window");
    assertClientVisible(actor, row.client_id, "Maintenance window");
    await trx.deleteFrom("monitoring_maintenance").where("id", "=", id).execute();
    await recordChange(
      trx,
      actor,
      {
        action: "monitoring.maintenance_delete",
        entityType: "monitoring_maintenance",
        entityId: id,
        clientId: row.client_id,
        before: toMaintenanceDto(row),
      },
      { type: "monitoring.maintenance_changed", clientId: row.client_id, payload: { maintenanceId: id } },
    );
  });
}

/** Hourly averages of the device's check metrics, for its Monitoring charts. */
export async function deviceMetrics(db: Database, actor: Actor, deviceId: string, hours: number) {
  const device = await db
    .selectFrom("devices")
    .select("client_id")
    .where("id", "=", deviceId)
    .executeTakeFirst();
  if (!device) throw notFound("Device");
  assertClientVisible(actor, device.client_id, "Device");
  return metricHistory(db, deviceId, hours);
}
