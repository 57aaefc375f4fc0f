import { sql, type Transaction } from "kysely";
import type { Database } from "../../db/database.ts";
import type { AlertSeverity, DB } from "../../db/schema.ts";
import { asSystem } from "../../db/scope.ts";
import { emitEvent } from "../events/outbox.ts";
import { inMaintenance, openSiteIncident, ticketIncident } from "./incidents.ts";
import { extendMaintenanceSeries } from "./maintenance-series.ts";
import { decideTicket } from "./rules.ts";
import {
  monitorActor,
  noteOnTicket,
  openAlertTicket,
  reopenTicket,
  resolveTicket,
  resolveTicketUnlessShared,
} from "./tickets.ts";

export interface SweepSettings {
  /** A device silent this long is offline for monitoring (agents reconnecting after a restart are not). */
  offlineGraceSeconds: number;
  /** Back online this long before its alert resolves: a device bouncing on and off stays one alert. */
  recoverSeconds: number;
  /** An offline alert waits this long for its site's other devices before it opens a ticket of its own. */
  correlationSeconds: number;
  /** A site is down when at least this many of its devices and this share of them are offline. */
  siteMinOffline: number;
  siteOfflinePercent: number;
  /** An alert failing again this soon after it resolved reopens (with its ticket) instead of a new one. */
  reopenSeconds: number;
  /** Hourly metric history older than this is deleted (a bounded batch per pass). */
  metricDays?: number;
}

export interface SweepOutcome {
  opened: number;
  reopened: number;
  resolved: number;
  incidentsOpened: number;
  incidentsResolved: number;
  tickets: number;
}

// One lock for the whole sweep: several workers may run it, one at a time does the work.
const SWEEP_LOCK = 0x6d6f6e31; // "mon1"

/**
 * The server-side half of monitoring, run every few seconds by a worker: device offline alerts from the
 * presence the gateways keep in `devices` (so every gateway process counts, and a restart loses nothing:
 * all state is in the database), site correlation, recovery, and tickets for alerts that still need one.
 */
export async function runSweep(db: Database, s: SweepSettings): Promise<SweepOutcome | null> {
  return asSystem(() =>
    db.transaction().execute(async (trx) => {
      const { rows } = await sql<{
        ok: boolean;
      }>`select pg_try_advisory_xact_lock(${SWEEP_LOCK}) as ok`.execute(trx);
      if (!rows[0]?.ok) return null;
      const out: SweepOutcome = {
        opened: 0,
        reopened: 0,
        resolved: 0,
        incidentsOpened: 0,
        incidentsResolved: 0,
        tickets: 0,
      };
      await extendMaintenanceSeries(trx);
      await recover(trx, s, out);
      await openOffline(trx, s, out);
      await correlateSites(trx, s, out);
      await resolveIncidents(trx, out);
      await ticketWaitingAlerts(trx, s, out);
      if (s.metricDays)
        await sql`delete from monitoring_metrics where ctid = any(array(
          select ctid from monitoring_metrics where hour < now() - make_interval(days => ${s.metricDays}) limit 5000))`.execute(
          trx,
        );
      return out;
    }),
  );
}

const minutes = (from: Date) => Math.max(1, Math.round((Date.now() - from.getTime()) / 60_000));

async function recover(trx: Transaction<DB>, s: SweepSettings, out: SweepOutcome) {
  // A retired device never comes back: its open alerts (and their tickets) resolve.
  const retired = await sql<{ ticket_id: string | null; hostname: string }>`
    update monitoring_alerts a set state = 'resolved', resolved_at = now(), resolution = 'device retired',
      recovering_since = null, updated_at = now(), version = a.version + 1
    from devices d
    where a.device_id = d.id and a.state <> 'resolved' and d.retired_at is not null
    returning a.ticket_id, d.hostname`.execute(trx);
  for (const a of retired.rows) {
    out.resolved++;
    if (a.ticket_id)
      await resolveTicketUnlessShared(trx, a.ticket_id, `${a.hostname} was retired; its alert is resolved.`);
  }
  // Dropped again while recovering: a flap, the alert stays as it is.
  await sql`
    update monitoring_alerts a set recovering_since = null, flaps = a.flaps + 1, updated_at = now()
    from devices d
    where a.device_id = d.id and a.check_key = 'offline' and a.state <> 'resolved'
      and a.recovering_since is not null and not d.online`.execute(trx);
  await sql`
    update monitoring_alerts a set recovering_since = now(), updated_at = now()
    from devices d
    where a.device_id = d.id and a.check_key = 'offline' and a.state <> 'resolved'
      and a.recovering_since is null and d.online`.execute(trx);
  const { rows } = await sql<{
    id: string;
    ticket_id: string | null;
    incident_id: string | null;
    hostname: string;
    first_failed_at: Date;
    client_id: string;
  }>`
    update monitoring_alerts a set state = 'resolved', resolved_at = now(), resolution = 'back online',
      recovering_since = null, updated_at = now(), version = a.version + 1
    from devices d
    where a.device_id = d.id and a.check_key = 'offline' and a.state <> 'resolved' and d.online
      and a.recovering_since < now() - make_interval(secs => ${s.recoverSeconds})
    returning a.id, a.ticket_id, a.incident_id, d.hostname, a.first_failed_at, a.client_id`.execute(trx);
  for (const a of rows) {
    out.resolved++;
    const text = `${a.hostname} is back online (offline for ${minutes(a.first_failed_at)} min).`;
    if (a.incident_id) {
      const inc = await trx
        .selectFrom("monitoring_incidents")
        .select("ticket_id")
        .where("id", "=", a.incident_id)
        .executeTakeFirst();
      if (inc?.ticket_id) await noteOnTicket(trx, inc.ticket_id, text);
    }
    if (a.ticket_id) await resolveTicket(trx, a.ticket_id, `${text} Alert resolved.`);
    await alertEvent(trx, "monitoring.alert_resolved", a.client_id, a.id, a.ticket_id);
  }
}

async function openOffline(trx: Transaction<DB>, s: SweepSettings, out: SweepOutcome) {
  const down = sql`
    select d.id, d.client_id, d.site_id, d.hostname, d.last_seen_at from devices d
    where not d.online and d.retired_at is null and d.last_seen_at is not null
      and d.last_seen_at < now() - make_interval(secs => ${s.offlineGraceSeconds})
      and not exists (select 1 from monitoring_alerts o
        where o.device_id = d.id and o.check_key = 'offline' and o.state <> 'resolved')`;
  // Offline again soon after it resolved: the same alert (and ticket) comes back.
  const reopened = await sql<{ id: string; ticket_id: string | null; hostname: string; client_id: string }>`
    with down as (${down}),
    latest as (
      select distinct on (a.device_id) a.id, down.hostname from monitoring_alerts a join down on down.id = a.device_id
      where a.check_key = 'offline' and a.state = 'resolved'
        and a.resolved_at > now() - make_interval(secs => ${s.reopenSeconds})
      order by a.device_id, a.resolved_at desc
    )
    update monitoring_alerts a set state = 'firing', resolved_at = null, resolution = null, fired_at = now(),
      flaps = a.flaps + 1, updated_at = now(), version = a.version + 1
    from latest where a.id = latest.id
    returning a.id, a.ticket_id, latest.hostname, a.client_id`.execute(trx);
  for (const a of reopened.rows) {
    out.reopened++;
    if (a.ticket_id)
      await reopenTicket(trx, a.ticket_id, `${a.hostname} went offline again; the alert reopened.`);
    await alertEvent(trx, "monitoring.alert_fired", a.client_id, a.id, a.ticket_id);
  }
  const inserted = await sql<{ id: string; client_id: string }>`
    insert into monitoring_alerts (client_id, site_id, device_id, check_key, kind, name, severity, state,
      output, fail_count, first_failed_at, fired_at)
    select client_id, site_id, id, 'offline', 'offline', 'Device offline', 'high', 'firing',
      'No contact from the agent since ' || to_char(last_seen_at at time zone 'UTC', 'YYYY-MM-DD HH24:MI:SS') || ' UTC',
      1, last_seen_at, now()
    from (${down}) down
    on conflict do nothing
    returning id, client_id`.execute(trx);
  for (const a of inserted.rows) {
    out.opened++;
    await alertEvent(trx, "monitoring.alert_fired", a.client_id, a.id, null);
  }
}

async function correlateSites(trx: Transaction<DB>, s: SweepSettings, out: SweepOutcome) {
  const { rows: sites } = await sql<{
    site_id: string;
    client_id: string;
    down: number;
    total: number;
    has_incident: boolean;
  }>`
    with down as (
      select site_id, client_id, count(*)::int as down from monitoring_alerts
      where check_key = 'offline' and state = 'firing' and recovering_since is null and site_id is not null
      group by site_id, client_id
    )
    select down.site_id, down.client_id, down.down,
      (select count(*)::int from devices d where d.site_id = down.site_id and d.retired_at is null
        and d.last_seen_at is not null) as total,
      exists (select 1 from monitoring_incidents i where i.site_id = down.site_id and i.kind = 'site_offline'
        and i.state = 'open') as has_incident
    from down`.execute(trx);
  for (const site of sites) {
    // A site already in an outage (its connection check failed, or earlier devices) takes every device
    // that drops; otherwise enough of them must be down together.
    if (
      !site.has_incident &&
      (site.down < s.siteMinOffline || site.down * 100 < site.total * s.siteOfflinePercent)
    )
      continue;
    const incident = await openSiteIncident(trx, { siteId: site.site_id, clientId: site.client_id });
    const attached = await sql<{ hostname: string; ticket_id: string | null }>`
      update monitoring_alerts a set incident_id = ${incident.id}, updated_at = now()
      from devices d
      where d.id = a.device_id and a.site_id = ${site.site_id} and a.check_key = 'offline'
        and a.state <> 'resolved' and a.incident_id is null
      returning d.hostname, a.ticket_id`.execute(trx);
    if (!attached.rows.length) continue;
    const hosts = attached.rows.map((r) => r.hostname).sort();
    if (incident.ticket_id)
      await noteOnTicket(trx, incident.ticket_id, `Also offline now: ${hosts.join(", ")}.`);
    if (incident.created) {
      out.incidentsOpened++;
      await emitEvent(trx, monitorActor, {
        type: "monitoring.incident_opened",
        clientId: site.client_id,
        payload: { incidentId: incident.id, siteId: site.site_id, devices: hosts.length },
      });
    }
    for (const r of attached.rows) {
      if (r.ticket_id)
        await noteOnTicket(
          trx,
          r.ticket_id,
          "This device is part of a site outage; follow the site's ticket.",
        );
    }
  }
  // Incidents with no ticket yet (new, or their maintenance window just ended).
  const waiting = await sql<{ id: string }>`
    select i.id from monitoring_incidents i
    where i.state = 'open' and i.ticket_id is null and not ${inMaintenance("i", "site")}
    for update of i skip locked`.execute(trx);
  for (const inc of waiting.rows) if (await ticketIncident(trx, inc.id)) out.tickets++;
}

async function resolveIncidents(trx: Transaction<DB>, out: SweepOutcome) {
  const { rows } = await sql<{ id: string; ticket_id: string | null; client_id: string; opened_at: Date }>`
    update monitoring_incidents i set state = 'resolved', resolved_at = now()
    where i.state = 'open' and not exists (
      select 1 from monitoring_alerts a where a.incident_id = i.id and a.state <> 'resolved')
    returning i.id, i.ticket_id, i.client_id, i.opened_at`.execute(trx);
  for (const i of rows) {
    out.incidentsResolved++;
    if (i.ticket_id)
      await resolveTicket(
        trx,
        i.ticket_id,
        `Every device of the site is back online; the site outage lasted about ${minutes(i.opened_at)} min.`,
      );
    await emitEvent(trx, monitorActor, {
      type: "monitoring.incident_resolved",
      clientId: i.client_id,
      ticketId: i.ticket_id,
      payload: { incidentId: i.id },
    });
  }
}

/**
 * Firing alerts without a ticket: offline alerts once their site had the chance to correlate, check alerts
 * whose maintenance window or snooze ended. Locked rows are another transaction ticketing them now.
 */
async function ticketWaitingAlerts(trx: Transaction<DB>, s: SweepSettings, out: SweepOutcome) {
  const { rows } = await sql<WaitingAlert>`
    select a.id, a.client_id, a.site_id, a.severity, a.name, a.output, a.kind, d.hostname, c.name as client_name,
      a.fired_at
    from monitoring_alerts a join devices d on d.id = a.device_id join clients c on c.id = a.client_id
    where a.state = 'firing' and a.ticket_id is null and a.incident_id is null and not a.no_ticket
      and (a.snoozed_until is null or a.snoozed_until < now())
      and (a.kind <> 'offline' or a.fired_at < now() - make_interval(secs => ${s.correlationSeconds}))
      and not ${inMaintenance("a", "device")}
    order by a.fired_at limit 200
    for update of a skip locked`.execute(trx);
  for (const a of rows) if (await ticketAlert(trx, a)) out.tickets++;
}

export interface WaitingAlert {
  id: string;
  client_id: string;
  site_id: string | null;
  severity: AlertSeverity;
  name: string;
  output: string;
  kind: string;
  hostname: string;
  client_name: string;
  /** When it fired: the ticket rules judge business hours at this instant. */
  fired_at: Date | null;
}

/**
 * Opens the alert's ticket (in the caller's transaction, the alert row locked by it) as the first
 * matching ticket rule says; null when that rule keeps the alert an alert only (on the Alerts page).
 */
export async function ticketAlert(trx: Transaction<DB>, a: WaitingAlert) {
  const rule = await decideTicket(trx, {
    clientId: a.client_id,
    severity: a.severity,
    kind: a.kind,
    // A firing alert always has its time; a row written by hand without one is judged now.
    at: a.fired_at ?? new Date(),
  });
  if (!rule.openTicket) {
    await sql`update monitoring_alerts set no_ticket = true where id = ${a.id}`.execute(trx);
    return null;
  }
  const subject = a.kind === "offline" ? `${a.hostname} is offline` : `${a.hostname}: ${a.name} failing`;
  const ticket = await openAlertTicket(
    trx,
    {
      clientId: a.client_id,
      siteId: a.site_id,
      subject,
      description: `Monitoring alert on ${a.hostname} (${a.client_name}).\nCheck: ${a.name} (${a.kind}), severity ${a.severity}.\n\nOutput:\n${a.output}`,
    },
    rule,
  );
  await sql`update monitoring_alerts set ticket_id = ${ticket.id}, resolve_on_recovery = ${rule.resolveOnRecovery},
      updated_at = now() where id = ${a.id}`.execute(trx);
  return ticket;
}

export async function alertEvent(
  trx: Transaction<DB>,
  type: string,
  clientId: string,
  alertId: string,
  ticketId: string | null,
) {
  await emitEvent(trx, monitorActor, { type, clientId, ticketId, payload: { alertId } });
}
