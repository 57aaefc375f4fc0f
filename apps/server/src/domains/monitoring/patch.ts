import type { ClientHealthDto, DevicePatchStatusDto, PatchReport } from "@switchboard/shared";
import { sql } from "kysely";
import type { Database } from "../../db/database.ts";
import type { PatchStatusUpdate } from "../../db/schema.ts";
import { notFound } from "../../http/errors.ts";
import { type Actor, assertClientVisible } from "../auth/actor.ts";

// Patch status: what the agent's periodic summary says is missing on the device, kept per device (one row,
// replaced on each report) and rolled up per client for the client's health summary.

const RATED = ["critical", "important", "moderate", "low"] as const;
const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString());

/**
 * Stores a device's patch report. Each update keeps the time the server first saw it missing on this
 * device (across reports and agent restarts): its age where the OS gives no release date. A failed scan
 * keeps the previous list and records the reason.
 */
export async function savePatchReport(db: Database, deviceId: string, report: PatchReport) {
  const device = await db
    .selectFrom("devices")
    .select("client_id")
    .where("id", "=", deviceId)
    .executeTakeFirst();
  if (!device) return;
  const prev = await db
    .selectFrom("patch_status")
    .select(["updates", "source"])
    .where("device_id", "=", deviceId)
    .executeTakeFirst();
  if (report.error) {
    await db
      .insertInto("patch_status")
      .values({
        device_id: deviceId,
        client_id: device.client_id,
        updates: "[]",
        missing_count: 0,
        security_count: 0,
        critical_count: 0,
        important_count: 0,
        moderate_count: 0,
        low_count: 0,
        reboot_pending: report.rebootPending,
        reboot_since: report.rebootSince,
        scan_error: report.error,
        collected_at: report.collectedAt,
      })
      .onConflict((oc) =>
        oc.column("device_id").doUpdateSet({
          client_id: device.client_id,
          reboot_pending: report.rebootPending,
          reboot_since: report.rebootSince,
          scan_error: report.error,
          collected_at: report.collectedAt,
          reported_at: sql`now()`,
        }),
      )
      .execute();
    return;
  }
  const key = (u: { name: string; available?: string | null }) => `${u.name}@${u.available ?? ""}`;
  const firstSeen = new Map((prev?.updates ?? []).map((u) => [key(u), u.firstSeenAt]));
  const now = new Date().toISOString();
  const updates: PatchStatusUpdate[] = report.updates.map((u) => ({
    name: u.name,
    current: u.current ?? null,
    available: u.available ?? null,
    security: u.security,
    severity: u.severity?.toLowerCase() ?? null,
    releasedAt: u.releasedAt ?? null,
    firstSeenAt: firstSeen.get(key(u)) ?? now,
  }));
  const since = (u: PatchStatusUpdate) => u.releasedAt ?? u.firstSeenAt;
  const oldest = (list: PatchStatusUpdate[]) =>
    list.length ? list.map(since).reduce((a, b) => (Date.parse(a) <= Date.parse(b) ? a : b)) : null;
  const security = updates.filter((u) => u.security);
  const count = (sev: string) => security.filter((u) => u.severity === sev).length;
  const row = {
    client_id: device.client_id,
    source: report.source,
    updates: JSON.stringify(updates),
    missing_count: updates.length,
    security_count: security.length,
    critical_count: count("critical"),
    important_count: count("important"),
    moderate_count: count("moderate"),
    low_count: count("low"),
    oldest_missing_at: oldest(updates),
    oldest_security_at: oldest(security),
    reboot_pending: report.rebootPending,
    reboot_since: report.rebootSince,
    last_install_at: report.lastInstallAt,
    scan_error: null,
    collected_at: report.collectedAt,
  };
  await db
    .insertInto("patch_status")
    .values({ device_id: deviceId, ...row })
    .onConflict((oc) =>
      oc.column("device_id").doUpdateSet({
        ...row,
        // An agent that cannot read the history this time does not erase what it said before, and an
        // install run the server saw succeed (patch-install-runs.ts) is not undone by an older history.
        last_install_at: sql`greatest(excluded.last_install_at, patch_status.last_install_at)`,
        reported_at: sql`now()`,
      }),
    )
    .execute();
}

export async function devicePatchStatus(
  db: Database,
  actor: Actor,
  deviceId: string,
): Promise<DevicePatchStatusDto> {
  const device = await db
    .selectFrom("devices")
    .select(["id", "client_id"])
    .where("id", "=", deviceId)
    .executeTakeFirst();
  if (!device) throw notFound("Device");
  assertClientVisible(actor, device.client_id, "Device");
  const s = await db
    .selectFrom("patch_status")
    .selectAll()
    .where("device_id", "=", deviceId)
    .executeTakeFirst();
  if (!s) return { deviceId, status: null };
  const rated = s.critical_count + s.important_count + s.moderate_count + s.low_count;
  // Security first, rated worst first, then oldest first.
  const rank = (u: PatchStatusUpdate) =>
    u.security ? (RATED as readonly string[]).indexOf(u.severity ?? "") + 1 || RATED.length + 1 : 9;
  const updates = [...s.updates].sort(
    (a, b) =>
      rank(a) - rank(b) ||
      Date.parse(a.releasedAt ?? a.firstSeenAt) - Date.parse(b.releasedAt ?? b.firstSeenAt) ||
      a.name.localeCompare(b.name),
  );
  return {
    deviceId,
    status: {
      source: s.source,
      missing: s.missing_count,
      security: s.security_count,
      bySeverity: {
        critical: s.critical_count,
        important: s.important_count,
        moderate: s.moderate_count,
        low: s.low_count,
        unrated: s.security_count - rated,
      },
      oldestMissingAt: iso(s.oldest_missing_at),
      oldestSecurityAt: iso(s.oldest_security_at),
      rebootPending: s.reboot_pending,
      rebootSince: iso(s.reboot_since),
      lastInstallAt: iso(s.last_install_at),
      scanError: s.scan_error,
      collectedAt: iso(s.collected_at)!,
      updates: updates.map((u) => ({ ...u, releasedAt: u.releasedAt, firstSeenAt: u.firstSeenAt })),
    },
  };
}

/** The client page's health summary: open alerts by severity and the patch rollup of its live devices. */
export async function clientHealth(db: Database, actor: Actor, clientId: string): Promise<ClientHealthDto> {
  const client = await db.selectFrom("clients").select("id").where("id", "=", clientId).executeTakeFirst();
  if (!client) throw notFound("Client");
  assertClientVisible(actor, clientId, "Client");
  const [alerts, patch] = await Promise.all([
    db
      .selectFrom("monitoring_alerts")
      .select(["severity", sql<number>`count(*)::int`.as("n")])
      .where("client_id", "=", clientId)
      .where("state", "!=", "resolved")
      .groupBy("severity")
      .execute(),
    sql<{
      devices: number;
      reporting: number;
      missing_security: number;
      missing: number;
      security: number;
      critical: number;
      important: number;
      moderate: number;
      low: number;
      oldest_security_at: Date | null;
      oldest_last_install_at: Date | null;
      last_install_at: Date | null;
      reboot_pending: number;
      scan_errors: number;
    }>`
      select count(*)::int as devices, count(p.device_id)::int as reporting,
        count(*) filter (where p.security_count > 0)::int as missing_security,
        coalesce(sum(p.missing_count), 0)::int as missing, coalesce(sum(p.security_count), 0)::int as security,
        coalesce(sum(p.critical_count), 0)::int as critical, coalesce(sum(p.important_count), 0)::int as important,
        coalesce(sum(p.moderate_count), 0)::int as moderate, coalesce(sum(p.low_count), 0)::int as low,
        min(p.oldest_security_at) as oldest_security_at, min(p.last_install_at) as oldest_last_install_at,
        max(p.last_install_at) as last_install_at,
        count(*) filter (where p.reboot_pending)::int as reboot_pending,
        count(*) filter (where p.scan_error is not null)::int as scan_errors
      from devices d left join patch_status p on p.device_id = d.id
      where d.client_id = ${clientId} and d.retired_at is null`
      .execute(db)
      .then((r) => r.rows[0]!),
  ]);
  const open = { critical: 0, high: 0, medium: 0, low: 0 };
  for (const a of alerts) open[a.severity] = a.n;
  const rated = patch.critical + patch.important + patch.moderate + patch.low;
  return {
    clientId,
    openAlerts: open,
    patch: {
      devices: patch.devices,
      reporting: patch.reporting,
      devicesMissingSecurity: patch.missing_security,
      missing: patch.missing,
      security: patch.security,
      bySeverity: {
        critical: patch.critical,
        important: patch.important,
        moderate: patch.moderate,
        low: patch.low,
        unrated: patch.security - rated,
      },
      oldestSecurityAt: iso(patch.oldest_security_at),
      oldestLastInstallAt: iso(patch.oldest_last_install_at),
      lastInstallAt: iso(patch.last_install_at),
      rebootPending: patch.reboot_pending,
      scanErrors: patch.scan_errors,
    },
  };
}
