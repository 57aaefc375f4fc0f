import type { CheckResult } from "@switchboard/shared";
import { sql } from "kysely";
import type { Database } from "../../db/database.ts";
import { withAsyncCommit } from "../agents/presence.ts";

// The periodic summaries: every check's latest state and numbers, written like heartbeats (batched
// across devices), and the numbers' hourly history for the device charts.

export interface SummaryBatchItem {
  deviceId: string;
  results: CheckResult[];
}

/**
 * Periodic summaries of many devices in one transaction (the gateway batches them like heartbeats): only
 * states and numbers, no alert moves. A result naming a check that does not exist is skipped; one of
 * another policy only ever lands on the reporting device's own rows, which its Monitoring view ignores.
 */
export async function saveSummaries(db: Database, items: SummaryBatchItem[]) {
  const rows = items.flatMap((i) =>
    [...new Map(i.results.map((r) => [r.checkId, r])).values()].map((r) => ({ d: i.deviceId, r })),
  );
  if (!rows.length) return;
  // One transaction, committed without waiting for the WAL flush, as the heartbeats' flush: a summary
  // lost to a crash in the next fraction of a second is replaced by the next one (no alert moves here).
  await withAsyncCommit(db, async (trx) => {
    await saveStates(trx, rows);
    await saveMetricHistory(
      trx,
      rows.filter((x) => x.r.metrics && Object.keys(x.r.metrics).length),
    );
  });
}

async function saveStates(db: Database, rows: Array<{ d: string; r: CheckResult }>) {
  await sql`
    insert into monitoring_check_states as s (device_id, check_id, client_id, state, output, metrics, streak, changed_at, reported_at)
    select distinct on (v.device_id, v.check_id) v.device_id, v.check_id, d.client_id, v.state, v.output, v.metrics::jsonb, v.streak, v.at, v.at
    from unnest(${rows.map((x) => x.d)}::uuid[], ${rows.map((x) => x.r.checkId)}::uuid[], ${rows.map((x) => x.r.state)}::text[],
      ${rows.map((x) => x.r.output)}::text[], ${rows.map((x) => (x.r.metrics ? JSON.stringify(x.r.metrics) : null))}::text[],
      ${rows.map((x) => x.r.streak)}::int[], ${rows.map((x) => x.r.at)}::timestamptz[])
      as v(device_id, check_id, state, output, metrics, streak, at)
    join devices d on d.id = v.device_id
    join monitoring_checks c on c.id = v.check_id
    order by v.device_id, v.check_id, v.at desc
    on conflict (device_id, check_id) do update set
      state = excluded.state, output = excluded.output, metrics = coalesce(excluded.metrics, s.metrics),
      streak = excluded.streak, reported_at = excluded.reported_at,
      changed_at = case when s.state = excluded.state then s.changed_at else excluded.changed_at end`.execute(
    db,
  );
}

/**
 * The summaries' numbers into hourly buckets, one row per device and hour ({checkId: {n, metric sums}}):
 * history for the device's charts at a fixed size per device and day, whatever the summary interval.
 */
async function saveMetricHistory(db: Database, rows: Array<{ d: string; r: CheckResult }>) {
  if (!rows.length) return;
  const byDevice = new Map<string, { at: string; sums: Record<string, Record<string, number>> }>();
  for (const { d, r } of rows) {
    const e = byDevice.get(d) ?? { at: r.at, sums: {} };
    e.sums[r.checkId] = { n: 1, ...r.metrics };
    byDevice.set(d, e);
  }
  const items = [...byDevice.entries()];
  await sql`
    insert into monitoring_metrics as m (device_id, client_id, hour, sums)
    select v.device_id, d.client_id, date_trunc('hour', v.at), v.sums::jsonb
    from unnest(${items.map(([d]) => d)}::uuid[], ${items.map(([, e]) => JSON.stringify(e.sums))}::text[],
      ${items.map(([, e]) => e.at)}::timestamptz[]) as v(device_id, sums, at)
    join devices d on d.id = v.device_id
    on conflict (device_id, hour) do update set sums = (
      select jsonb_object_agg(c, (
        select jsonb_object_agg(k, coalesce((m.sums->c->>k)::float8, 0) + coalesce((excluded.sums->c->>k)::float8, 0))
        from jsonb_object_keys(coalesce(m.sums->c, '{}') || coalesce(excluded.sums->c, '{}')) as k))
      from jsonb_object_keys(m.sums || excluded.sums) as c)`.execute(db);
}

/** Hourly averages of a device's check metrics over the last `hours`. */
export async function metricHistory(db: Database, deviceId: string, hours: number) {
  const { rows } = await sql<{ hour: Date; sums: Record<string, Record<string, number>> }>`
    select hour, sums from monitoring_metrics
    where device_id = ${deviceId} and hour > now() - make_interval(hours => ${hours})
    order by hour`.execute(db);
  return rows.flatMap((r) =>
    Object.entries(r.sums).map(([checkId, sums]) => {
      const n = Math.max(1, sums.n ?? 1);
      return {
        checkId,
        hour: new Date(r.hour).toISOString(),
        values: Object.fromEntries(
          Object.entries(sums)
            .filter(([k]) => k !== "n")
            .map(([k, v]) => [k, Math.round((v / n) * 100) / 100]),
        ),
      };
    }),
  );
}
