import { randomBytes } from "node:crypto";
import pg from "pg";
import type { Boss } from "./jobs.ts";

/**
 * Work a dead process held (a pg-boss job in state `active`: inbound mail being processed, a reply being
 * delivered, an event handler, a reminder) goes back to the queue within seconds, not after its
 * fifteen-minute expiry.
 *
 * Every process that runs jobs keeps one connection open whose `application_name` says when it started
 * (`sb-jobs <ms since epoch, database clock> <pg-boss schema> <random>`). PostgreSQL drops that connection the
 * moment the process dies (kill -9 included: the kernel closes its sockets), so `pg_stat_activity` is
 * the list of live job processes, kept by PostgreSQL itself. Two rules then find orphaned jobs:
 *
 * 1. A job claimed before the oldest live process started was claimed by a process that is gone (every
 *    process registers before its workers fetch anything). This is the restart case, and it is decided
 *    the moment the new process registers.
 * 2. A job whose heartbeat (pg-boss refreshes `heartbeat_on` every `heartbeatSeconds / 2` while its
 *    handler runs) is older than its `heartbeatSeconds`: its process died while others, older than the
 *    job, live on. This takes `heartbeatSeconds`.
 *
 * An orphan goes back to `retry`, runnable now (not after the queue's retry delay: the job did not fail,
 * its process did), and counts as an attempt, so a message that kills every process that touches it
 * still ends `failed` after its retry limit. Handlers are idempotent and pg-boss fences a stale worker's
 * completion by attempt, so a job wrongly thought orphaned (a process frozen past its heartbeat) runs
 * twice at worst, never is lost.
 */

const PREFIX = "sb-jobs";
// application_name holds 63 bytes: prefix, 13 digits, the schema and a 6-character suffix.
const SCHEMA = /^[a-z_][a-z0-9_]{0,31}$/;

let currentTag: string | null = null;

/**
 * This process's registration (its `application_name`), while it is registered: other leases a process
 * holds (an IMAP mailbox's) name it as their owner, so a dead owner is seen at once.
 */
export const processTag = () => currentTag;

/** SQL: true when the owner `column` names a registered process that is gone (not any other owner). */
export const ownerGoneSql = (column: string) =>
  `(${column} like '${PREFIX} %' and not exists (select 1 from pg_stat_activity a where a.application_name = ${column}))`;

export interface JobRecovery {
  /** Requeues what dead processes held; returns how many jobs, by queue. */
  reapNow(): Promise<Record<string, number>>;
  stop(): Promise<void>;
}

export async function startJobRecovery(
  url: string,
  opts: {
    schema?: string;
    /** Run the sweep (worker processes); every job process registers either way. */
    reap: boolean;
    intervalMs?: number;
    log?: { warn(obj: object, msg: string): void };
  },
): Promise<JobRecovery> {
  const schema = opts.schema ?? "pgboss";
  if (!SCHEMA.test(schema)) throw new Error(`unexpected pg-boss schema name ${schema}`);
  let startedMs: number | null = null;
  const suffix = randomBytes(3).toString("hex");
  let client: pg.Client | null = null;
  let stopped = false;
  let reconnectTimer: NodeJS.Timeout | null = null;

  const connect = async () => {
    const c = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000, keepAlive: true });
    c.on("error", () => {});
    c.on("end", () => {
      if (client === c) client = null;
      if (!stopped && !reconnectTimer) reconnectTimer = setTimeout(reconnect, 1000);
    });
    await c.connect();
    if (startedMs === null) {
      const { rows } = await c.query<{ ms: string }>(
        `select floor(extract(epoch from ${schema}.job_now()) * 1000)::bigint::text as ms`,
      );
      startedMs = Number(rows[0]?.ms);
    }
    // The server notices a vanished host (not just a dead process) within about 25 s.
    await c.query(
      `select set_config('application_name', $1, false), set_config('tcp_keepalives_idle', '10', false),
              set_config('tcp_keepalives_interval', '5', false), set_config('tcp_keepalives_count', '3', false)`,
      [`${PREFIX} ${startedMs} ${schema} ${suffix}`],
    );
    client = c;
    currentTag = `${PREFIX} ${startedMs} ${schema} ${suffix}`;
  };
  const reconnect = () => {
    reconnectTimer = null;
    if (stopped || client) return;
    connect().catch(() => {
      if (!stopped && !reconnectTimer) reconnectTimer = setTimeout(reconnect, 2000);
    });
  };

  await connect();
  const first = client as pg.Client | null;
  // A partial index: the sweep reads active jobs only, a handful, however many completed ones are kept.
  await first
    ?.query(`create index if not exists sb_job_active on ${schema}.job (started_on) where state = 'active'`)
    .catch((err: Error) =>
      opts.log?.warn({ err: err.message }, "job recovery: no index on active jobs; sweeps scan the table"),
    );

  const sweepSql = `
    with live as (
      select min(split_part(application_name, ' ', 2)::bigint) as since_ms
      from pg_stat_activity
      where datname = current_database()
        and application_name like '${PREFIX} % ${schema} %'
        and split_part(application_name, ' ', 3) = '${schema}'
    )
    update ${schema}.job j set
      state = case when j.retry_count < j.retry_limit then 'retry' else 'failed' end::${schema}.job_state,
      start_after = ${schema}.job_now(),
      completed_on = case when j.retry_count < j.retry_limit then null else ${schema}.job_now() end,
      heartbeat_on = null,
      output = jsonb_build_object('message', 'the process running this job stopped')
    where j.state = 'active'
      and (j.started_on < to_timestamp((select since_ms from live) / 1000.0)
        or (j.heartbeat_seconds is not null
          and coalesce(j.heartbeat_on, j.started_on) + j.heartbeat_seconds * interval '1 second' < ${schema}.job_now()))
    returning j.name`;

  let sweeping: Promise<Record<string, number>> | null = null;
  const reapNow = () => {
    sweeping ??= (async () => {
      const c = client;
      if (!c) return {};
      try {
        const { rows } = await c.query<{ name: string }>(sweepSql);
        const byQueue: Record<string, number> = {};
        for (const r of rows) byQueue[r.name] = (byQueue[r.name] ?? 0) + 1;
        if (rows.length) opts.log?.warn({ jobs: byQueue }, "picked up jobs that a stopped process held");
        return byQueue;
      } catch {
        return {}; // the next tick tries again
      } finally {
        sweeping = null;
      }
    })();
    return sweeping;
  };

  let timer: NodeJS.Timeout | null = null;
  if (opts.reap) {
    await reapNow();
    timer = setInterval(() => void reapNow(), opts.intervalMs ?? 2000);
    timer.unref();
  }
  return {
    reapNow,
    async stop() {
      stopped = true;
      if (currentTag?.endsWith(` ${suffix}`)) currentTag = null;
      if (timer) clearInterval(timer);
      if (reconnectTimer) clearTimeout(reconnectTimer);
      await sweeping;
      await client?.end().catch(() => {});
      client = null;
    },
  };
}

/**
 * Turns on pg-boss's job heartbeat on every queue that has none, so rule 2 above covers jobs of any
 * queue (including queues other code creates later: run after they exist, at each start).
 */
export async function enableJobHeartbeats(boss: Boss, seconds: number) {
  const queues = await boss.getQueues();
  for (const q of queues) {
    if (q.heartbeatSeconds !== seconds) await boss.updateQueue(q.name, { heartbeatSeconds: seconds });
  }
  return queues.length;
}
