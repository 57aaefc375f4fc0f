// `npm run bench:monitoring`: monitoring at fleet scale with the agents benchmark's simulator (real agent
// protocol, real gateway processes on NATS, a worker process running the sweep), in one run:
//   A. the fleet heartbeating with no checks (the baseline), B. a 10-check policy for every device,
//   then alert-to-ticket latency over a wave of failing checks, then the storm (a site of 200 devices
//   going dark while 2,000 other checks fail), and metric history bytes per device per day.
// See README.md. BENCH_MONITORING_MODE=inprocess runs the older one-process bench (inprocess.ts).
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import path from "node:path";
import pg from "pg";
import { connectDatabase } from "../../apps/server/src/db/database.ts";
import { migrateToLatest } from "../../apps/server/src/db/migrate.ts";
import { makeDevices } from "../agents/devices.ts";
import { Fleet, type Spec } from "../agents/fleet-control.ts";
import { DATA_DIR, type Gateways, startSwitchboard } from "../agents/gateways.ts";
import {
  ADDRESSES,
  ADMIN_URL,
  AGENTS,
  BACKOFF,
  DB_POOL_SIZE,
  env,
  GATEWAYS,
  HEARTBEAT_S,
  log,
  MISSED,
  PORT,
  ROOT,
  WORKERS,
} from "../agents/options.ts";
import { loadAverage, sleep } from "../agents/proc.ts";
import type { Episode } from "../agents/sim-checks.ts";
import { cpuSeconds } from "../lib/proc.ts";
import { summarize } from "../lib/stats.ts";
import { PgCpu } from "./pg-cpu.ts";

const SUMMARY_S = env("BENCH_SUMMARY_SECONDS", 300);
const BASELINE_S = env("BENCH_BASELINE_SECONDS", 120);
const IDLE_S = env("BENCH_IDLE_SECONDS", 30);
const WINDOW_S = env("BENCH_MONITORING_SECONDS", SUMMARY_S);
const CHANGES_PCT = Number(process.env.BENCH_CHANGES_PER_HOUR_PERCENT ?? 1);
const EPISODE_RUNS = env("BENCH_EPISODE_RUNS", 3);
const FIRST_RESULTS = env("BENCH_FIRST_RESULTS", 1) === 1;
const ALERTS = env("BENCH_ALERTS", 300);
const ALERT_SPREAD_S = env("BENCH_ALERT_SPREAD_SECONDS", 60);
const SITE_DEVICES = env("BENCH_SITE_DEVICES", Math.min(200, Math.floor(AGENTS / 4)));
const STORM_CHECKS = env("BENCH_STORM_CHECKS", 2000);
const CLIENT_DEVICES = env("BENCH_CLIENT_DEVICES", 1000);
const GRACE_S = env("BENCH_OFFLINE_GRACE_SECONDS", 120);
const CORRELATION_S = 30;
const INTERVAL_S = 60;
const FAIL_AFTER = 2;
const PASS_AFTER = 1;
const OUTPUT = process.env.BENCH_OUTPUT ?? "monitoring.json";
if (!/^[\w.-]+\.json$/.test(OUTPUT)) throw new Error("BENCH_OUTPUT: expected a file name ending in .json");
if (!(CHANGES_PCT >= 0)) throw new Error("BENCH_CHANGES_PER_HOUR_PERCENT: expected a number >= 0");

/** The MSP-wide policy: ten checks of the kinds an MSP runs everywhere, 60 s apart, firing after 2 failures. */
const CHECKS = [
  { name: "SSH service", config: { kind: "service", service: "sshd" } },
  { name: "Reservation server", config: { kind: "process", process: "reservation-server" } },
  { name: "System disk", config: { kind: "disk", volume: "/", minFreePercent: 10 } },
  { name: "CPU", config: { kind: "cpu", maxPercent: 95, windowSeconds: 300 } },
  { name: "Memory", config: { kind: "memory", maxPercent: 95, windowSeconds: 300 } },
  { name: "Gateway ping", config: { kind: "ping", host: "10.0.0.1" } },
  { name: "Database port", config: { kind: "tcp", host: "127.0.0.1", port: 5432 } },
  {
    name: "Intranet",
    config: { kind: "http", url: "https://intranet.example.test/health", expectStatus: 200 },
  },
  { name: "Security updates", config: { kind: "updates", maxSecurity: 0 } },
  { name: "Nightly backup", config: { kind: "backup", path: "/var/backups", maxAgeHours: 26 } },
].map((c) => ({
  ...c,
  intervalSeconds: INTERVAL_S,
  severity: "high",
  failAfter: FAIL_AFTER,
  passAfter: PASS_AFTER,
}));

const r1 = (x: number) => Math.round(x * 10) / 10;

type Cost = Record<string, number | null>;
/**
 * The heartbeat path and the results' path, both through the gateways and the database: the worker's
 * own load (job polling, the sweep every 5 s) does not follow the heartbeats and swings more between two
 * windows than the heartbeats cost it, so "server" (with it) is noisy on a shared machine.
 */
function gatewaysAndDatabase(cost: Record<string, unknown>) {
  const g = cost.gateways as Cost;
  const d = cost.pgBackends as Cost;
  const sum = (k: string) => (g[k] === null || d[k] === null ? null : r2((g[k] ?? 0) + (d[k] ?? 0)));
  const hb = sum("cpuMsPer1000Heartbeats");
  const res = sum("cpuMsPer1000CheckResults");
  const summ = sum("cpuMsPer1000Summaries");
  return {
    cpuMsPer1000Heartbeats: hb,
    cpuMsPer1000CheckResults: res,
    cpuMsPer1000Summaries: summ,
    ratioResultToHeartbeat: hb && res !== null ? r2(res / hb) : null,
    ratioSummaryToHeartbeat: hb && summ !== null ? r2(summ / hb) : null,
  };
}
const r2 = (x: number) => Math.round(x * 100) / 100;

/** Clients of CLIENT_DEVICES devices, sites of SITE_DEVICES: device i is in site i / SITE_DEVICES. */
async function placeDevices(c: pg.Client, specs: Spec[]) {
  const clients = Math.ceil(specs.length / CLIENT_DEVICES);
  const sites = Math.ceil(specs.length / SITE_DEVICES);
  const { rows: cl } = await c.query<{ id: string }>(
    "insert into clients (name) select 'Client ' || i from generate_series(1, $1) i returning id",
    [clients],
  );
  const siteIds: string[] = [];
  for (let s = 0; s < sites; s++) {
    const client = cl[Math.floor((s * SITE_DEVICES) / CLIENT_DEVICES)]!.id;
    const { rows } = await c.query<{ id: string }>(
      "insert into sites (client_id, name, timezone) values ($1, $2, 'UTC') returning id",
      [client, s === 0 ? "Main library" : `Branch ${s}`],
    );
    siteIds.push(rows[0]!.id);
  }
  const deviceClient = specs.map((_, i) => cl[Math.floor(i / CLIENT_DEVICES)]!.id);
  const deviceSite = specs.map((_, i) => siteIds[Math.floor(i / SITE_DEVICES)]!);
  await c.query(
    `update devices d set client_id = v.client_id, site_id = v.site_id
     from unnest($1::uuid[], $2::uuid[], $3::uuid[]) as v(id, client_id, site_id) where d.id = v.id`,
    [specs.map((s) => s.deviceId), deviceClient, deviceSite],
  );
  await c.query("delete from clients where name = 'Bench fleet'");
  await c.query("analyze");
  return { clients, sites, stormSite: siteIds[0]! };
}

/** CPU seconds of the servers and the database so far. */
async function cpuNow(g: Gateways, pgCpu: PgCpu, db: string) {
  const p = await pgCpu.read(db);
  return {
    gateways: g.cpuSeconds(),
    worker: g.worker ? cpuSeconds(g.worker.pid!) : 0,
    pgBackends: p.backends,
    pgSharedHelpers: p.sharedHelpers,
  };
}
type Cpu = Awaited<ReturnType<typeof cpuNow>>;

/** A steady window: CPU per second of each part, and what the fleet sent per second. */
async function window(g: Gateways, pgCpu: PgCpu, db: string, fleet: Fleet | null, seconds: number) {
  const none = { cpu: 0 } as Record<string, number>;
  const c0 = await cpuNow(g, pgCpu, db);
  const s0 = fleet ? await fleet.stats() : none;
  const t0 = Date.now();
  await sleep(seconds * 1000);
  const c1 = await cpuNow(g, pgCpu, db);
  const s1 = fleet ? await fleet.stats() : none;
  const wall = (Date.now() - t0) / 1000;
  const per = (k: keyof Cpu) => (c1[k] - c0[k]) / wall;
  const rate = (k: string) => (((s1[k] as number) ?? 0) - ((s0[k] as number) ?? 0)) / wall;
  return {
    seconds: r1(wall),
    cpuCoresPerSecond: {
      gateways: per("gateways"),
      worker: per("worker"),
      pgBackends: per("pgBackends"),
      pgSharedHelpers: per("pgSharedHelpers"),
    },
    perSecond: {
      heartbeats: rate("heartbeats"),
      results: rate("results") || 0,
      summaries: rate("summaries") || 0,
      summaryResults: rate("summaryResults") || 0,
      changeFrames: rate("changeFrames") || 0,
      episodes: rate("episodes") || 0,
    },
    fleetCpuPercentOfOneCore: r1((((s1.cpu as number) - (s0.cpu as number)) / wall) * 100),
    loadAverage: loadAverage(),
  };
}
type Window = Awaited<ReturnType<typeof window>>;

const roundWindow = (w: Window) => ({
  ...w,
  cpuPercentOfOneCore: Object.fromEntries(
    Object.entries(w.cpuCoresPerSecond).map(([k, v]) => [k, r1(v * 100)]),
  ),
  cpuCoresPerSecond: undefined,
  perSecond: Object.fromEntries(Object.entries(w.perSecond).map(([k, v]) => [k, r1(v)])),
});

async function api(method: string, url: string, token: string, body?: unknown) {
  const res = await fetch(`http://127.0.0.1:${PORT}${url}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (!res.ok) throw new Error(`${method} ${url}: ${res.status} ${await res.text()}`);
  return res.json() as Promise<Record<string, unknown>>;
}

async function force(fleet: Fleet, items: Array<{ deviceId: string; checkId: string }>, failing: boolean) {
  const replies = await fleet.all({ op: "force", items, failing }, "forced");
  return replies.reduce((n, r) => n + (r.found as number), 0);
}

async function allEpisodes(fleet: Fleet): Promise<Episode[]> {
  return (await fleet.all({ op: "episodes" }, "episodes")).flatMap((r) => r.episodes as Episode[]);
}

interface Fired {
  alertId: string;
  at: number;
  deviceId: string;
  checkId: string | null;
  ticketId: string | null;
  ticketAt: number | null;
}

/** Alerts fired since event id `from` (their monitoring.alert_fired events), with their tickets. */
async function firedSince(c: pg.Client, from: string): Promise<Fired[]> {
  const { rows } = await c.query<{
    alert_id: string;
    at: string;
    device_id: string;
    check_id: string | null;
    ticket_id: string | null;
    ticket_at: string | null;
  }>(
    `select a.id as alert_id, extract(epoch from e.created_at) * 1000 as at, a.device_id, a.check_id, a.ticket_id,
       extract(epoch from t.created_at) * 1000 as ticket_at
     from domain_events e join monitoring_alerts a on a.id = (e.payload->>'alertId')::uuid
     left join tickets t on t.id = a.ticket_id
     where e.id > $1 and e.type = 'monitoring.alert_fired'`,
    [from],
  );
  return rows.map((r) => ({
    alertId: r.alert_id,
    at: Number(r.at),
    deviceId: r.device_id,
    checkId: r.check_id,
    ticketId: r.ticket_id,
    ticketAt: r.ticket_at === null ? null : Number(r.ticket_at),
  }));
}

const lastEventId = async (c: pg.Client) =>
  (await c.query<{ id: string }>("select coalesce(max(id), 0)::text as id from domain_events")).rows[0]!.id;

/**
 * Alert to ticket: from the moment the agent sent the failing result that made the alert fire (the
 * FAIL_AFTER-th of its episode) to the alert_fired event (written in the transaction that opened or
 * joined the ticket; its created_at is that transaction's start) and to the moment the bench first saw
 * the alert's ticket committed (polled every 200 ms: an upper bound).
 */
function latencies(fired: Fired[], episodes: Episode[], seen: Map<string, number>) {
  const byKey = new Map<string, Episode[]>();
  for (const e of episodes) {
    const k = `${e.deviceId}:${e.checkId}`;
    byKey.set(k, [...(byKey.get(k) ?? []), e]);
  }
  const out: Array<{
    forced: boolean;
    opened: boolean;
    firedAt: number;
    toEvent: number;
    toSeen: number | null;
  }> = [];
  for (const f of fired) {
    if (!f.checkId || !f.ticketId) continue;
    const candidates = (byKey.get(`${f.deviceId}:${f.checkId}`) ?? [])
      .map((e) => ({ e, sent: e.sent[FAIL_AFTER - 1] }))
      .filter((x): x is { e: Episode; sent: number } => x.sent !== undefined && x.sent <= f.at + 1000);
    const best = candidates.sort((a, b) => b.sent - a.sent)[0];
    if (!best) continue;
    const s = seen.get(f.alertId);
    out.push({
      forced: best.e.forced,
      firedAt: f.at,
      // The alert opened its ticket (the ticket is as old as the alert's firing) or joined another's.
      opened: f.ticketAt !== null && Math.abs(f.ticketAt - f.at) < 50,
      toEvent: f.at - best.sent,
      toSeen: s === undefined ? null : s - best.sent,
    });
  }
  return out;
}

/** Polls every 200 ms for alerts whose ticket is committed, noting when each was first seen so. */
function watchTickets(c: pg.Client, since: Date) {
  const seen = new Map<string, number>();
  let stop = false;
  const done = (async () => {
    while (!stop) {
      const t = Date.now();
      const { rows } = await c.query<{ id: string }>(
        "select id from monitoring_alerts where ticket_id is not null and fired_at >= $1",
        [since],
      );
      for (const r of rows) if (!seen.has(r.id)) seen.set(r.id, t);
      await sleep(200);
    }
  })();
  return {
    seen,
    stop: async () => {
      stop = true;
      await done;
    },
  };
}

async function count(c: pg.Client, q: string, args: unknown[] = []) {
  return Number((await c.query<{ n: string }>(q, args)).rows[0]!.n);
}

async function main() {
  const loadAtStart = loadAverage();
  log(
    `monitoring: ${AGENTS} agents x ${CHECKS.length} checks over ${GATEWAYS} gateway(s) + a worker, ${WORKERS} fleet workers; summary every ${SUMMARY_S} s; ${CHANGES_PCT}% of checks changing state per hour; load ${loadAtStart.join(" ")}`,
  );
  const dbName = `sb_bench_monitoring_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL, application_name: "sb-bench" });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  const u = new URL(ADMIN_URL);
  u.pathname = `/${dbName}`;
  const url = u.toString();
  const handle = connectDatabase(url, { max: 2 });
  const c = new pg.Client({ connectionString: url, application_name: "sb-bench" });
  const watcher = new pg.Client({ connectionString: url, application_name: "sb-bench" });
  let gateways: Gateways | null = null;
  let fleet: Fleet | null = null;
  let pgCpu: PgCpu | null = null;
  const results: Record<string, unknown> = {
    machine: { cpus: cpus().length, node: process.version },
    config: {
      agents: AGENTS,
      checksPerAgent: CHECKS.length,
      checkIntervalSeconds: INTERVAL_S,
      failAfter: FAIL_AFTER,
      passAfter: PASS_AFTER,
      summarySeconds: SUMMARY_S,
      heartbeatSeconds: HEARTBEAT_S,
      offlineAfterMissed: MISSED,
      offlineGraceSeconds: GRACE_S,
      correlationSeconds: CORRELATION_S,
      changesPerHourPercent: CHANGES_PCT,
      episodeRuns: EPISODE_RUNS,
      firstRunResultsSentAtOnce: FIRST_RESULTS,
      baselineSeconds: BASELINE_S,
      monitoringWindowSeconds: WINDOW_S,
      gatewayProcesses: GATEWAYS,
      workerProcesses: 1,
      fleetWorkers: WORKERS,
      dbPoolSizePerProcess: DB_POOL_SIZE,
      clientDevices: CLIENT_DEVICES,
      siteDevices: SITE_DEVICES,
      alertWave: ALERTS,
      stormChecks: STORM_CHECKS,
    },
  };
  const loads: Record<string, number[]> = { start: loadAtStart };
  try {
    await migrateToLatest(handle.db);
    await c.connect();
    await watcher.connect();
    log("making devices and keys");
    const { specs, token } = await makeDevices(handle.db);
    const placed = await placeDevices(c, specs);
    log(`  ${placed.clients} clients, ${placed.sites} sites of ${SITE_DEVICES} devices`);

    gateways = await startSwitchboard(url, {
      worker: true,
      env: {
        MONITORING_SUMMARY_SECONDS: String(SUMMARY_S),
        MONITORING_OFFLINE_GRACE_SECONDS: String(GRACE_S),
        MONITORING_CORRELATION_SECONDS: String(CORRELATION_S),
      },
    });
    const g = gateways;
    pgCpu = await PgCpu.start(url, dbName);
    // The servers with no agent: their own timers, the worker's sweep and job polling. Taken out of A to
    // give the heartbeat path's own cost.
    await sleep(5000);
    log(`idle servers, ${IDLE_S} s`);
    const idle = await window(g, pgCpu, dbName, null, IDLE_S);
    const serverKey = (await c.query<{ public_key: string }>("select public_key from agent_signing_key"))
      .rows[0]!.public_key;
    fleet = await Fleet.start({
      urls: g.urls(),
      serverKey,
      addresses: ADDRESSES,
      heartbeatMs: HEARTBEAT_S * 1000,
      bare: false,
      backoff: BACKOFF,
      monitoring: {
        changesPerHourPercent: CHANGES_PCT,
        episodeRuns: EPISODE_RUNS,
        firstResults: FIRST_RESULTS,
      },
    });
    const t0 = Date.now();
    await fleet.connect(specs);
    await fleet.waitConnected(AGENTS, 600_000);
    log(`  ${AGENTS} agents connected in ${r1((Date.now() - t0) / 1000)} s`);
    await sleep(10_000);

    // A. Heartbeats only (each agent got an empty checks frame at its welcome).
    log(`A. baseline: heartbeats only, ${BASELINE_S} s`);
    loads.baseline = loadAverage();
    const a = await window(g, pgCpu, dbName, fleet, BASELINE_S);
    log(`  ${JSON.stringify(roundWindow(a))}`);

    // B. The policy for every device, pushed by the API to every gateway's agents.
    log("B. a 10-check policy MSP-wide");
    const pushAt = Date.now();
    const ev0 = await lastEventId(c);
    const policy = (await api("POST", "/api/v1/monitoring/policies", token, {
      name: "Workstations",
      checks: CHECKS,
    })) as { checks: Array<{ id: string; name: string }> };
    const checkIds = CHECKS.map((k) => policy.checks.find((p) => p.name === k.name)!.id);
    let pushSeconds: number | null = null;
    for (let i = 0; i < 1200; i++) {
      const s = await fleet.stats();
      if ((s.agentsWithChecks as number) >= AGENTS) {
        pushSeconds = r1((Date.now() - pushAt) / 1000);
        break;
      }
      await sleep(250);
    }
    // The rollout: every agent's first run reports each check at once (a state from nothing), as the real
    // agent does; the steady window starts once the servers have taken them all in.
    const expected = AGENTS * CHECKS.length;
    let rolloutSeconds: number | null = null;
    for (let i = 0; FIRST_RESULTS && i < 900; i++) {
      if ((await count(c, "select count(*) n from monitoring_check_states")) >= expected) {
        rolloutSeconds = r1((Date.now() - pushAt) / 1000);
        break;
      }
      await sleep(1000);
    }
    log(
      `  checks on every agent after ${pushSeconds} s; first results of all recorded after ${rolloutSeconds} s`,
    );
    await sleep(5000);
    loads.monitoring = loadAverage();
    log(`  steady window ${WINDOW_S} s (one summary from each agent)`);
    const b = await window(g, pgCpu, dbName, fleet, WINDOW_S);
    log(`  ${JSON.stringify(roundWindow(b))}`);
    const randomEpisodesEnd = Date.now();
    const steadyFrom = randomEpisodesEnd - b.seconds * 1000;

    // Costs: per 1,000 heartbeats in A; per 1,000 check results as what B added over A, per second.
    const parts = ["gateways", "worker", "pgBackends"] as const;
    const perK = (coresPerSecond: number, perSecond: number) =>
      perSecond > 0 ? r2((coresPerSecond / perSecond) * 1_000_000) : null;
    const cost: Record<string, unknown> = {};
    for (const p of [...parts, "server"] as const) {
      const of = (w: Window) =>
        p === "server" ? parts.reduce((s, k) => s + w.cpuCoresPerSecond[k], 0) : w.cpuCoresPerSecond[p];
      const av = of(a);
      const bv = of(b);
      const iv = of(idle);
      // The heartbeat path: what the connected, heartbeating fleet adds to the idle servers.
      const perHb = perK(Math.max(0, av - iv), a.perSecond.heartbeats);
      const perHbWithIdle = perK(av, a.perSecond.heartbeats);
      const perResult = perK(
        bv - av * (b.perSecond.heartbeats / a.perSecond.heartbeats),
        b.perSecond.results,
      );
      const perSummary = perK(
        bv - av * (b.perSecond.heartbeats / a.perSecond.heartbeats),
        b.perSecond.summaries,
      );
      cost[p] = {
        cpuMsPer1000Heartbeats: perHb,
        cpuMsPer1000HeartbeatsWithIdle: perHbWithIdle,
        cpuMsPer1000CheckResults: perResult,
        cpuMsPer1000Summaries: perSummary,
        ratioResultToHeartbeat: perHb && perResult !== null ? r2(perResult / perHb) : null,
        ratioSummaryToHeartbeat: perHb && perSummary !== null ? r2(perSummary / perHb) : null,
        // What monitoring adds to a device's own server cost, at these intervals.
        ratioMonitoringToHeartbeatPath: av - iv > 0 ? r2((bv - av) / (av - iv)) : null,
      };
    }
    cost.gatewaysAndDatabase = gatewaysAndDatabase(cost);
    results.idle = roundWindow(idle);
    results.baseline = roundWindow(a);
    results.monitoring = {
      policyPushSeconds: pushSeconds,
      rolloutSeconds,
      rolloutResultsPerSecond: rolloutSeconds ? Math.round(expected / rolloutSeconds) : null,
      rolloutNote:
        "from the policy's POST until every agent runs its checks, and until the first result of every check (sent at once by each agent, one frame per check) is recorded",
      window: roundWindow(b),
      cost,
    };
    log(`  cost: ${JSON.stringify(cost)}`);

    // Alert to ticket: a wave of checks failing on ALERTS devices (outside the storm's site), spread out.
    log(`C. alert to ticket: ${ALERTS} checks fail over ${ALERT_SPREAD_S} s`);
    const waveDevices = specs.slice(-ALERTS);
    const wave = waveDevices.map((s, i) => ({
      deviceId: s.deviceId,
      checkId: checkIds[i % checkIds.length]!,
    }));
    const waveFrom = await lastEventId(c);
    const waveStart = new Date(Date.now() - 1000);
    const watch = watchTickets(watcher, waveStart);
    let forcedFound = 0;
    for (let i = 0; i < wave.length; i += 10) {
      forcedFound += await force(fleet, wave.slice(i, i + 10), true);
      await sleep((ALERT_SPREAD_S * 1000 * 10) / Math.max(1, wave.length));
    }
    // Each fires at its FAIL_AFTER-th failing run, one interval after its first.
    const waveDeadline = Date.now() + (FAIL_AFTER * INTERVAL_S + 30) * 1000;
    while (Date.now() < waveDeadline) {
      const n = await count(
        c,
        "select count(*) n from monitoring_alerts where ticket_id is not null and fired_at >= $1 and (device_id, check_id) in (select * from unnest($2::uuid[], $3::uuid[]))",
        [waveStart, wave.map((w) => w.deviceId), wave.map((w) => w.checkId)],
      );
      if (n >= wave.length) break;
      await sleep(1000);
    }
    await sleep(1000);
    await watch.stop();
    const firedWave = await firedSince(c, waveFrom);
    const firedPhaseB = await firedSince(c, ev0);
    const episodes = await allEpisodes(fleet);
    const lat = latencies(firedPhaseB, episodes, watch.seen);
    const forcedLat = lat.filter((l) => l.forced);
    // Random episodes whose alert fired in the steady window (not in the rollout's burst).
    const randomLat = lat.filter((l) => !l.forced && l.firedAt >= steadyFrom);
    const waveTickets = new Set(
      firedWave
        .filter((f) => wave.some((w) => w.deviceId === f.deviceId && w.checkId === f.checkId))
        .map((f) => f.ticketId),
    );
    results.alertToTicket = {
      note: "ms from the agent sending the result that fires the alert (the 2nd failure in a row) to the alert_fired event of the transaction that opened or joined its ticket (its start), and to the bench seeing the ticket committed (polled every 200 ms, an upper bound)",
      wave: {
        checksForced: wave.length,
        found: forcedFound,
        alertsTicketed: forcedLat.length,
        ticketsOpened: waveTickets.size,
        toEventMs: summarize(forcedLat.map((l) => l.toEvent)),
        toCommittedSeenMs: summarize(forcedLat.flatMap((l) => (l.toSeen === null ? [] : [l.toSeen]))),
        openedTicketToEventMs: summarize(forcedLat.filter((l) => l.opened).map((l) => l.toEvent)),
        joinedTicketToEventMs: summarize(forcedLat.filter((l) => !l.opened).map((l) => l.toEvent)),
      },
      randomEpisodes: {
        episodes: episodes.filter(
          (e) => !e.forced && e.sent.length && e.sent[0]! >= steadyFrom && e.sent[0]! < randomEpisodesEnd,
        ).length,
        alertsTicketed: randomLat.length,
        toEventMs: summarize(randomLat.map((l) => l.toEvent)),
      },
    };
    log(`  ${JSON.stringify(results.alertToTicket)}`);
    await force(fleet, wave, false);
    // Recovered after PASS_AFTER passing runs; their tickets resolve, so the storm opens its own.
    await sleep((PASS_AFTER * INTERVAL_S + 15) * 1000);
    const stillOpen = await count(
      c,
      "select count(*) n from monitoring_alerts where state <> 'resolved' and check_key <> 'offline'",
    );
    log(`  wave recovered; ${stillOpen} check alerts still open (random episodes)`);

    // The storm: the site's devices go dark (sockets kept open, nothing sent: a cut line) while STORM_CHECKS
    // checks of other devices fail at once.
    const siteSpecs = specs.slice(0, SITE_DEVICES);
    const others = specs.slice(SITE_DEVICES, specs.length - ALERTS);
    const storm = Array.from({ length: Math.min(STORM_CHECKS, others.length * checkIds.length) }, (_, j) => ({
      deviceId: others[j % others.length]!.deviceId,
      checkId: checkIds[Math.floor(j / others.length)]!,
    }));
    log(
      `D. storm: ${SITE_DEVICES} devices of one site go dark, ${storm.length} checks on ${new Set(storm.map((s) => s.deviceId)).size} other devices fail`,
    );
    loads.storm = loadAverage();
    const stormFrom = await lastEventId(c);
    const ticketsBefore = await count(c, "select count(*) n from tickets");
    const stormAt = Date.now();
    const stormStart = new Date(stormAt);
    const stormWatch = watchTickets(watcher, stormStart);
    const [silenced, stormFound] = await Promise.all([
      Promise.all(
        fleet.procs.map((p) =>
          fleet!.ask(p, { op: "silence", deviceIds: siteSpecs.map((s) => s.deviceId) }, "silenced"),
        ),
      ),
      force(fleet, storm, true),
    ]);
    const lastHeartbeat = Math.max(
      ...silenced.flatMap((r) => Object.values(r.last as Record<string, number>)),
    );
    let incidentAt: number | null = null;
    let incidentTicketAt: number | null = null;
    // Until the offline alerts had their chance to open tickets of their own (they must not) and every
    // storm alert has its ticket, bounded.
    const stormDeadline = stormAt + (GRACE_S + CORRELATION_S + 90) * 1000;
    const settleAt = stormAt + (GRACE_S + CORRELATION_S + 15) * 1000;
    while (Date.now() < stormDeadline) {
      const inc = (
        await c.query<{ at: string; ticket_at: string | null }>(
          `select extract(epoch from i.opened_at) * 1000 as at, extract(epoch from t.created_at) * 1000 as ticket_at
           from monitoring_incidents i left join tickets t on t.id = i.ticket_id where i.site_id = $1 and i.state = 'open'`,
          [placed.stormSite],
        )
      ).rows[0];
      if (inc && incidentAt === null) incidentAt = Number(inc.at);
      if (inc?.ticket_at && incidentTicketAt === null) incidentTicketAt = Number(inc.ticket_at);
      const ticketed = await count(
        c,
        "select count(*) n from monitoring_alerts where fired_at >= $1 and ticket_id is not null and (device_id, check_id) in (select * from unnest($2::uuid[], $3::uuid[]))",
        [stormStart, storm.map((s) => s.deviceId), storm.map((s) => s.checkId)],
      );
      if (incidentTicketAt !== null && ticketed >= storm.length && Date.now() > settleAt) break;
      await sleep(1000);
    }
    await stormWatch.stop();
    const fired = await firedSince(c, stormFrom);
    const stormEpisodes = (await allEpisodes(fleet)).filter((e) => e.forced && e.sent[0]! >= stormAt - 1000);
    const stormLat = latencies(fired, stormEpisodes, stormWatch.seen);
    const tickets = (
      await c.query<{ kind: string; n: string }>(
        `select case when subject like 'Site offline:%' then 'site offline'
           when subject like '% is offline' then 'device offline' else 'check failing' end as kind, count(*) n
         from tickets where created_at >= $1 group by 1`,
        [stormStart],
      )
    ).rows;
    // The storm's failing checks: the tickets their alerts opened or joined (one per check and client,
    // or an open one of the same check and client fired within MONITORING_GROUP_SECONDS).
    const checkTickets = (
      await c.query<{ name: string; tickets: string; clients: string; alerts: string; older: string }>(
        `select a.name, count(distinct a.ticket_id) tickets, count(distinct a.client_id) clients, count(*) alerts,
           count(distinct a.ticket_id) filter (where t.created_at < $1) older
         from monitoring_alerts a left join tickets t on t.id = a.ticket_id
         where a.fired_at >= $1 and (a.device_id, a.check_id) in (select * from unnest($2::uuid[], $3::uuid[]))
         group by a.name order by a.name`,
        [stormStart, storm.map((s) => s.deviceId), storm.map((s) => s.checkId)],
      )
    ).rows;
    const otherAlerts = await count(
      c,
      "select count(*) n from monitoring_alerts where fired_at >= $1 and check_key <> 'offline' and (device_id, check_id) not in (select * from unnest($2::uuid[], $3::uuid[]))",
      [stormStart, storm.map((s) => s.deviceId), storm.map((s) => s.checkId)],
    );
    const offline = (
      await c.query<{ alerts: string; attached: string; own_tickets: string }>(
        `select count(*) alerts, count(*) filter (where incident_id is not null) attached,
           count(*) filter (where ticket_id is not null) own_tickets
         from monitoring_alerts a join devices d on d.id = a.device_id
         where a.check_key = 'offline' and d.site_id = $1 and a.state <> 'resolved'`,
        [placed.stormSite],
      )
    ).rows[0]!;
    const stateRows = await count(
      c,
      "select count(*) n from monitoring_check_states s where s.state = 'critical' and s.reported_at >= $1 and (s.device_id, s.check_id) in (select * from unnest($2::uuid[], $3::uuid[]))",
      [stormStart, storm.map((s) => s.deviceId), storm.map((s) => s.checkId)],
    );
    const stormAlerts = await count(
      c,
      "select count(*) n from monitoring_alerts where fired_at >= $1 and check_key <> 'offline' and (device_id, check_id) in (select * from unnest($2::uuid[], $3::uuid[]))",
      [stormStart, storm.map((s) => s.deviceId), storm.map((s) => s.checkId)],
    );
    const incidents = await count(c, "select count(*) n from monitoring_incidents where opened_at >= $1", [
      stormStart,
    ]);
    results.storm = {
      siteDevicesSilenced: SITE_DEVICES,
      checksFailing: storm.length,
      checksFound: stormFound,
      devicesWithFailingChecks: new Set(storm.map((s) => s.deviceId)).size,
      clientsWithFailingChecks: Number(checkTickets.reduce((m, r) => Math.max(m, Number(r.clients)), 0)),
      incidents,
      incidentSecondsAfterOutage: incidentAt === null ? null : r1((incidentAt - stormAt) / 1000),
      incidentSecondsAfterLastHeartbeat: incidentAt === null ? null : r1((incidentAt - lastHeartbeat) / 1000),
      incidentTicketSecondsAfterOutage:
        incidentTicketAt === null ? null : r1((incidentTicketAt - stormAt) / 1000),
      targetSeconds: GRACE_S + 10,
      offlineAlerts: Number(offline.alerts),
      offlineAlertsInIncident: Number(offline.attached),
      offlineAlertsWithOwnTicket: Number(offline.own_tickets),
      ticketsCreated: (await count(c, "select count(*) n from tickets")) - ticketsBefore,
      ticketsByKind: Object.fromEntries(tickets.map((t) => [t.kind, Number(t.n)])),
      stormCheckAlerts: checkTickets.map((r) => ({
        check: r.name,
        alerts: Number(r.alerts),
        clients: Number(r.clients),
        tickets: Number(r.tickets),
        ticketsFromBeforeTheStorm: Number(r.older),
      })),
      // Random failure episodes meanwhile (the steady rate), not part of the storm.
      otherCheckAlertsMeanwhile: otherAlerts,
      lost: {
        stateRowsRecorded: stateRows,
        alertsFired: stormAlerts,
        expected: storm.length,
      },
      alertToTicketMs: summarize(stormLat.map((l) => l.toEvent)),
      alertToTicketCommittedSeenMs: summarize(stormLat.flatMap((l) => (l.toSeen === null ? [] : [l.toSeen]))),
    };
    log(`  ${JSON.stringify(results.storm)}`);

    // Metric history: one row per device and hour, updated by each summary; the size it keeps per device
    // and day (live rows and their index entries), and the table's size as it stands (with dead rows).
    await c.query("vacuum analyze monitoring_metrics");
    const m = (
      await c.query<{
        rows: string;
        devices: string;
        hours: string;
        row_bytes: string;
        total: string;
        indexes: string;
      }>(
        `select count(*) rows, count(distinct device_id) devices, count(distinct hour) hours,
           avg(pg_column_size(m.*)) row_bytes, pg_total_relation_size('monitoring_metrics') total,
           pg_indexes_size('monitoring_metrics') indexes
         from monitoring_metrics m`,
      )
    ).rows[0]!;
    const rows = Number(m.rows);
    const indexPerRow = Number(m.indexes) / Math.max(1, rows);
    const tupleOverhead = 28; // heap tuple header and line pointer
    results.metricHistory = {
      rows,
      devices: Number(m.devices),
      hours: Number(m.hours),
      avgRowBytes: Math.round(Number(m.row_bytes)),
      indexBytesPerRow: Math.round(indexPerRow),
      tableTotalBytes: Number(m.total),
      bytesPerDevicePerDay: Math.round(24 * (Number(m.row_bytes) + tupleOverhead + indexPerRow)),
      bytesPerDevicePerDayAsStored: Math.round((24 * Number(m.total)) / Math.max(1, rows)),
      retentionDays: 30,
      targetBytesPerDevicePerDay: 50 * 1024,
      note: "one row per device and hour ({check: {n, sums}}), whatever the summary interval; 24 rows a day; deleted after MONITORING_METRIC_DAYS (30 by default) by the sweep",
    };
    log(`  metric history: ${JSON.stringify(results.metricHistory)}`);

    loads.end = loadAverage();
    results.loadAverage = loads;
    const costServer = cost.gatewaysAndDatabase as {
      cpuMsPer1000CheckResults: number | null;
      cpuMsPer1000Heartbeats: number | null;
    };
    const st = results.storm as {
      incidents: number;
      incidentSecondsAfterOutage: number | null;
      ticketsCreated: number;
    };
    results.targets = {
      serverCpuMsPer1000CheckResults: {
        measured: costServer.cpuMsPer1000CheckResults,
        baselinePer1000Heartbeats: costServer.cpuMsPer1000Heartbeats,
      },
      alertToTicketP99Ms: {
        target: 2000,
        measured: (results.alertToTicket as { wave: { toEventMs: { p99: number } } }).wave.toEventMs.p99,
      },
      siteOutageOneIncidentSeconds: {
        target: GRACE_S + 10,
        measured: st.incidentSecondsAfterOutage,
        incidents: st.incidents,
      },
      stormTickets: { target: "one per incident", measured: st.ticketsCreated },
      metricHistoryBytesPerDevicePerDay: {
        target: 50 * 1024,
        measured: (results.metricHistory as { bytesPerDevicePerDay: number }).bytesPerDevicePerDay,
      },
    };
    mkdirSync(path.join(ROOT, "bench/results"), { recursive: true });
    writeFileSync(path.join(ROOT, "bench/results", OUTPUT), `${JSON.stringify(results, null, 2)}\n`);
    log(`results in bench/results/${OUTPUT}; load ${loads.end.join(" ")}`);
    await fleet.stop();
  } finally {
    fleet?.kill();
    gateways?.kill();
    await pgCpu?.stop().catch(() => {});
    await c.end().catch(() => {});
    await watcher.end().catch(() => {});
    await handle.close();
    await admin.query(`drop database if exists ${dbName} with (force)`).catch(() => {});
    await admin.end();
    rmSync(DATA_DIR, { recursive: true, force: true });
  }
}

if (process.env.BENCH_MONITORING_MODE === "inprocess") await import("./inprocess.ts");
else await main();
