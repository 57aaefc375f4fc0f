import type { CheckRemediation, CheckResult, CheckResultsFrame } from "@switchboard/shared";
import { sql, type Transaction } from "kysely";
import type { Database } from "../../db/database.ts";
import type { DB } from "../../db/schema.ts";
import { type EffectiveCheck, effectiveChecks } from "./checks.ts";
import { joinUplinkIncident, noteOnIncident, uplinkSiteOf } from "./incidents.ts";
import { alertEvent, ticketAlert } from "./sweep.ts";
import { noteOnTicket, reopenTicket, resolveTicketUnlessShared } from "./tickets.ts";

/** Devices joining a shared ticket that each get a note on it. */
const GROUP_NOTES = 20;

export interface IngestSettings {
  /** An alert failing again this soon after it resolved reopens instead of a new one. */
  reopenSeconds: number;
  /**
   * The same check firing on another device within this many seconds of an open alert of it joins that
   * alert's ticket (one ticket per incident in a storm, and no wait for the first one).
   */
  groupSeconds: number;
}

/** A remediation to try now that an alert fired (after the transaction that fired it commits). */
export interface Remediation {
  alertId: string;
  deviceId: string;
  ticketId: string | null;
  command: CheckRemediation;
}

export interface IngestOutcome {
  accepted: number;
  /** Results naming a check this device does not run (removed meanwhile, or forged): dropped. */
  unknown: number;
  remediations: Remediation[];
}

export interface DeviceRow {
  id: string;
  client_id: string;
  site_id: string | null;
  hostname: string;
}

/**
 * One frame of check results from an authenticated agent: the latest state of each check in one
 * statement, then (for results sent at once, not the summary) each check's alert moves on: pending after
 * the first failure, firing after `fail_after` failures in a row (flap suppression), resolved after
 * `pass_after` passes. An open alert is updated, never doubled.
 */
export async function ingestResults(
  db: Database,
  deviceId: string,
  frame: CheckResultsFrame,
  s: IngestSettings,
): Promise<IngestOutcome> {
  const checks = new Map(((await effectiveChecks(db, [deviceId])).get(deviceId) ?? []).map((c) => [c.id, c]));
  const known = frame.results.filter((r) => checks.has(r.checkId));
  const out: IngestOutcome = {
    accepted: known.length,
    unknown: frame.results.length - known.length,
    remediations: [],
  };
  if (!known.length) return out;
  await db.transaction().execute(async (trx) => {
    const device = await trx
      .selectFrom("devices")
      .select(["id", "client_id", "site_id", "hostname"])
      .where("id", "=", deviceId)
      .executeTakeFirst();
    if (!device) return;
    // Last result per check wins within a frame.
    const latest = [...new Map(known.map((r) => [r.checkId, r])).values()];
    await sql`
      insert into monitoring_check_states as s (device_id, check_id, client_id, state, output, metrics, streak, changed_at, reported_at)
      select ${deviceId}::uuid, v.check_id, ${device.client_id}::uuid, v.state, v.output, v.metrics::jsonb, v.streak, v.at, v.at
      from unnest(${latest.map((r) => r.checkId)}::uuid[], ${latest.map((r) => r.state)}::text[],
        ${latest.map((r) => r.output)}::text[], ${latest.map((r) => (r.metrics ? JSON.stringify(r.metrics) : null))}::text[],
        ${latest.map((r) => r.streak)}::int[], ${latest.map((r) => r.at)}::timestamptz[])
        as v(check_id, state, output, metrics, streak, at)
      on conflict (device_id, check_id) do update set
        state = excluded.state, output = excluded.output, metrics = coalesce(excluded.metrics, s.metrics),
        streak = excluded.streak, reported_at = excluded.reported_at,
        changed_at = case when s.state = excluded.state then s.changed_at else excluded.changed_at end`.execute(
      trx,
    );
    if (frame.summary) return;
    for (const r of known) {
      const fix = await advanceAlert(trx, device, checks.get(r.checkId)!, r, s);
      if (fix) out.remediations.push(fix);
    }
  });
  return out;
}

/**
 * Moves the alert of one check (or, with `key` and `checkId`, of another source such as a scheduled task,
 * keyed `task:<id>` without a check row) on one result.
 */
export async function advanceAlert(
  trx: Transaction<DB>,
  device: DeviceRow,
  check: EffectiveCheck,
  r: Pick<CheckResult, "state" | "output" | "streak">,
  s: IngestSettings,
  key: string = check.id,
  checkId: string | null = check.id,
): Promise<Remediation | null> {
  const open = await trx
    .selectFrom("monitoring_alerts")
    .selectAll()
    .where("device_id", "=", device.id)
    .where("check_key", "=", key)
    .where("state", "<>", "resolved")
    .forUpdate()
    .executeTakeFirst();
  const output = r.output.slice(0, 4000);
  if (r.state === "ok") {
    if (!open) return null;
    if (open.state === "pending") {
      await trx
        .updateTable("monitoring_alerts")
        .set({ state: "resolved", resolved_at: new Date(), resolution: "passed before firing", output })
        .where("id", "=", open.id)
        .execute();
      return null;
    }
    if (r.streak < check.pass_after) {
      if (!open.recovering_since)
        await trx
          .updateTable("monitoring_alerts")
          .set({ recovering_since: new Date(), updated_at: new Date() })
          .where("id", "=", open.id)
          .execute();
      return null;
    }
    await trx
      .updateTable("monitoring_alerts")
      .set((eb) => ({
        state: "resolved",
        resolved_at: new Date(),
        resolution: "check passing",
        recovering_since: null,
        output,
        updated_at: new Date(),
        version: eb("version", "+", 1),
      }))
      .where("id", "=", open.id)
      .execute();
    if (open.ticket_id)
      await resolveTicketUnlessShared(
        trx,
        open.ticket_id,
        `${check.name} on ${device.hostname} is passing again: ${output}`,
      );
    else if (open.incident_id)
      await noteOnIncident(
        trx,
        open.incident_id,
        `${check.name} from ${device.hostname} is passing again: ${output}`,
      );
    await alertEvent(trx, "monitoring.alert_resolved", device.client_id, open.id, open.ticket_id);
    return null;
  }

  if (open) {
    const failCount = open.fail_count + 1;
    const fires = open.state === "pending" && failCount >= check.fail_after;
    await trx
      .updateTable("monitoring_alerts")
      .set((eb) => ({
        fail_count: failCount,
        output,
        recovering_since: null,
        flaps: open.recovering_since ? eb("flaps", "+", 1) : eb.ref("flaps"),
        updated_at: new Date(),
        ...(fires ? { state: "firing" as const, fired_at: new Date(), version: eb("version", "+", 1) } : {}),
      }))
      .where("id", "=", open.id)
      .execute();
    return fires ? fire(trx, device, check, open.id, output, s) : null;
  }

  // Failing again soon after it resolved: the same alert and ticket come back (a flap, not news).
  const recent = await trx
    .selectFrom("monitoring_alerts")
    .select(["id", "ticket_id"])
    .where("device_id", "=", device.id)
    .where("check_key", "=", key)
    .where("state", "=", "resolved")
    .where("fired_at", "is not", null)
    .where("resolved_at", ">", new Date(Date.now() - s.reopenSeconds * 1000))
    .orderBy("resolved_at", "desc")
    .limit(1)
    .forUpdate()
    .executeTakeFirst();
  if (recent) {
    await trx
      .updateTable("monitoring_alerts")
      .set((eb) => ({
        state: "firing",
        resolved_at: null,
        resolution: null,
        fired_at: new Date(),
        output,
        flaps: eb("flaps", "+", 1),
        fail_count: 1,
        updated_at: new Date(),
        version: eb("version", "+", 1),
      }))
      .where("id", "=", recent.id)
      .execute();
    const uplink = await uplinkSiteOf(trx, checkId);
    if (uplink) {
      // A connection check failing again: the site's outage again (the same incident if still open).
      const ticketId = await joinUplinkIncident(trx, uplink, {
        id: recent.id,
        name: check.name,
        hostname: device.hostname,
        output,
      });
      await alertEvent(trx, "monitoring.alert_fired", device.client_id, recent.id, ticketId);
      return null;
    }
    if (recent.ticket_id)
      await reopenTicket(
        trx,
        recent.ticket_id,
        `${check.name} on ${device.hostname} is failing again: ${output}`,
      );
    await alertEvent(trx, "monitoring.alert_fired", device.client_id, recent.id, recent.ticket_id);
    return null;
  }

  const firesNow = check.fail_after <= 1;
  const inserted = await trx
    .insertInto("monitoring_alerts")
    .values({
      client_id: device.client_id,
      site_id: device.site_id,
      device_id: device.id,
      check_id: checkId,
      check_key: key,
      kind: check.kind,
      name: check.name,
      severity: check.severity,
      state: firesNow ? "firing" : "pending",
      output,
      fail_count: 1,
      fired_at: firesNow ? new Date() : null,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  if (!firesNow) {
    await alertEvent(trx, "monitoring.alert_pending", device.client_id, inserted.id, null);
    return null;
  }
  return fire(trx, device, check, inserted.id, output, s);
}

/**
 * The alert fires: its ticket now (unless a maintenance window or snooze holds it back; the sweep opens
 * it when they end), and the check's remediation to try once.
 */
async function fire(
  trx: Transaction<DB>,
  device: DeviceRow,
  check: EffectiveCheck,
  alertId: string,
  output: string,
  s: IngestSettings,
): Promise<Remediation | null> {
  const uplink = await uplinkSiteOf(trx, check.id);
  if (uplink) {
    // The site's connection is down: the site's outage incident and its one P1, not a ticket of its own.
    const ticketId = await joinUplinkIncident(trx, uplink, {
      id: alertId,
      name: check.name,
      hostname: device.hostname,
      output,
    });
    await alertEvent(trx, "monitoring.alert_fired", device.client_id, alertId, ticketId);
    return null;
  }
  const { rows } = await sql<{ held: boolean; client_name: string }>`
    select exists (
      select 1 from monitoring_maintenance m
      where m.client_id = ${device.client_id} and now() >= m.starts_at and now() < m.ends_at
        and (m.site_id is null or m.site_id = ${device.site_id}) and (m.device_id is null or m.device_id = ${device.id})
    ) as held, (select name from clients where id = ${device.client_id}) as client_name`.execute(trx);
  let ticketId: string | null = null;
  const held = !!rows[0]?.held;
  // Firings of one check at one client are decided one at a time, so a storm across devices finds the
  // first ticket; other clients' firings of the same (MSP-wide) check never wait for these. (Taken first:
  // joining sets the alert's ticket_id, a key-share lock on the ticket row that a lock holder noting on
  // that ticket would wait for.)
  await sql`select pg_advisory_xact_lock(hashtext(${check.id}), hashtext(${device.client_id}))`.execute(trx);
  const sibling = held
    ? undefined
    : await trx
        .selectFrom("monitoring_alerts as a")
        .innerJoin("tickets as t", "t.id", "a.ticket_id")
        .select("a.ticket_id")
        .where("a.check_id", "=", check.id)
        // A ticket is one client's: another client's devices failing the same check get their own.
        .where("a.client_id", "=", device.client_id)
        .where("a.state", "=", "firing")
        .where("a.id", "<>", alertId)
        .where("t.is_open", "=", true)
        .where("a.fired_at", ">", new Date(Date.now() - s.groupSeconds * 1000))
        .orderBy("a.fired_at")
        .limit(1)
        .executeTakeFirst();
  if (sibling?.ticket_id) {
    ticketId = sibling.ticket_id;
    await trx
      .updateTable("monitoring_alerts")
      .set({ ticket_id: ticketId })
      .where("id", "=", alertId)
      .execute();
    // A storm joins hundreds of devices: the first ones are noted, the rest are in the ticket's alert list.
    // Counted up to the last one noted: a storm's thousandth device does not count the 999 before it.
    const { rows: joined } = await sql<{ n: number }>`
      select count(*)::int as n from (
        select 1 from monitoring_alerts where ticket_id = ${ticketId} limit ${GROUP_NOTES + 2}) j`.execute(
      trx,
    );
    const n = joined[0]?.n ?? 0;
    if (n <= GROUP_NOTES) await noteOnTicket(trx, ticketId, `Also failing on ${device.hostname}: ${output}`);
    else if (n === GROUP_NOTES + 1)
      await noteOnTicket(
        trx,
        ticketId,
        "More devices are failing this check: see the alerts on this ticket.",
      );
  } else if (!held) {
    const ticket = await ticketAlert(trx, {
      id: alertId,
      client_id: device.client_id,
      site_id: device.site_id,
      severity: check.severity,
      name: check.name,
      output,
      kind: check.kind,
      hostname: device.hostname,
      client_name: rows[0]?.client_name ?? "",
      fired_at: new Date(),
    });
    ticketId = ticket?.id ?? null;
  }
  await alertEvent(trx, "monitoring.alert_fired", device.client_id, alertId, ticketId);
  if (!check.remediation) return null;
  await trx.updateTable("monitoring_alerts").set({ remediated: true }).where("id", "=", alertId).execute();
  if (ticketId)
    await noteOnTicket(
      trx,
      ticketId,
      `Trying the check's remediation once: ${remediationText(check.remediation)}.`,
    );
  return { alertId, deviceId: device.id, ticketId, command: check.remediation };
}

export const remediationText = (r: CheckRemediation) =>
  r.kind === "service.restart" ? `restart service ${r.name}` : `run its ${r.interpreter} script`;

/** The signed command a remediation becomes. */
export const remediationCommand = (r: CheckRemediation) =>
  r.kind === "service.restart"
    ? { kind: "service.restart" as const, name: r.name, timeoutSeconds: 120 }
    : {
        kind: "script.run" as const,
        interpreter: r.interpreter,
        script: r.script,
        timeoutSeconds: r.timeoutSeconds,
        outputLimitBytes: 64 * 1024,
      };
