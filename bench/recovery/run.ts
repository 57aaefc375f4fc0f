/**
 * Job recovery benchmark: what the sweep that requeues a dead process's jobs (apps/server/src/lib/
 * job-recovery.ts) costs a worker, with the partial index on active jobs against the same sweep without
 * it (a scan of every retained job) in the same run. See bench/README.md (recovery).
 */
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { startEmbeddedPostgres } from "../../apps/server/src/db/embedded.ts";
import { startJobRecovery } from "../../apps/server/src/lib/job-recovery.ts";
import { startBoss } from "../../apps/server/src/lib/jobs.ts";
import { summarize } from "../lib/stats.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const RETAINED = Number(process.env.BENCH_RECOVERY_JOBS ?? 200_000);
const ACTIVE = 8;
const SWEEPS = 100;
const log = (msg: string) => console.log(`[bench:recovery ${new Date().toISOString().slice(11, 19)}] ${msg}`);

async function main() {
  const work = await mkdtemp(path.join(os.tmpdir(), "switchboard-bench-recovery-"));
  const server = process.env.BENCH_DATABASE_URL
    ? { url: process.env.BENCH_DATABASE_URL, stop: async () => {} }
    : await startEmbeddedPostgres({ dir: path.join(work, "pg") });
  const boss = await startBoss(server.url, { supervise: false, schedule: false });
  const db = new pg.Client({ connectionString: server.url });
  await db.connect();
  try {
    await boss.createQueue("bench.recovery");
    log(`${RETAINED} completed jobs retained, ${ACTIVE} active`);
    await db.query(
      `insert into pgboss.job (name, data, state, started_on, completed_on)
       select 'bench.recovery', jsonb_build_object('i', g), 'completed', now(), now() from generate_series(1, $1) g`,
      [RETAINED],
    );
    await db.query(
      `insert into pgboss.job (name, data, state, started_on)
       select 'bench.recovery', jsonb_build_object('i', g), 'active', now() from generate_series(1, $1) g`,
      [ACTIVE],
    );
    await db.query("analyze pgboss.job");
    // Nothing to requeue (the active jobs belong to this live process): the steady-state sweep.
    const recovery = await startJobRecovery(server.url, { reap: false });
    const measure = async () => {
      for (let i = 0; i < 10; i++) await recovery.reapNow();
      const ms: number[] = [];
      for (let i = 0; i < SWEEPS; i++) {
        const t0 = performance.now();
        await recovery.reapNow();
        ms.push(performance.now() - t0);
      }
      return summarize(ms);
    };
    const indexed = await measure();
    await db.query("drop index pgboss.sb_job_active");
    const baseline = await measure();
    await recovery.stop();
    const result = {
      at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model ?? "?" },
      retainedJobs: RETAINED,
      activeJobs: ACTIVE,
      sweepsPerMinute: 30,
      sweepMs: { withPartialIndex: indexed, baselineWithoutIndex: baseline },
      ratio: Math.round((baseline.p50 / Math.max(indexed.p50, 0.001)) * 10) / 10,
      workerCpuShareAtTwoSeconds: Math.round((indexed.p50 / 2000) * 1e5) / 1e3,
    };
    await mkdir(path.join(ROOT, "bench", "results"), { recursive: true });
    await writeFile(
      path.join(ROOT, "bench", "results", "recovery.json"),
      `${JSON.stringify(result, null, 2)}\n`,
    );
    log(
      `sweep p50 ${indexed.p50} ms with the partial index, ${baseline.p50} ms without (ratio ${result.ratio}); every 2 s that is ${result.workerCpuShareAtTwoSeconds} % of a connection's time`,
    );
  } finally {
    await db.end();
    await boss.stop({ graceful: false, timeout: 1000 });
    await server.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
