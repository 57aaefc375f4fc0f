import { sql, type Transaction } from "kysely";
import type { DB } from "../../db/schema.ts";
import { emitEvent } from "../events/outbox.ts";
import { decideTicket } from "./rules.ts";
import { monitorActor, noteOnTicket, openAlertTicket } from "./tickets.ts";

// A site outage is one incident with one P1 ticket. It opens when enough of the site's devices go offline
// together (the sweep), or at once when a check watching the site's connection fires (results.ts); the
// site's offline alerts and its connection checks' alerts attach to it, and it resolves with the last.

/** Sites and devices in a maintenance window now: their alerts open, but make no ticket until it ends. */
export const inMaintenance = (alias: string, site: "device" | "site") =>
  sql.raw(`exists (
  select 1 from monitoring_maintenance m
  where m.client_id = ${alias}.client_id and now() >= m.starts_at and now() < m.ends_at
    and (m.site_id is null or m.site_id = ${alias}.site_id)
    and ${site === "device" ? `(m.device_id is null or m.device_id = ${alias}.device_id)` : "m.device_id is null"})`);

export interface OpenIncident {
  id: string;
  ticket_id: string | null;
  created: boolean;
}

/** The site's open outage incident, opened if there is none, locked for the caller's transaction. */
export async function openSiteIncident(
  trx: Transaction<DB>,
  site: { siteId: string; clientId: string },
): Promise<OpenIncident> {
  const created = await sql`
    insert into monitoring_incidents (client_id, site_id, kind) values (${site.clientId}, ${site.siteId}, 'site_offline')
    on conflict do nothing returning id`.execute(trx);
  const incident = await trx
    .selectFrom("monitoring_incidents")
    .select(["id", "ticket_id"])
    .where("site_id", "=", site.siteId)
    .where("kind", "=", "site_offline")
    .where("state", "=", "open")
    .forUpdate()
    .executeTakeFirstOrThrow();
  return { ...incident, created: created.rows.length > 0 };
}

/**
 * Opens the incident's P1 ticket, naming what is down: the devices that stopped reporting and the
 * connection checks that fail. Null while a maintenance window of the site holds it (the sweep opens it
 * when the window ends).
 */
export async function ticketIncident(trx: Transaction<DB>, incidentId: string) {
  const { rows: head } = await sql<{
    client_id: string;
    site_id: string;
    site_name: string;
    client_name: string;
    held: boolean;
    total: number;
    opened_at: Date;
  }>`
    select i.client_id, i.opened_at, i.site_id, s.name as site_name, c.name as client_name,
      ${inMaintenance("i", "site")} as held,
      (select count(*)::int from devices d where d.site_id = i.site_id and d.retired_at is null
        and d.last_seen_at is not null) as total
    from monitoring_incidents i join sites s on s.id = i.site_id join clients c on c.id = i.client_id
    where i.id = ${incidentId} and i.ticket_id is null`.execute(trx);
  const inc = head[0];
  if (!inc || inc.held) return null;
  const { rows: alerts } = await sql<{
    check_key: string;
    name: string;
    output: string;
    hostname: string;
    first_failed_at: Date;
  }>`
    select a.check_key, a.name, a.output, d.hostname, a.first_failed_at
    from monitoring_alerts a join devices d on d.id = a.device_id
    where a.incident_id = ${incidentId} and a.state <> 'resolved' order by d.hostname`.execute(trx);
  const offline = alerts.filter((a) => a.check_key === "offline");
  const uplinks = alerts.filter((a) => a.check_key !== "offline");
  const lines: string[] = [];
  if (uplinks.length)
    lines.push(
      `The check${uplinks.length > 1 ? "s" : ""} watching the connection of ${inc.client_name}, ${inc.site_name} failed:`,
      ...uplinks.map((a) => `- ${a.name} from ${a.hostname}: ${a.output}`),
      "",
    );
  if (offline.length)
    lines.push(
      `${offline.length} of ${inc.total} devices at ${inc.client_name}, ${inc.site_name} stopped reporting:`,
      ...offline.map((d) => `- ${d.hostname}: last heard ${d.first_failed_at.toISOString()}`),
      "",
    );
  lines.push(
    uplinks.length
      ? "The site's network or internet connection is down; its machines are likely unreachable too."
      : "Likely the site's network, power or internet connection rather than the machines.",
  );
  // A site outage is always one P1 ticket: the rule a critical offline alert matches routes it.
  const rule = await decideTicket(trx, {
    clientId: inc.client_id,
    severity: "critical",
    kind: "offline",
    at: inc.opened_at,
  });
  const ticket = await openAlertTicket(
    trx,
    {
      clientId: inc.client_id,
      siteId: inc.site_id,
      subject: offline.length
        ? `Site offline: ${inc.site_name} (${offline.length} of ${inc.total} devices)`
        : `Site offline: ${inc.site_name} (${uplinks[0]?.name ?? "connection check"} failing)`,
      description: lines.join("\n"),
    },
    { ...rule, priority: 1 },
  );
  await sql`update monitoring_incidents set ticket_id = ${ticket.id}, resolve_on_recovery = ${rule.resolveOnRecovery}
    where id = ${incidentId}`.execute(trx);
  return ticket;
}

/** The site whose connection a check watches, with its client; null for every other check. */
export async function uplinkSiteOf(trx: Transaction<DB>, checkId: string | null) {
  if (!checkId) return null;
  const row = await trx
    .selectFrom("monitoring_checks as c")
    .innerJoin("sites as s", "s.id", "c.uplink_site_id")
    .select(["s.id as siteId", "s.client_id as clientId"])
    .where("c.id", "=", checkId)
    .executeTakeFirst();
  return row ?? null;
}

/**
 * A connection check fired (or failed again soon after resolving): its alert joins the site's outage
 * incident, opened now with its P1 if there is none; no ticket of its own.
 */
export async function joinUplinkIncident(
  trx: Transaction<DB>,
  site: { siteId: string; clientId: string },
  alert: { id: string; name: string; hostname: string; output: string },
) {
  const incident = await openSiteIncident(trx, site);
  await sql`update monitoring_alerts set incident_id = ${incident.id}, ticket_id = null, updated_at = now()
    where id = ${alert.id}`.execute(trx);
  if (incident.created)
    await emitEvent(trx, monitorActor, {
      type: "monitoring.incident_opened",
      clientId: site.clientId,
      payload: { incidentId: incident.id, siteId: site.siteId, devices: 0, cause: "connection check" },
    });
  if (incident.ticket_id) {
    await noteOnTicket(
      trx,
      incident.ticket_id,
      `${alert.name} from ${alert.hostname} is failing: ${alert.output}`,
    );
    return incident.ticket_id;
  }
  return (await ticketIncident(trx, incident.id))?.id ?? null;
}

/** A note on the incident's ticket, if it has one yet. */
export async function noteOnIncident(trx: Transaction<DB>, incidentId: string, body: string) {
  const inc = await trx
    .selectFrom("monitoring_incidents")
    .select("ticket_id")
    .where("id", "=", incidentId)
    .executeTakeFirst();
  if (inc?.ticket_id) await noteOnTicket(trx, inc.ticket_id, body);
}
