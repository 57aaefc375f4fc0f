/**
 * Monitoring benchmark, in the server's own code paths as the server's database role (row-level
 * security on), against an embedded PostgreSQL:
 *   1. check-result ingestion (the periodic summaries of every device's 10 checks) beside, in the same run,
 *      the bare heartbeat path of the same devices (one batched UPDATE, as the gateway flushes it) and a bare
 *      multi-row upsert of the same state rows;
 *   2. alert-to-ticket latency: failing results that fire an alert and open its ticket;
 *   3. a storm: one site's devices all go offline while 2,000 other checks fail at once; the sweep must
 *      see the site as one incident with one ticket;
 *   4. storage per device for check state.
 * See bench/README.md.   npm run bench:monitoring
 */
import { chmod, mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { CheckResultsFrame } from "@switchboard/shared";
import { sql } from "kysely";
import { loadConfig } from "../../apps/server/src/config.ts";
import { connectDatabase } from "../../apps/server/src/db/database.ts";
import { startEmbeddedPostgres } from "../../apps/server/src/db/embedded.ts";
import { migrateToLatest } from "../../apps/server/src/db/migrate.ts";
import { touchDevices } from "../../apps/server/src/domains/agents/presence.ts";
import { ingestResults } from "../../apps/server/src/domains/monitoring/results.ts";
import { saveSummaries } from "../../apps/server/src/domains/monitoring/summaries.ts";
import { runSweep } from "../../apps/server/src/domains/monitoring/sweep.ts";
import { startServer } from "../../apps/server/src/server.ts";
import { summarize } from "../lib/stats.ts";

const DEVICES = Number(process.env.BENCH_MONITORING_DEVICES ?? 2000);
const CHECKS = 10;
const SITE_DEVICES = Math.min(200, Math.floor(DEVICES / 4));
const STORM_CHECKS = Math.min(2000, DEVICES);
const ROOT = path.resolve(import.meta.dirname, "../..");
const log = (m: string) => console.log(`[bench:monitoring ${new Date().toISOString().slice(11, 19)}] ${m}`);

type Db = ReturnType<typeof connectDatabase>["db"];

async function seed(db: Db) {
  await sql`insert into msp (name, timezone) values ('Bench MSP', 'UTC') on conflict do nothing`.execute(db);
  const client = await sql<{
    id: string;
  }>`insert into clients (name) values ('Library district') returning id`.execute(db);
  const clientId = client.rows[0]!.id;
  const sites = await sql<{ id: string }>`insert into sites (client_id, name, timezone)
    select ${clientId}, 'Branch ' || i, 'UTC' from generate_series(1, 10) i returning id`.execute(db);
  // Site 1 holds the storm's devices; the rest spread over the other nine.
  await sql`insert into devices (client_id, site_id, hostname, platform, arch, os_name, os_version, agent_version,
      public_key, online, last_seen_at)
    select ${clientId}, case when i <= ${SITE_DEVICES} then ${sites.rows[0]!.id}::uuid
      else (${sites.rows.slice(1).map((s) => s.id)}::uuid[])[1 + i % 9] end,
      'pc-' || i, 'windows', 'x64', 'Windows 11', '24H2', '1.0.0', md5(i::text), true, now()
    from generate_series(1, ${DEVICES}) i`.execute(db);
  const policy = await sql<{ id: string }>`insert into monitoring_policies (client_id, name)
    values (${clientId}, 'Baseline') returning id`.execute(db);
  await sql`insert into monitoring_checks (policy_id, kind, name, config, interval_seconds, severity, fail_after)
    select ${policy.rows[0]!.id}, 'tcp', 'Port ' || i, jsonb_build_object('kind', 'tcp', 'host', '127.0.0.1', 'port', 1000 + i,
      'timeoutMs', 1000), 60, 'high', 1
    from generate_series(1, ${CHECKS}) i`.execute(db);
  await sql`analyze`.execute(db);
  return { clientId, siteId: sites.rows[0]!.id };
}

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;

async function timed<T>(fn: () => Promise<T>) {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  const out = await fn();
  return { out, wallMs: performance.now() - t0, cpuMs: cpuMs(process.cpuUsage(c0)) };
}

/** Runs `fn` for each item with `n` at a time. */
async function pool<T>(items: T[], n: number, fn: (item: T) => Promise<void>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

async function main() {
  const tmp = await mkdtemp(path.join(os.tmpdir(), "switchboard-bench-monitoring-"));
  await chmod(tmp, 0o755);
  const pg = await startEmbeddedPostgres({
    dir: path.join(tmp, "pg"),
    port: 55000 + Math.floor(Math.random() * 900),
    settings: { shared_buffers: "256MB", max_wal_size: "2GB" },
  });
  try {
    const owner = connectDatabase(pg.url, { max: 4 });
    await migrateToLatest(owner.db);
    log(`seeding ${DEVICES} devices with ${CHECKS} checks each`);
    const { siteId } = await seed(owner.db);

    const config = loadConfig({
      DATABASE_URL: pg.url,
      PORT: "0",
      HOST: "127.0.0.1",
      SWITCHBOARD_DATA_DIR: tmp,
      SWITCHBOARD_ROLES: "api",
      LOG_LEVEL: "silent",
      DB_POOL_SIZE: "8",
    });
    const server = await startServer(config);
    const db = server.deps.db;
    const devices = (await db.selectFrom("devices").select("id").orderBy("hostname").execute()).map(
      (d) => d.id,
    );
    const checkIds = (await db.selectFrom("monitoring_checks").select("id").orderBy("name").execute()).map(
      (c) => c.id,
    );
    const at = () => new Date().toISOString();
    const summary = (state: "ok" | "critical"): CheckResultsFrame => ({
      type: "check.results",
      summary: true,
      results: checkIds.map((checkId, i) => ({
        checkId,
        state,
        output: `127.0.0.1:${1001 + i} answered in 0.4 ms`,
        metrics: { latency_ms: 0.4 },
        streak: 1,
        at: at(),
      })),
    });

    // 1. Ingestion, rounds alternating with the baselines so machine drift falls on all three.
    const rounds = {
      batched: [] as number[],
      batchedCpu: [] as number[],
      ingest: [] as number[],
      ingestCpu: [] as number[],
      heartbeat: [] as number[],
      heartbeatCpu: [] as number[],
      bare: [] as number[],
      bareCpu: [] as number[],
    };
    const frame = summary("ok");
    for (let r = 0; r < 3; r++) {
      const ingest = await timed(() =>
        pool(devices, 8, async (id) => {
          await ingestResults(db, id, frame, { reopenSeconds: 900, groupSeconds: 300 });
        }),
      );
      rounds.ingest.push(ingest.wallMs);
      rounds.ingestCpu.push(ingest.cpuMs);
      // The gateway's path for summaries: batches of 500 devices' frames, one statement each (Batcher).
      const batched = await timed(async () => {
        for (let i = 0; i < devices.length; i += 500)
          await saveSummaries(
            db,
            devices.slice(i, i + 500).map((deviceId) => ({ deviceId, results: frame.results })),
          );
      });
      rounds.batched.push(batched.wallMs);
      rounds.batchedCpu.push(batched.cpuMs);
      // The gateway's heartbeat flush for the same devices, batched as it runs (5,000 per statement).
      const heartbeat = await timed(async () => {
        for (let i = 0; i < devices.length; i += 5000) {
          const slice = devices.slice(i, i + 5000);
          await touchDevices(db, new Map(slice.map((d) => [d, "bench"])));
        }
      });
      rounds.heartbeat.push(heartbeat.wallMs);
      rounds.heartbeatCpu.push(heartbeat.cpuMs);
      // The bare upsert of the same rows: no lookup of the device's checks, no alert logic.
      const bare = await timed(() =>
        pool(devices, 8, async (id) => {
          await sql`insert into monitoring_check_states as s (device_id, check_id, client_id, state, output, metrics, streak, reported_at)
            select ${id}::uuid, c, (select client_id from devices where id = ${id}::uuid), 'ok', 'bare', '{"latency_ms":0.4}'::jsonb, 1, now()
            from unnest(${checkIds}::uuid[]) c
            on conflict (device_id, check_id) do update set state = excluded.state, output = excluded.output,
              metrics = excluded.metrics, reported_at = excluded.reported_at`.execute(db);
        }),
      );
      rounds.bare.push(bare.wallMs);
      rounds.bareCpu.push(bare.cpuMs);
      log(
        `round ${r + 1}: ingest ${Math.round(ingest.wallMs)} ms, heartbeat ${Math.round(heartbeat.wallMs)} ms, bare upsert ${Math.round(bare.wallMs)} ms`,
      );
    }
    const results = devices.length * CHECKS;
    const per1000 = (ms: number[]) => Math.round((Math.min(...ms) / results) * 1000 * 100) / 100;

    // 2. Alert to ticket: a failing result (fail_after 1) fires the alert and opens its ticket in the call.
    const latencies: number[] = [];
    const firing = devices.slice(SITE_DEVICES, SITE_DEVICES + 200);
    for (const id of firing) {
      const t0 = performance.now();
      await ingestResults(
        db,
        id,
        {
          type: "check.results",
          summary: false,
          results: [
            { checkId: checkIds[0]!, state: "critical", output: "connect ECONNREFUSED", streak: 1, at: at() },
          ],
        },
        { reopenSeconds: 900, groupSeconds: 300 },
      );
      latencies.push(performance.now() - t0);
    }
    const alertToTicket = summarize(latencies);
    log(`alert to ticket p50 ${alertToTicket.p50} ms, p99 ${alertToTicket.p99} ms`);

    // 3. The storm: the site's devices go dark together while 2,000 other checks fail at once.
    const before = Number((await sql<{ n: string }>`select count(*) n from tickets`.execute(db)).rows[0]!.n);
    await sql`update devices set online = false, last_seen_at = now() - interval '10 minutes' where site_id = ${siteId}`.execute(
      db,
    );
    const others = devices.slice(SITE_DEVICES + 200);
    const stormChecks: Array<{ device: string; check: string }> = [];
    for (let i = 0; stormChecks.length < STORM_CHECKS && i < others.length * CHECKS; i++)
      stormChecks.push({
        device: others[i % others.length]!,
        check: checkIds[1 + Math.floor(i / others.length)]!,
      });
    const byDevice = new Map<string, string[]>();
    for (const s of stormChecks) byDevice.set(s.device, [...(byDevice.get(s.device) ?? []), s.check]);
    const storm = await timed(async () => {
      await pool([...byDevice.entries()], 8, async ([device, checks]) => {
        await ingestResults(
          db,
          device,
          {
            type: "check.results",
            summary: false,
            results: checks.map((checkId) => ({
              checkId,
              state: "critical",
              output: "connect ECONNREFUSED",
              streak: 1,
              at: at(),
            })),
          },
          { reopenSeconds: 900, groupSeconds: 300 },
        );
      });
    });
    const sweepSettings = {
      offlineGraceSeconds: 120,
      recoverSeconds: 30,
      correlationSeconds: 0,
      siteMinOffline: 2,
      siteOfflinePercent: 50,
      reopenSeconds: 900,
    };
    const sweep = await timed(() => runSweep(db, sweepSettings));
    const sweep2 = await timed(() => runSweep(db, sweepSettings));
    const incidents = Number(
      (await sql<{ n: string }>`select count(*) n from monitoring_incidents where state = 'open'`.execute(db))
        .rows[0]!.n,
    );
    const siteTickets = Number(
      (
        await sql<{ n: string }>`select count(*) n from tickets where subject like 'Site offline:%'`.execute(
          db,
        )
      ).rows[0]!.n,
    );
    const deviceOfflineTickets = Number(
      (await sql<{ n: string }>`select count(*) n from tickets where subject like '% is offline'`.execute(db))
        .rows[0]!.n,
    );
    const after = Number((await sql<{ n: string }>`select count(*) n from tickets`.execute(db)).rows[0]!.n);
    log(
      `storm: ${SITE_DEVICES} devices offline + ${stormChecks.length} failing checks in ${Math.round(storm.wallMs)} ms; sweep ${Math.round(sweep.wallMs)} ms: ${incidents} incident, ${siteTickets} site ticket, ${deviceOfflineTickets} device offline tickets`,
    );

    // 4. Storage: check state is one row per (device, check), updated in place.
    const bytes = Number(
      (await sql<{ n: string }>`select pg_total_relation_size('monitoring_check_states') n`.execute(db))
        .rows[0]!.n,
    );
    // A day of metric history: the hourly buckets the summaries fill (one per device, check and hour),
    // written here directly with the sums a summary of a TCP check leaves.
    await sql`delete from monitoring_metrics`.execute(db);
    await sql`insert into monitoring_metrics (device_id, client_id, hour, sums)
      select d.id, d.client_id, date_trunc('hour', now()) - make_interval(hours => h),
        (select jsonb_object_agg(c.id, jsonb_build_object('n', 12, 'latency_ms', round((random() * 600)::numeric, 2)))
         from monitoring_checks c)
      from devices d cross join generate_series(0, 23) h`.execute(db);
    await sql`vacuum analyze monitoring_metrics`.execute(db);
    const historyBytes = Number(
      (await sql<{ n: string }>`select pg_total_relation_size('monitoring_metrics') n`.execute(db)).rows[0]!
        .n,
    );
    await server.stop();

    const out = {
      devices: DEVICES,
      checksPerDevice: CHECKS,
      ingestion: {
        results,
        // The gateway's path for summaries (batched across devices like heartbeats).
        summaryBatchedMsPer1000: per1000(rounds.batched),
        summaryBatchedNodeCpuMsPer1000: per1000(rounds.batchedCpu),
        ratioBatchedToBareUpsert:
          Math.round((Math.min(...rounds.batched) / Math.min(...rounds.bare)) * 100) / 100,
        ratioBatchedSummaryToHeartbeatPerDevice:
          Math.round((Math.min(...rounds.batched) / Math.min(...rounds.heartbeat)) * 100) / 100,
        // One frame at a time through the full path (what results sent at once take).
        checkResultsMsPer1000: per1000(rounds.ingest),
        nodeCpuMsPer1000: per1000(rounds.ingestCpu),
        heartbeatMsPer1000Devices:
          Math.round((Math.min(...rounds.heartbeat) / devices.length) * 1000 * 100) / 100,
        bareUpsertMsPer1000: per1000(rounds.bare),
        bareUpsertCpuMsPer1000: per1000(rounds.bareCpu),
        ratioToBareUpsert: Math.round((Math.min(...rounds.ingest) / Math.min(...rounds.bare)) * 100) / 100,
        // One summary of 10 checks against one heartbeat, per device: what monitoring adds to a device's period.
        ratioSummaryToHeartbeatPerDevice:
          Math.round((Math.min(...rounds.ingest) / Math.min(...rounds.heartbeat)) * 100) / 100,
        rounds,
      },
      alertToTicketMs: alertToTicket,
      storm: {
        siteDevicesOffline: SITE_DEVICES,
        failingChecks: stormChecks.length,
        ingestWallMs: Math.round(storm.wallMs),
        sweepMs: Math.round(sweep.wallMs),
        secondSweepMs: Math.round(sweep2.wallMs),
        openIncidents: incidents,
        siteTickets,
        deviceOfflineTickets,
        ticketsCreated: after - before,
      },
      storage: {
        checkStateBytesPerDevice: Math.round(bytes / DEVICES),
        metricHistoryBytesPerDevicePerDay: Math.round(historyBytes / DEVICES),
        note: "check state: one row per device and check, updated in place; history: one row per device and hour (per check a count and sums), kept MONITORING_METRIC_DAYS (30)",
      },
    };
    await mkdir(path.join(ROOT, "bench/results"), { recursive: true });
    await writeFile(
      path.join(ROOT, "bench/results/monitoring-inprocess.json"),
      `${JSON.stringify(out, null, 2)}\n`,
    );
    log(
      JSON.stringify({
        ingestion: { ...out.ingestion, rounds: undefined },
        alertToTicketMs: out.alertToTicketMs,
        storm: out.storm,
      }),
    );
    log("results in bench/results/monitoring-inprocess.json");
  } finally {
    await pg.stop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
