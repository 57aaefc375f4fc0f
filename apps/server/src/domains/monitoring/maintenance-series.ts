import type { CreateMaintenanceSeriesRequest, MaintenanceSeriesDto } from "@switchboard/shared";
import { sql, type Transaction } from "kysely";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import type { DB } from "../../db/schema.ts";
import { invalid, notFound } from "../../http/errors.ts";
import { recordChange } from "../audit/record.ts";
import { type Actor, assertClientVisible, canSeeClient, requireWriter } from "../auth/actor.ts";
import { CronError, nextDue, parseCron, validZone, zonedToUtc } from "./cron.ts";
import { windowScope } from "./device.ts";

// Recurring maintenance windows. A series keeps its occurrences written ahead (HORIZON_DAYS) as ordinary
// monitoring_maintenance rows, so "is this device in maintenance now" stays one indexed query everywhere
// (results.ts, the sweep, incidents). Starts are read in the series' time zone with the task scheduler's
// cron: `0 2 * * 0` is 02:00 local every Sunday in winter and in summer.

/** How far ahead occurrences are written; the sweep extends a series a day before it runs out. */
export const HORIZON_DAYS = 14;
/** At most this many occurrences written per series per pass (a day's worth of hourly windows, twice). */
const MAX_PER_PASS = 48 * HORIZON_DAYS;

type SeriesIn = z.output<typeof CreateMaintenanceSeriesRequest>;

interface Series {
  id: string;
  client_id: string;
  site_id: string | null;
  device_id: string | null;
  cron: string;
  duration_minutes: number;
  time_zone: string;
  until: string | null;
  reason: string;
  created_by_user_id: string | null;
  materialized_until: Date | null;
}

/**
 * The cron a window series may use: valid, and starting at one minute of the hour (a window every minute
 * is not maintenance, and would write thousands of rows).
 */
function parseSeriesCron(expr: string) {
  let cron: ReturnType<typeof parseCron>;
  try {
    cron = parseCron(expr);
  } catch (err) {
    if (err instanceof CronError) throw invalid("body.cron", err.message);
    throw err;
  }
  if (cron.minute.size !== 1)
    throw invalid("body.cron", "a window starts at one minute of the hour (such as 0 2 * * 0)");
  return cron;
}

/** The end of the series' last day, in its zone (exclusive), or null. */
const untilInstant = (s: Pick<Series, "until" | "time_zone">) =>
  s.until ? new Date(zonedToUtc(Date.parse(`${s.until}T00:00:00Z`) + 86_400_000, s.time_zone)) : null;

/**
 * Writes the occurrences of one series from where it stopped (or from the window in force now) up to
 * `now` + HORIZON_DAYS. Idempotent: an occurrence is unique by (series, start).
 */
async function extend(trx: Transaction<DB>, s: Series, now: Date) {
  const cron = parseCron(s.cron);
  const zone = validZone(s.time_zone);
  const horizon = new Date(now.getTime() + HORIZON_DAYS * 86_400_000);
  const last = untilInstant(s);
  // Starting strictly after this: the window that began before now and has not ended counts.
  let after = new Date(
    Math.max(s.materialized_until?.getTime() ?? 0, now.getTime() - s.duration_minutes * 60_000 - 1),
  );
  const starts: Date[] = [];
  while (starts.length < MAX_PER_PASS) {
    const at = nextDue(cron, zone, after);
    if (!at || at > horizon || (last && at >= last)) break;
    starts.push(at);
    after = at;
  }
  if (starts.length)
    await sql`
      insert into monitoring_maintenance (client_id, site_id, device_id, starts_at, ends_at, reason,
        created_by_user_id, series_id)
      select ${s.client_id}::uuid, ${s.site_id}::uuid, ${s.device_id}::uuid, v.at,
        v.at + make_interval(mins => ${s.duration_minutes}), ${s.reason}, ${s.created_by_user_id}::uuid, ${s.id}::uuid
      from unnest(${starts.map((d) => d.toISOString())}::timestamptz[]) as v(at)
      on conflict do nothing`.execute(trx);
  const reached = starts.length === MAX_PER_PASS ? starts.at(-1)! : horizon;
  await trx
    .updateTable("monitoring_maintenance_series")
    .set({ materialized_until: reached })
    .where("id", "=", s.id)
    .execute();
}

/** The sweep's part: series whose written occurrences run out within a day get the next ones. */
export async function extendMaintenanceSeries(trx: Transaction<DB>, now = new Date()) {
  const due = await trx
    .selectFrom("monitoring_maintenance_series")
    .selectAll()
    .where((eb) =>
      eb.or([
        eb("materialized_until", "is", null),
        eb("materialized_until", "<", new Date(now.getTime() + (HORIZON_DAYS - 1) * 86_400_000)),
      ]),
    )
    .orderBy(sql`materialized_until nulls first`)
    .limit(100)
    .forUpdate()
    .skipLocked()
    .execute();
  for (const s of due) await extend(trx, s, now);
  return due.length;
}

async function toDtos(db: Database | Transaction<DB>, rows: Series[]): Promise<MaintenanceSeriesDto[]> {
  if (!rows.length) return [];
  const nexts = await sql<{ series_id: string; starts_at: Date; ends_at: Date }>`
    select distinct on (series_id) series_id, starts_at, ends_at from monitoring_maintenance
    where series_id = any(${rows.map((r) => r.id)}::uuid[]) and ends_at > now()
    order by series_id, starts_at`.execute(db);
  const next = new Map(nexts.rows.map((n) => [n.series_id, n]));
  const now = Date.now();
  return rows.map((r) => {
    const n = next.get(r.id);
    return {
      id: r.id,
      clientId: r.client_id,
      siteId: r.site_id,
      deviceId: r.device_id,
      cron: r.cron,
      durationMinutes: r.duration_minutes,
      timeZone: r.time_zone,
      until: r.until,
      reason: r.reason,
      next: n
        ? {
            startsAt: n.starts_at.toISOString(),
            endsAt: n.ends_at.toISOString(),
            now: n.starts_at.getTime() <= now,
          }
        : null,
    };
  });
}

export async function listMaintenanceSeries(db: Database, actor: Actor, clientId?: string) {
  let q = db.selectFrom("monitoring_maintenance_series").selectAll();
  if (clientId) q = q.where("client_id", "=", clientId);
  const rows = (await q.orderBy("created_at").limit(500).execute()).filter((r) =>
    canSeeClient(actor, r.client_id),
  );
  return toDtos(db, rows);
}

/**
 * A recurring window for a client, one of its sites or one device. Its time zone is the site's (the
 * device's site's), else the MSP's, fixed at save and shown; its first occurrences are written at once.
 */
export async function createMaintenanceSeries(db: Database, actor: Actor, input: SeriesIn) {
  requireWriter(actor);
  if (!canSeeClient(actor, input.clientId)) throw invalid("body.clientId", "no such client");
  parseSeriesCron(input.cron);
  return db.transaction().execute(async (trx) => {
    const deviceSite = await windowScope(trx, input);
    let siteId = input.siteId;
    if (input.deviceId) {
      if (siteId && deviceSite !== siteId) throw invalid("body.deviceId", "not a device of this site");
      siteId = deviceSite;
    }
    const zone = siteId
      ? await trx.selectFrom("sites").select("timezone").where("id", "=", siteId).executeTakeFirst()
      : await trx.selectFrom("msp").select("timezone").executeTakeFirst();
    const row = await trx
      .insertInto("monitoring_maintenance_series")
      .values({
        client_id: input.clientId,
        site_id: input.siteId,
        device_id: input.deviceId,
        cron: input.cron,
        duration_minutes: input.durationMinutes,
        time_zone: validZone(zone?.timezone),
        until: input.until,
        reason: input.reason,
        created_by_user_id: actor.userId,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await extend(trx, row, new Date());
    const [dto] = await toDtos(trx, [row]);
    await recordChange(
      trx,
      actor,
      {
        action: "monitoring.maintenance_series_create",
        entityType: "monitoring_maintenance_series",
        entityId: row.id,
        clientId: row.client_id,
        after: dto,
      },
      { type: "monitoring.maintenance_changed", clientId: row.client_id, payload: { seriesId: row.id } },
    );
    return dto!;
  });
}

/**
 * Ends a recurring window: the series and every occurrence go, the one in force now too (alerts it held
 * get their tickets on the sweep's next pass).
 */
export async function deleteMaintenanceSeries(db: Database, actor: Actor, id: string) {
  requireWriter(actor);
  await db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom("monitoring_maintenance_series")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    if (!row) throw notFound("Maintenance window");
    assertClientVisible(actor, row.client_id, "Maintenance window");
    const [before] = await toDtos(trx, [row]);
    await trx.deleteFrom("monitoring_maintenance_series").where("id", "=", id).execute();
    await recordChange(
      trx,
      actor,
      {
        action: "monitoring.maintenance_series_delete",
        entityType: "monitoring_maintenance_series",
        entityId: id,
        clientId: row.client_id,
        before,
      },
      { type: "monitoring.maintenance_changed", clientId: row.client_id, payload: { seriesId: id } },
    );
  });
}
