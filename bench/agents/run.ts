// `npm run bench:agents`: a fleet of simulated agents against the real gateway processes, and the same
// fleet against as many bare `ws` servers, on this machine. See README.md for what is measured and how.
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import path from "node:path";
import pg from "pg";
import { connectDatabase } from "../../apps/server/src/db/database.ts";
import { migrateToLatest } from "../../apps/server/src/db/migrate.ts";
import { makeDevices } from "./devices.ts";
import { Fleet, type Spec, steady } from "./fleet-control.ts";
import { DATA_DIR, type Gateways, startBare, startSwitchboard } from "./gateways.ts";
import { commandRoundTrips, offlineDetection } from "./measures.ts";
import {
  ADDRESSES,
  ADMIN_URL,
  AGENTS,
  BACKOFF,
  COMMANDS,
  DB_POOL_SIZE,
  FD_LIMIT,
  GATEWAYS,
  HEARTBEAT_S,
  log,
  MISSED,
  OUTPUT,
  PER_PROCESS,
  ROOT,
  SILENT,
  STEADY_S,
  STEPS,
  WORKERS,
} from "./options.ts";
import { loadAverage, natsServerPid, rssBytes, sleep } from "./proc.ts";

const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
const growth = (now: number[], idle: number[]) => sum(now.map((r, i) => r - idle[i]!));

async function baseline(specs: Spec[]) {
  log(`baseline: ${GATEWAYS} bare ws server(s), ${AGENTS} connections`);
  const bare = await startBare();
  await sleep(1000);
  const rss0 = bare.rss();
  const fleet = await Fleet.start({
    urls: bare.urls(),
    serverKey: "",
    addresses: ADDRESSES,
    heartbeatMs: HEARTBEAT_S * 1000,
    bare: true,
    backoff: BACKOFF,
  });
  try {
    await fleet.connect(specs);
    await fleet.waitConnected(AGENTS, 300_000);
    await sleep(5000);
    const rss = bare.rss();
    const st = await steady(() => bare.cpuSeconds(), fleet, STEADY_S);
    return {
      processes: GATEWAYS,
      connections: AGENTS,
      rssIdleBytes: sum(rss0),
      rssBytes: sum(rss),
      bytesPerConnection: Math.round(growth(rss, rss0) / AGENTS),
      ...st,
    };
  } finally {
    await fleet.stop();
    bare.kill();
  }
}

/** The reconnect storm: every gateway process gets SIGTERM and is started again. */
async function storm(gateways: Gateways, url: string, fleet: Fleet) {
  await gateways.stop();
  const restartAt = Date.now();
  const restarted = await startSwitchboard(url);
  const readyAt = Date.now();
  await Promise.all(fleet.procs.map((p) => p.send({ op: "mark", at: readyAt })));
  const before = await fleet.stats();
  const cpu0 = restarted.cpuSeconds();
  const back = await fleet.waitConnected(AGENTS - SILENT, 600_000).then(
    (ms) => ms,
    () => null,
  );
  const after = await fleet.stats();
  const wall = (Date.now() - readyAt) / 1000;
  const percent = (cpuSeconds: number) => Math.round((cpuSeconds / wall) * 1000) / 10;
  return {
    gateways: restarted,
    result: {
      agents: AGENTS - SILENT,
      gatewayProcesses: GATEWAYS,
      serverRestartSeconds: Math.round((readyAt - restartAt) / 100) / 10,
      allBackSecondsAfterReady: back === null ? null : Math.round(back / 100) / 10,
      attempts: after.attempts - before.attempts,
      failedAttemptsAfterReady: after.failedAfterMark,
      failureReasons: after.failReasons,
      authFailures: after.authFailures,
      // From ready to all back: on two cores the fleet's handshakes compete with the gateways' own.
      gatewayCpuPercentOfOneCore: percent(restarted.cpuSeconds() - cpu0),
      fleetCpuPercentOfOneCore: percent(after.cpu - before.cpu),
    },
  };
}

async function switchboard(url: string, specs: Spec[], token: string, serverKey: () => Promise<string>) {
  log(`switchboard: ${GATEWAYS} gateway process(es)${GATEWAYS > 1 ? " routed over NATS" : ""}`);
  let gateways = await startSwitchboard(url);
  const nats = GATEWAYS > 1 ? natsServerPid() : null;
  let fleet: Fleet | null = null;
  try {
    await sleep(3000);
    const rssIdle = gateways.rss();
    const natsIdle = nats ? rssBytes(nats) : 0;
    fleet = await Fleet.start({
      urls: gateways.urls(),
      serverKey: await serverKey(),
      addresses: ADDRESSES,
      heartbeatMs: HEARTBEAT_S * 1000,
      bare: false,
      backoff: BACKOFF,
    });
    const steps: Array<Record<string, number | number[]>> = [];
    let done = 0;
    for (const step of STEPS) {
      const t0 = Date.now();
      await fleet.connect(specs.slice(done, step));
      await fleet.waitConnected(step, 600_000);
      done = step;
      const connectSeconds = Math.round((Date.now() - t0) / 100) / 10;
      await sleep(5000);
      const rss = gateways.rss();
      const bytesPerAgent = Math.round(growth(rss, rssIdle) / step);
      steps.push({
        agents: step,
        connectSeconds,
        rssBytes: sum(rss),
        rssBytesPerGateway: rss,
        bytesPerAgent,
      });
      log(
        `  ${step} agents: ${(sum(rss) / 1048576).toFixed(0)} MB RSS over ${GATEWAYS} process(es), ${(bytesPerAgent / 1024).toFixed(1)} KB per agent`,
      );
    }
    const sb: Record<string, unknown> = {
      gatewayProcesses: GATEWAYS,
      rssIdleBytes: sum(rssIdle),
      rssIdleBytesPerGateway: rssIdle,
      steps,
    };
    // Shared with whatever else uses this NATS server: indicative only.
    if (nats) sb.natsServerRssGrowthBytes = rssBytes(nats) - natsIdle;
    log(`  steady state for ${STEADY_S} s`);
    Object.assign(sb, await steady(() => gateways.cpuSeconds(), fleet, STEADY_S));
    log(`  steady: ${sb.cpuPercentOfOneCore}% of a core, ${sb.heartbeatsPerSecond} heartbeats/s`);

    log(`  ${COMMANDS} commands through gateway 0's API`);
    sb.commands = await commandRoundTrips(url, token, specs);
    log(`  commands: ${JSON.stringify(sb.commands)}`);

    const silent = specs.slice(0, SILENT);
    log(`  offline detection: ${SILENT} agents go silent`);
    sb.offlineDetection = {
      gatewayProcesses: new Set(silent.map((s) => s.gateway)).size,
      ...(await offlineDetection(
        url,
        fleet,
        silent.map((s) => s.deviceId),
      )),
    };
    log(`  offline detection: ${JSON.stringify(sb.offlineDetection)}`);

    log(`  reconnect storm: ${GATEWAYS} gateway process(es) restarted`);
    const s = await storm(gateways, url, fleet);
    gateways = s.gateways;
    sb.reconnectStorm = s.result;
    log(`  reconnect storm: ${JSON.stringify(sb.reconnectStorm)}`);
    await fleet.stop();
    return sb;
  } finally {
    fleet?.kill();
    gateways.kill();
  }
}

async function main() {
  const loadAtStart = loadAverage();
  log(
    `agents: ${AGENTS} over ${GATEWAYS} gateway process(es) and ${WORKERS} fleet workers (at most ${PER_PROCESS} sockets per process; open-file limit ${FD_LIMIT}), heartbeat ${HEARTBEAT_S} s, offline after ${MISSED} missed; load average ${loadAtStart.join(" ")}`,
  );
  const dbName = `sb_bench_agents_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  const u = new URL(ADMIN_URL);
  u.pathname = `/${dbName}`;
  const url = u.toString();
  const handle = connectDatabase(url, { max: 4 });
  const db = handle.db;
  const results: Record<string, unknown> = {
    machine: { cpus: cpus().length, node: process.version },
    config: {
      agents: AGENTS,
      gatewayProcesses: GATEWAYS,
      fleetWorkers: WORKERS,
      maxSocketsPerProcess: PER_PROCESS,
      openFileLimit: FD_LIMIT,
      dbPoolSizePerGateway: DB_POOL_SIZE,
      heartbeatSeconds: HEARTBEAT_S,
      offlineAfterMissed: MISSED,
      steadySeconds: STEADY_S,
      sourceAddresses: ADDRESSES.length,
      backoff: BACKOFF,
    },
  };
  const loadAverages: Record<string, number[]> = { start: loadAtStart };
  try {
    await migrateToLatest(db);
    log("making devices and keys");
    const { specs, token } = await makeDevices(db);

    if (process.env.BENCH_SKIP_BASELINE !== "1") {
      results.bareWs = await baseline(specs);
      log(`  bare ws: ${JSON.stringify(results.bareWs)}`);
    }
    loadAverages.switchboardStart = loadAverage();
    const serverKey = async () =>
      (await db.selectFrom("agent_signing_key").select("public_key").executeTakeFirstOrThrow()).public_key;
    const sb = await switchboard(url, specs, token, serverKey);
    results.switchboard = sb;
    loadAverages.end = loadAverage();
    results.loadAverage = loadAverages;

    const bare = results.bareWs as { bytesPerConnection: number; cpuPercentOfOneCore: number } | undefined;
    const last = (sb.steps as Array<{ bytesPerAgent: number }>).at(-1)!;
    if (bare) {
      results.ratioToBareWs = {
        memoryPerConnection: Math.round((last.bytesPerAgent / bare.bytesPerConnection) * 100) / 100,
        steadyCpu:
          Math.round(((sb.cpuPercentOfOneCore as number) / Math.max(0.1, bare.cpuPercentOfOneCore)) * 100) /
          100,
      };
    }
    results.targets = {
      memoryPerAgentKB: { target: 20, measured: Math.round((last.bytesPerAgent / 1024) * 10) / 10 },
      commandP99Ms: { target: 100, measured: (sb.commands as { roundTrip: { p99: number } }).roundTrip.p99 },
      offlineDetectionMaxSeconds: {
        target: MISSED * HEARTBEAT_S + 5,
        measured: (sb.offlineDetection as { delaySeconds: { max: number } }).delaySeconds.max,
      },
      reconnectAllBackSeconds: {
        target: 60,
        measured: (sb.reconnectStorm as { allBackSecondsAfterReady: number | null }).allBackSecondsAfterReady,
      },
    };
    log(`load average: start ${loadAtStart.join(" ")}, end ${loadAverages.end.join(" ")}`);
    mkdirSync(path.join(ROOT, "bench/results"), { recursive: true });
    writeFileSync(path.join(ROOT, "bench/results", OUTPUT), `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  } finally {
    await handle.close();
    await admin.query(`drop database if exists ${dbName} with (force)`).catch(() => {});
    await admin.end();
    rmSync(DATA_DIR, { recursive: true, force: true });
  }
}

await main();
