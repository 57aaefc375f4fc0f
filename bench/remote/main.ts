// The remote shell benchmark (see README.md): keystroke echo round trips through console socket ->
// server -> gateway -> agent PTY -> back, in one process and across two over NATS; `cat` of a large file
// through the shell against a bare WebSocket pipe; many shells at once; with simulated agents connected.
import { fork } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import WebSocket from "ws";
import { connectDatabase } from "../../apps/server/src/db/database.ts";
import { migrateToLatest } from "../../apps/server/src/db/migrate.ts";
import { makeDevices } from "../agents/devices.ts";
import { Fleet, type Spec } from "../agents/fleet-control.ts";
import { DATA_DIR, startSwitchboard } from "../agents/gateways.ts";
import {
  ADDRESSES,
  ADMIN_URL,
  AGENTS,
  BACKOFF,
  env,
  GATEWAYS,
  HEARTBEAT_S,
  log,
  PORT,
  ROOT,
  WORKERS,
} from "../agents/options.ts";
import { loadAverage, sleep } from "../agents/proc.ts";
import { summarize } from "../lib/stats.ts";
import { Shell } from "./console.ts";

const SHELLS = env("BENCH_SHELLS", 50);
const ECHOES = env("BENCH_ECHOES", 500);
const CAT_MB = env("BENCH_CAT_MB", 100);
const round = (x: number) => Math.round(x * 100) / 100;

async function writeCatFile(file: string) {
  const line = `${"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ".repeat(2)}\n`;
  const out = createWriteStream(file);
  const block = line.repeat(Math.ceil((1024 * 1024) / line.length)).slice(0, 1024 * 1024);
  for (let i = 0; i < CAT_MB; i++)
    if (!out.write(block)) await new Promise<void>((r) => out.once("drain", () => r()));
  await new Promise<void>((r) => out.end(() => r()));
}

/** The same bytes through a bare ws server in the console's framing: MB/s. */
async function bareThroughput(file: string) {
  const child = fork(path.join(import.meta.dirname, "bare-pipe.ts"), [file], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const port = await new Promise<number>((r) => child.once("message", (m: { port: number }) => r(m.port)));
  try {
    const t0 = performance.now();
    let bytes = 0;
    await new Promise<void>((resolve) => {
      const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
      ws.on("message", (data) => {
        const f = JSON.parse(data.toString()) as { d: string };
        bytes += f.d.length;
        if (f.d.includes("__DONE__")) {
          ws.close();
          resolve();
        }
      });
    });
    const s = (performance.now() - t0) / 1000;
    return { seconds: round(s), megabytesPerSecond: round(bytes / 1048576 / s) };
  } finally {
    child.kill();
  }
}

async function catThroughput(shell: Shell, file: string) {
  const done = shell.until((tail) => tail.includes("__DONE__\r\n"), 600_000);
  const before = shell.received;
  const t0 = performance.now();
  shell.type(`cat ${file}; echo __D''ONE__\r`);
  await done;
  const s = (performance.now() - t0) / 1000;
  return { seconds: round(s), megabytesPerSecond: round((shell.received - before) / 1048576 / s) };
}

async function main() {
  const loadAtStart = loadAverage();
  log(
    `remote: ${AGENTS} agents (${SHELLS} of them real agents with PTYs) over ${GATEWAYS} gateway process(es); load ${loadAtStart.join(" ")}`,
  );
  if (SHELLS < 2 || SHELLS >= AGENTS)
    throw new Error("BENCH_SHELLS: at least 2, and fewer than BENCH_AGENTS");
  const dbName = `sb_bench_remote_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${dbName}`);
  const u = new URL(ADMIN_URL);
  u.pathname = `/${dbName}`;
  const url = u.toString();
  const handle = connectDatabase(url, { max: 4 });
  const file = path.join(tmpdir(), `sb-bench-remote-${process.pid}.txt`);
  const results: Record<string, unknown> = {
    machine: { cpus: cpus().length, node: process.version },
    config: {
      agents: AGENTS,
      realAgentsWithShells: SHELLS,
      gatewayProcesses: GATEWAYS,
      fleetWorkers: WORKERS,
      echoes: ECHOES,
      catMegabytes: CAT_MB,
      shell: "/bin/sh via script(1)",
    },
  };
  const loadAverages: Record<string, number[]> = { start: loadAtStart };
  let fleet: Fleet | null = null;
  let gateways: Awaited<ReturnType<typeof startSwitchboard>> | null = null;
  const agents = fork(path.join(import.meta.dirname, "shell-agents.ts"), [], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    // The machine's interactive bash start-up files are slow and not what is measured.
    env: { ...process.env, SWITCHBOARD_AGENT_SHELL: "/bin/sh" },
  });
  try {
    await migrateToLatest(handle.db);
    log("making devices and keys; the file to cat");
    const { specs, token } = await makeDevices(handle.db);
    await writeCatFile(file);
    log(`  bare ws pipe: ${CAT_MB} MB`);
    results.bareWsPipe = await bareThroughput(file);
    log(`  bare ws pipe: ${JSON.stringify(results.bareWsPipe)}`);

    gateways = await startSwitchboard(url);
    const serverKey = (
      await handle.db.selectFrom("agent_signing_key").select("public_key").executeTakeFirstOrThrow()
    ).public_key;
    const real: Spec[] = specs.slice(0, SHELLS);
    const simulated = specs.slice(SHELLS);
    fleet = await Fleet.start({
      urls: gateways.urls(),
      serverKey,
      addresses: ADDRESSES,
      heartbeatMs: HEARTBEAT_S * 1000,
      bare: false,
      backoff: BACKOFF,
    });
    log(`  connecting ${simulated.length} simulated agents`);
    await fleet.connect(simulated);
    await fleet.waitConnected(simulated.length, 900_000);
    log(`  starting ${SHELLS} real agents`);
    const ready = new Promise((r) => agents.once("message", r));
    agents.send({
      op: "start",
      serverKey,
      specs: real.map((s) => ({
        deviceId: s.deviceId,
        keyPem: s.keyPem,
        url: `http://127.0.0.1:${PORT + s.gateway}`,
      })),
    });
    await ready;
    await sleep(3000);
    loadAverages.measuring = loadAverage();
    const base = `http://127.0.0.1:${PORT}`;
    const onGateway = (g: number) => real.find((s) => s.gateway === g)!;

    const paths: Array<[string, Spec]> = [["sameProcess", onGateway(0)]];
    if (GATEWAYS > 1) paths.push(["viaNats", onGateway(1)]);
    for (const [name, spec] of paths) {
      log(`  ${name}: ${ECHOES} keystrokes, then cat ${CAT_MB} MB`);
      const shell = await Shell.open(base, token, spec.deviceId);
      await sleep(1000);
      const echo = summarize(await shell.echoes(ECHOES));
      await sleep(200);
      const cat = await catThroughput(shell, file);
      results[name] = {
        keystrokeEcho: echo,
        cat,
        ratioToBareWsPipe: round(
          cat.megabytesPerSecond / (results.bareWsPipe as { megabytesPerSecond: number }).megabytesPerSecond,
        ),
      };
      log(`  ${name}: ${JSON.stringify(results[name])}`);
      shell.close();
    }

    log(`  ${SHELLS} concurrent shells`);
    const t0 = performance.now();
    const shells = await Promise.all(real.map((s) => Shell.open(base, token, s.deviceId)));
    const openSeconds = round((performance.now() - t0) / 1000);
    await sleep(2000);
    const all = (await Promise.all(shells.map((s) => s.echoes(50)))).flat();
    results.concurrentShells = { shells: SHELLS, openAllSeconds: openSeconds, keystrokeEcho: summarize(all) };
    log(`  concurrent: ${JSON.stringify(results.concurrentShells)}`);
    for (const s of shells) s.close();

    loadAverages.end = loadAverage();
    results.loadAverage = loadAverages;
    results.targets = {
      keystrokeEchoP99Ms: {
        target: 50,
        sameProcess: (results.sameProcess as { keystrokeEcho: { p99: number } }).keystrokeEcho.p99,
        viaNats:
          (results.viaNats as { keystrokeEcho: { p99: number } } | undefined)?.keystrokeEcho.p99 ?? null,
      },
    };
    mkdirSync(path.join(ROOT, "bench/results"), { recursive: true });
    writeFileSync(
      path.join(ROOT, "bench/results", process.env.BENCH_OUTPUT ?? "remote.json"),
      `${JSON.stringify(results, null, 2)}\n`,
    );
    process.stdout.write(`${JSON.stringify(results, null, 2)}\n`);
  } finally {
    agents.kill("SIGKILL");
    fleet?.kill();
    gateways?.kill();
    rmSync(file, { force: true });
    await handle.close();
    await admin.query(`drop database if exists ${dbName} with (force)`).catch(() => {});
    await admin.end();
    rmSync(DATA_DIR, { recursive: true, force: true });
  }
}

await main();
