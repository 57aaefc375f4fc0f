// `npm run bench:agents`: a fleet of simulated agents against the real gateway, and the same fleet against
// a bare `ws` server, on this machine. See bench/README.md (agents) for what is measured and how.
import { type ChildProcess, fork, spawn } from "node:child_process";
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import pg from "pg";
import { connectDatabase } from "../../apps/server/src/db/database.ts";
import { migrateToLatest } from "../../apps/server/src/db/migrate.ts";
import { newSecret, sha256 } from "../../apps/server/src/domains/auth/crypto.ts";
import { Fleet, type Spec, steady } from "./fleet-control.ts";
import { commandRoundTrips, offlineDetection } from "./measures.ts";
import {
  ADDRESSES,
  ADMIN_URL,
  AGENTS,
  BACKOFF,
  COMMANDS,
  FD_LIMIT,
  HEARTBEAT_S,
  log,
  MISSED,
  PORT,
  REQUESTED,
  ROOT,
  SILENT,
  STEADY_S,
  STEPS,
  WORKERS,
} from "./options.ts";
import { rssBytes, sleep } from "./proc.ts";

async function baseline(specs: Spec[]) {
  log(`baseline: bare ws server, ${AGENTS} connections`);
  const bare = fork(path.join(import.meta.dirname, "bare-server.ts"), [], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const port = await new Promise<number>((resolve) =>
    bare.once("message", (m: { port: number }) => resolve(m.port)),
  );
  await sleep(1000);
  const rss0 = rssBytes(bare.pid!);
  const fleet = await Fleet.start({
    url: `ws://127.0.0.1:${port}/agent/ws`,
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
    const rss = rssBytes(bare.pid!);
    const st = await steady(bare.pid!, fleet, STEADY_S);
    return {
      connections: AGENTS,
      rssIdleBytes: rss0,
      rssBytes: rss,
      bytesPerConnection: Math.round((rss - rss0) / AGENTS),
      ...st,
    };
  } finally {
    await fleet.stop();
    bare.kill("SIGKILL");
  }
}

function startServer(url: string) {
  // BENCH_SERVER_NODE_ARGS: extra node flags for the server, e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof".
  const extra = process.env.BENCH_SERVER_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  const child = spawn(process.execPath, [...extra, path.join(ROOT, "apps/server/src/main.ts")], {
    env: {
      ...process.env,
      DATABASE_URL: url,
      PORT: String(PORT),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      SWITCHBOARD_ROLES: "api,gateway",
      AGENT_HEARTBEAT_SECONDS: String(HEARTBEAT_S),
      AGENT_OFFLINE_AFTER_MISSED: String(MISSED),
      // Eight loopback addresses stand in for thousands of sites: the per-address limit does not apply.
      AGENT_CONNECTS_PER_ADDRESS_PER_MINUTE: "100000000",
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  return child;
}

async function ready() {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${PORT}/readyz`)).ok) return;
    } catch {}
    await sleep(100);
  }
  throw new Error("server did not become ready in 60 s");
}

async function main() {
  log(
    `agents: ${AGENTS}${AGENTS < REQUESTED ? ` (requested ${REQUESTED}; open-file limit ${FD_LIMIT} caps one process)` : ""}, heartbeat ${HEARTBEAT_S} s, offline after ${MISSED} missed`,
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
  let server: ChildProcess | null = null;
  const results: Record<string, unknown> = {
    machine: { cpus: (await import("node:os")).cpus().length, node: process.version },
    config: {
      requestedAgents: REQUESTED,
      agents: AGENTS,
      openFileLimit: FD_LIMIT,
      heartbeatSeconds: HEARTBEAT_S,
      offlineAfterMissed: MISSED,
      fleetWorkers: WORKERS,
      steadySeconds: STEADY_S,
      sourceAddresses: ADDRESSES.length,
      backoff: BACKOFF,
    },
  };
  try {
    await migrateToLatest(db);
    log("making devices and keys");
    const client = await db
      .insertInto("clients")
      .values({ name: "Bench fleet" })
      .returning("id")
      .executeTakeFirstOrThrow();
    const user = await db
      .insertInto("users")
      .values({ email: "bench@example.test", name: "Bench", role: "admin" })
      .returning("id")
      .executeTakeFirstOrThrow();
    const token = newSecret("sb_");
    await db
      .insertInto("api_tokens")
      .values({ user_id: user.id, name: "bench", token_hash: sha256(token), prefix: token.slice(0, 10) })
      .execute();
    const specs: Spec[] = [];
    for (let i = 0; i < AGENTS; i += 1000) {
      const batch = Array.from({ length: Math.min(1000, AGENTS - i) }, () => generateKeyPairSync("ed25519"));
      const rows = await db
        .insertInto("devices")
        .values(
          batch.map((k, j) => ({
            client_id: client.id,
            hostname: `sim-${i + j}`,
            platform: "linux",
            arch: "x64",
            os_name: "Linux",
            os_version: "sim",
            agent_version: "sim",
            public_key: k.publicKey.export({ format: "der", type: "spki" }).toString("base64"),
          })),
        )
        .returning("id")
        .execute();
      for (const [j, r] of rows.entries()) {
        specs.push({
          deviceId: r.id,
          keyPem: batch[j]!.privateKey.export({ format: "pem", type: "pkcs8" }).toString(),
        });
      }
    }

    if (process.env.BENCH_SKIP_BASELINE !== "1") {
      results.bareWs = await baseline(specs);
      log(`  bare ws: ${JSON.stringify(results.bareWs)}`);
    }

    log("switchboard gateway");
    server = startServer(url);
    await ready();
    await sleep(3000);
    const serverKey = (
      await db.selectFrom("agent_signing_key").select("public_key").executeTakeFirstOrThrow()
    ).public_key;
    const rssIdle = rssBytes(server.pid!);
    const fleet = await Fleet.start({
      url: `ws://127.0.0.1:${PORT}/agent/ws`,
      serverKey,
      addresses: ADDRESSES,
      heartbeatMs: HEARTBEAT_S * 1000,
      bare: false,
      backoff: BACKOFF,
    });
    const steps: Array<Record<string, number>> = [];
    let done = 0;
    for (const step of STEPS) {
      const t0 = Date.now();
      await fleet.connect(specs.slice(done, step));
      await fleet.waitConnected(step, 600_000);
      done = step;
      const connectSeconds = Math.round((Date.now() - t0) / 100) / 10;
      await sleep(5000);
      const rss = rssBytes(server.pid!);
      steps.push({
        agents: step,
        connectSeconds,
        rssBytes: rss,
        bytesPerAgent: Math.round((rss - rssIdle) / step),
      });
      log(
        `  ${step} agents: ${(rss / 1048576).toFixed(0)} MB RSS, ${((rss - rssIdle) / step / 1024).toFixed(1)} KB per agent`,
      );
    }
    const sb: Record<string, unknown> = { rssIdleBytes: rssIdle, steps };
    results.switchboard = sb;
    log(`  steady state for ${STEADY_S} s`);
    Object.assign(sb, await steady(server.pid!, fleet, STEADY_S));
    log(`  steady: ${sb.cpuPercentOfOneCore}% of a core, ${sb.heartbeatsPerSecond} heartbeats/s`);

    log(`  ${COMMANDS} commands`);
    sb.commands = await commandRoundTrips(url, token, specs);
    log(`  commands: ${JSON.stringify(sb.commands)}`);

    log(`  offline detection: ${SILENT} agents go silent`);
    sb.offlineDetection = await offlineDetection(
      url,
      fleet,
      specs.slice(0, SILENT).map((s) => s.deviceId),
    );
    log(`  offline detection: ${JSON.stringify(sb.offlineDetection)}`);

    log("  reconnect storm: gateway restart");
    server.kill("SIGTERM");
    await new Promise((r) => server!.once("exit", r));
    const restartAt = Date.now();
    server = startServer(url);
    await ready();
    const readyAt = Date.now();
    await Promise.all(fleet.procs.map((p) => p.send({ op: "mark", at: readyAt })));
    const before = await fleet.stats();
    const back = await fleet.waitConnected(AGENTS - SILENT, 600_000).then(
      (ms) => ms,
      () => null,
    );
    const after = await fleet.stats();
    sb.reconnectStorm = {
      agents: AGENTS - SILENT,
      serverRestartSeconds: Math.round((readyAt - restartAt) / 100) / 10,
      allBackSecondsAfterReady: back === null ? null : Math.round(back / 100) / 10,
      attempts: after.attempts - before.attempts,
      failedAttemptsAfterReady: after.failedAfterMark,
      failureReasons: after.failReasons,
      authFailures: after.authFailures,
    };
    await fleet.stop();
    const bare = results.bareWs as { bytesPerConnection: number; cpuPercentOfOneCore: number } | undefined;
    const last = steps.at(-1)!;
    if (bare) {
      results.ratioToBareWs = {
        memoryPerConnection: Math.round((last.bytesPerAgent! / bare.bytesPerConnection) * 100) / 100,
        steadyCpu:
          Math.round(((sb.cpuPercentOfOneCore as number) / Math.max(0.1, bare.cpuPercentOfOneCore)) * 100) /
          100,
      };
    }
    results.targets = {
      memoryPerAgentKB: { target: 20, measured: Math.round((last.bytesPerAgent! / 1024) * 10) / 10 },
      commandP99Ms: { target: 100, measured: (sb.commands as { roundTrip: { p99: number } }).roundTrip.p99 },
      offlineDetectionMaxSeconds: {
        target: 2 * HEARTBEAT_S + 5,
        measured: (sb.offlineDetection as { delaySeconds: { max: number } }).delaySeconds.max,
      },
      reconnectAllBackSeconds: {
        target: 60,
        measured: (sb.reconnectStorm as { allBackSecondsAfterReady: number | null }).allBackSecondsAfterReady,
      },
    };
    mkdirSync(path.join(ROOT, "bench/results"), { recursive: true });
    writeFileSync(path.join(ROOT, "bench/results/agents.json"), `${JSON.stringify(results, null, 2)}\n`);
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  } finally {
    server?.kill("SIGKILL");
    await handle.close();
    await admin.query(`drop database if exists ${dbName} with (force)`).catch(() => {});
    await admin.end();
  }
}

await main();
