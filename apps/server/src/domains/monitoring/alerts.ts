import { type AlertDto, type AlertListQuery, CheckRemediation } from "@switchboard/shared";
import { type Kysely, sql, type Transaction } from "kysely";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import type { DB } from "../../db/schema.ts";
import { AppError, notFound, versionConflict } from "../../http/errors.ts";
import { type CommandDeps, createCommand } from "../agents/commands.ts";
import { recordChange } from "../audit/record.ts";
import { type Actor, assertClientVisible, requireWriter } from "../auth/actor.ts";
import { remediationCommand } from "./results.ts";
import { noteOnTicket, resolveTicketUnlessShared } from "./tickets.ts";

type Db = Kysely<DB> | Transaction<DB>;

function alertQuery(db: Db) {
  return (
    db
      .selectFrom("monitoring_alerts as a")
      .innerJoin("devices as d", "d.id", "a.device_id")
      .innerJoin("clients as c", "c.id", "a.client_id")
      .leftJoin("sites as s", "s.id", "a.site_id")
      .leftJoin("monitoring_incidents as mi", "mi.id", "a.incident_id")
      // An alert of a site outage shows the incident's ticket.
      .leftJoin("tickets as t", (j) => j.on(sql<boolean>`t.id = coalesce(a.ticket_id, mi.ticket_id)`))
      .leftJoin("users as u", "u.id", "a.acknowledged_by_user_id")
      .leftJoin("device_commands as dc", "dc.id", "a.remediation_command_id")
      .leftJoin("monitoring_checks as mc", "mc.id", "a.check_id")
      .selectAll("a")
      .select([
        "d.hostname",
        "c.name as client_name",
        "s.name as site_name",
        "t.id as shown_ticket_id",
        "t.number as ticket_number",
        "t.priority as ticket_priority",
        "u.name as ack_name",
        "dc.status as command_status",
        "dc.kind as command_kind",
        "dc.error as command_error",
        "dc.exit_code as command_exit_code",
        sql<string | null>`mc.config->>'service'`.as("service"),
      ])
  );
}
type AlertRow = Awaited<ReturnType<ReturnType<typeof alertQuery>["executeTakeFirstOrThrow"]>>;

export function toAlertDto(r: AlertRow): AlertDto {
  const iso = (d: Date | null) => (d ? d.toISOString() : null);
  return {
    id: r.id,
    number: Number(r.number),
    clientId: r.client_id,
    clientName: r.client_name,
    siteId: r.site_id,
    siteName: r.site_name,
    deviceId: r.device_id,
    hostname: r.hostname,
    checkId: r.check_id,
    kind: r.kind,
    name: r.name,
    severity: r.severity,
    state: r.state,
    output: r.output,
    failCount: r.fail_count,
    flaps: r.flaps,
    firstFailedAt: r.first_failed_at.toISOString(),
    firedAt: iso(r.fired_at),
    resolvedAt: iso(r.resolved_at),
    resolution: r.resolution,
    acknowledgedAt: iso(r.acknowledged_at),
    acknowledgedBy: r.ack_name,
    snoozedUntil: iso(r.snoozed_until),
    incidentId: r.incident_id,
    ticket:
      r.shown_ticket_id && r.ticket_number !== null
        ? { id: r.shown_ticket_id, number: Number(r.ticket_number), priority: r.ticket_priority ?? 3 }
        : null,
    service: r.service,
    remediation:
      r.remediation_command_id && r.command_status
        ? {
            commandId: r.remediation_command_id,
            kind: r.command_kind ?? "",
            status: r.command_status,
            error: r.command_error,
            exitCode: r.command_exit_code,
          }
        : null,
    version: r.version,
  };
}

const SEVERITY_ORDER = sql`case a.severity when 'critical' then 0 when 'high' then 1 when 'medium' then 2 else 3 end`;

export async function listAlerts(db: Database, actor: Actor, q: z.output<typeof AlertListQuery>) {
  let query = alertQuery(db);
  if (q.state === "open") query = query.where("a.state", "<>", "resolved");
  else if (q.state === "resolved") query = query.where("a.state", "=", "resolved");
  if (q.clientId) query = query.where("a.client_id", "=", q.clientId);
  if (q.siteId) query = query.where("a.site_id", "=", q.siteId);
  if (q.deviceId) query = query.where("a.device_id", "=", q.deviceId);
  if (q.severity) query = query.where("a.severity", "=", q.severity);
  if (actor.clientIds) {
    if (!actor.clientIds.length) return [];
    query = query.where("a.client_id", "in", actor.clientIds);
  }
  const rows = await query
    .orderBy(SEVERITY_ORDER)
    .orderBy("a.first_failed_at", "desc")
    .limit(q.limit)
    .execute();
  return rows.map(toAlertDto);
}

export async function getAlert(db: Db, actor: Actor, id: string) {
  const row = await alertQuery(db).where("a.id", "=", id).executeTakeFirst();
  if (!row) throw notFound("Alert");
  assertClientVisible(actor, row.client_id, "Alert");
  return toAlertDto(row);
}

/** Alerts on a ticket: its own, and those of the site incident it stands for. */
export async function alertsOfTicket(db: Database, actor: Actor, ticketId: string) {
  const ticket = await db
    .selectFrom("tickets")
    .select("client_id")
    .where("id", "=", ticketId)
    .executeTakeFirst();
  if (!ticket) throw notFound("Ticket");
  assertClientVisible(actor, ticket.client_id, "Ticket");
  const rows = await alertQuery(db)
    .where((eb) =>
      eb.or([
        eb("a.ticket_id", "=", ticketId),
        eb(
          "a.incident_id",
          "in",
          eb.selectFrom("monitoring_incidents").select("id").where("ticket_id", "=", ticketId),
        ),
      ]),
    )
    .orderBy("a.first_failed_at")
    .limit(500)
    .execute();
  return rows.map(toAlertDto);
}

async function lockAlert(trx: Transaction<DB>, actor: Actor, id: string, version: number) {
  const row = await trx
    .selectFrom("monitoring_alerts")
    .selectAll()
    .where("id", "=", id)
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw notFound("Alert");
  assertClientVisible(actor, row.client_id, "Alert");
  if (row.version !== version) throw versionConflict(`alert ${row.number}`, await getAlert(trx, actor, id));
  return row;
}

type AlertChange =
  | { action: "acknowledge" }
  | { action: "snooze"; minutes: number }
  | { action: "resolve"; note: string };

/** Acknowledge, snooze or resolve by hand: audited, announced, noted on the alert's ticket. */
export async function changeAlert(
  db: Database,
  actor: Actor,
  id: string,
  version: number,
  change: AlertChange,
) {
  requireWriter(actor);
  await db.transaction().execute(async (trx) => {
    const row = await lockAlert(trx, actor, id, version);
    if (row.state === "resolved")
      throw new AppError("invalid_transition", 409, "The alert is already resolved");
    const now = new Date();
    const set =
      change.action === "acknowledge"
        ? { acknowledged_at: now, acknowledged_by_user_id: actor.userId }
        : change.action === "snooze"
          ? { snoozed_until: new Date(now.getTime() + change.minutes * 60_000) }
          : {
              state: "resolved" as const,
              resolved_at: now,
              resolution: `resolved by ${actor.name}`,
              recovering_since: null,
            };
    await trx
      .updateTable("monitoring_alerts")
      .set((eb) => ({ ...set, updated_at: now, version: eb("version", "+", 1) }))
      .where("id", "=", id)
      .execute();
    const label =
      change.action === "acknowledge"
        ? `${actor.name} acknowledged the alert.`
        : change.action === "snooze"
          ? `${actor.name} snoozed the alert for ${change.minutes} min.`
          : `${actor.name} resolved the alert by hand.${change.note ? ` ${change.note}` : ""}`;
    if (row.ticket_id) {
      if (change.action === "resolve") await resolveTicketUnlessShared(trx, row.ticket_id, label, false);
      else await noteOnTicket(trx, row.ticket_id, label);
    }
    await recordChange(
      trx,
      actor,
      {
        action: `monitoring.alert_${change.action}`,
        entityType: "monitoring_alert",
        entityId: id,
        clientId: row.client_id,
        before: { state: row.state },
        after: change,
      },
      {
        type: change.action === "resolve" ? "monitoring.alert_resolved" : "monitoring.alert_updated",
        clientId: row.client_id,
        ticketId: row.ticket_id,
        payload: { alertId: id },
      },
    );
  });
  return getAlert(db, actor, id);
}

/**
 * "Restart the service" from the alert: a signed command through the agent like any other, written on the
 * alert's ticket; the alert shows its status (and its failure, with the button to try again).
 */
export async function restartFromAlert(deps: CommandDeps, actor: Actor, id: string, service?: string) {
  requireWriter(actor);
  const alert = await getAlert(deps.db, actor, id);
  const name = service ?? alert.service;
  if (!name)
    throw new AppError("invalid_transition", 409, "This alert watches no service; name the one to restart");
  return sendFromAlert(deps, actor, alert, { kind: "service.restart", name, timeoutSeconds: 120 });
}

/** A signed command on the alert's device and ticket, shown on the alert as its remediation. */
async function sendFromAlert(
  deps: CommandDeps,
  actor: Actor,
  alert: AlertDto,
  command: Parameters<typeof createCommand>[3]["command"],
) {
  const sent = await createCommand(deps, actor, alert.deviceId, {
    command,
    ticketId: alert.ticket?.id,
    expiresInSeconds: 600,
  });
  await deps.db
    .updateTable("monitoring_alerts")
    .set({ remediation_command_id: sent.id, updated_at: new Date() })
    .where("id", "=", alert.id)
    .execute();
  return getAlert(deps.db, actor, alert.id);
}

/**
 * The check's own remediation again (a restart or its script), from the alert: after a failed try, the
 * technician's Retry. Signed and recorded on the alert's ticket like the first try.
 */
export async function remediateFromAlert(deps: CommandDeps, actor: Actor, id: string) {
  requireWriter(actor);
  const alert = await getAlert(deps.db, actor, id);
  const check = alert.checkId
    ? await deps.db
        .selectFrom("monitoring_checks")
        .select("remediation")
        .where("id", "=", alert.checkId)
        .executeTakeFirst()
    : undefined;
  const parsed = CheckRemediation.safeParse(check?.remediation);
  if (!parsed.success)
    throw new AppError("invalid_transition", 409, "This alert's check has no remediation to try");
  if (alert.state === "resolved")
    throw new AppError("invalid_transition", 409, "The alert is already resolved");
  return sendFromAlert(deps, actor, alert, remediationCommand(parsed.data));
}
