import path from "node:path";
import pino from "pino";
import { buildApp } from "./app.ts";
import type { Config } from "./config.ts";
import { connectDatabase } from "./db/database.ts";
import { type EmbeddedServer, startEmbeddedPostgres } from "./db/embedded.ts";
import { migrateToLatest } from "./db/migrate.ts";
import { provisionAppRole } from "./db/roles.ts";
import { registerEmailHandlers, startEmailChannel } from "./domains/email/channel.ts";
import { EventDispatcher } from "./domains/events/dispatcher.ts";
import { LiveHub } from "./domains/events/live.ts";
import { registerMonitoringHandlers } from "./domains/monitoring/notify.ts";
import { startMonitoringSweep } from "./domains/monitoring/worker.ts";
import {
  createSchedulingQueues,
  registerSchedulingHandlers,
  startSchedulingWorkers,
} from "./domains/scheduling/jobs.ts";
import { ensureAdminFromEnv } from "./domains/setup/service.ts";
import { createSlaQueues, registerSlaHandlers, startSlaWorkers } from "./domains/sla/jobs.ts";
import { startGateway } from "./gateway/start.ts";
import { LocalBlobStore } from "./lib/blob-store.ts";
import { enableJobHeartbeats, startJobRecovery } from "./lib/job-recovery.ts";
import { startBoss } from "./lib/jobs.ts";
import { smsProviderFromConfig } from "./lib/sms.ts";

export type Logger = pino.Logger;

export function createLogger(config: Pick<Config, "LOG_LEVEL">) {
  return pino({
    level: config.LOG_LEVEL,
    // Secrets never reach the log, whichever object carries them.
    redact: {
      paths: [
        "req.headers.authorization",
        "req.headers.cookie",
        'res.headers["set-cookie"]',
        "*.password",
        "*.token",
        "password",
        "token",
      ],
      censor: "[redacted]",
    },
  });
}

/** Opens the database the configuration names: DATABASE_URL, or the embedded server under the data dir. */
export async function openDatabase(config: Config, log?: Logger) {
  let embedded: EmbeddedServer | null = null;
  let url = config.DATABASE_URL;
  if (!url) {
    embedded = await startEmbeddedPostgres({
      dir: path.join(config.dataDir, "postgres"),
      port: config.SWITCHBOARD_EMBEDDED_PG_PORT,
      log: (line) => log?.debug({ postgres: line }),
      info: (line) => log?.info(line),
    });
    url = embedded.url;
  }
  const handle = connectDatabase(url, { max: config.DB_POOL_SIZE });
  let poolOpen = true;
  const closePool = async () => {
    if (poolOpen) await handle.close();
    poolOpen = false;
  };
  return {
    ...handle,
    embedded,
    closePool,
    async close() {
      await closePool();
      await embedded?.stop();
    },
  };
}

/**
 * The server's own connections: migrates as the owner, then connects as the login role that row-level
 * security applies to (db/roles.ts), every statement under its request's scope (db/scope.ts).
 */
export async function openAppDatabase(config: Config, log?: Logger) {
  const owner = await openDatabase(config, log);
  try {
    const applied = await migrateToLatest(owner.db);
    if (applied.length) log?.info({ applied }, "migrations applied");
    const role = await provisionAppRole(owner.db, owner.url, { appUrl: config.DATABASE_APP_URL });
    const handle = connectDatabase(role.url, { max: config.DB_POOL_SIZE, scopeRoles: role.roles });
    await owner.closePool();
    return {
      ...handle,
      /** The owner's URL: pg-boss creates and maintains its own schema with it. */
      ownerUrl: owner.url,
      embedded: owner.embedded,
      async close() {
        await handle.close();
        await owner.close();
      },
    };
  } catch (err) {
    await owner.close();
    throw err;
  }
}

/** Starts the roles this process runs (api, worker, gateway) and listens. */
export async function startServer(config: Config, log = createLogger(config)) {
  const roles = new Set(config.SWITCHBOARD_ROLES);
  const database = await openAppDatabase(config, log);
  const closers: Array<() => Promise<void> | void> = [];
  try {
    await ensureAdminFromEnv(database.db, config, log);

    const live = new LiveHub(database.db, database.url);
    await live.start();
    closers.push(() => live.close());

    // Every process can enqueue jobs; only workers run them and the maintenance schedule.
    const boss = await startBoss(database.ownerUrl, { supervise: roles.has("worker") });
    // Registered before any worker fetches; workers requeue at once what a dead process held (lib/job-recovery.ts).
    const recovery = await startJobRecovery(database.ownerUrl, { reap: roles.has("worker"), log });
    closers.push(async () => {
      await boss.stop({ graceful: true, timeout: 10_000 });
      await recovery.stop();
    });

    const blobs = new LocalBlobStore(path.join(config.dataDir, "blobs"));
    const deps = { db: database.db, config, live, blobs, boss, logger: log };

    await createSchedulingQueues(boss);
    await createSlaQueues(boss);
    if (roles.has("worker")) {
      const dispatcher = new EventDispatcher(database.db, boss);
      registerEmailHandlers(dispatcher, { ...deps, log });
      registerSchedulingHandlers(dispatcher, { ...deps, log });
      closers.push((await startSchedulingWorkers({ ...deps, log })).stop);
      const slaDeps = { ...deps, sms: smsProviderFromConfig(config) };
      registerSlaHandlers(dispatcher, slaDeps);
      closers.push((await startSlaWorkers(slaDeps)).stop);
      closers.push(startMonitoringSweep(database.db, config, log).stop);
      registerMonitoringHandlers(dispatcher, { ...deps, log });
      await dispatcher.start(live);
      closers.push(() => dispatcher.stop());
    }

    // Inbound mail (SMTP listener when SWITCHBOARD_SMTP_PORT is set, IMAP sessions) and outbound delivery.
    closers.push((await startEmailChannel({ ...deps, log }, { worker: roles.has("worker") })).stop);

    // Every queue exists by now: each gets pg-boss's job heartbeat, so another live worker notices too.
    await enableJobHeartbeats(boss, config.JOB_HEARTBEAT_SECONDS);

    const app = await buildApp(deps);
    closers.push(() => app.close());
    // Agents connect over WebSocket on the same port; stopped before the app so they are told first.
    if (roles.has("gateway")) closers.push((await startGateway(app, deps)).stop);
    // A deep accept queue: thousands of agents reconnecting after a restart arrive in bursts, and Node's
    // default of 511 overflowed (the kernel drops the SYNs, and each agent waits out a retransmit).
    await app.listen({ port: config.PORT, host: config.HOST, backlog: 4096 });
    log.info({ url: `http://localhost:${config.PORT}`, roles: [...roles] }, "Switchboard is ready");

    let stopping: Promise<void> | null = null;
    const stop = () => {
      stopping ??= (async () => {
        for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => {});
        await database.close();
      })();
      return stopping;
    };
    return { app, deps, stop };
  } catch (err) {
    for (const close of closers.reverse()) await Promise.resolve(close()).catch(() => {});
    await database.close();
    throw err;
  }
}
