import type { JobWithMetadata } from "pg-boss";
import type { EmailDeps } from "./deps.ts";
import { INBOUND_QUEUE, type InboundJob, loadMessages, processInbound } from "./ingest.ts";
import { OUTBOUND_QUEUE, sendOutbound } from "./outbound.ts";
import { closeTransports } from "./transport.ts";

const INBOUND_POLICY = { retryLimit: 10, retryDelay: 2, retryBackoff: true };
const OUTBOUND_POLICY = { retryLimit: 8, retryDelay: 30, retryBackoff: true, retryDelayMax: 3600 };

/**
 * Creates the email queues; every process that enqueues (api and worker roles) needs them to exist.
 * `notify` stays off (and is switched off on queues created before): a queue with it makes every send
 * issue a pg_notify in the sender's transaction, and PostgreSQL serialises the commits of all
 * transactions that notified - the SMTP accept and the processing transaction would queue behind each
 * other. Workers poll instead, briefly while a backlog drains (see startEmailWorkers).
 */
export async function createEmailQueues(deps: EmailDeps) {
  for (const [name, policy] of [
    [INBOUND_QUEUE, INBOUND_POLICY],
    [OUTBOUND_QUEUE, OUTBOUND_POLICY],
  ] as const) {
    await deps.boss.createQueue(name, policy);
    await deps.boss.updateQueue(name, { notify: false });
  }
}

/** Settles each job of a batch on its own: one poison message fails alone and is retried alone. */
async function settleEach<T>(
  jobs: Array<{ id: string; data: T }>,
  run: (job: { id: string; data: T }) => Promise<unknown>,
) {
  const results = await Promise.allSettled(jobs.map(run));
  return results.map((r, i) => ({
    id: jobs[i]?.id as string,
    status: r.status === "fulfilled" ? ("completed" as const) : ("failed" as const),
    output: r.status === "rejected" ? { error: String((r.reason as Error)?.message ?? r.reason) } : undefined,
  }));
}

/**
 * Runs inbound processing and outbound delivery. Workers fetch batches and keep fetching while batches
 * come back full, so a backlog drains without waiting out the poll interval between jobs. Messages are
 * independent: a conversation's order is kept by the lock on its ticket, a new sender's by a lock on
 * the address (see ingest.ts).
 */
export async function startEmailWorkers(deps: EmailDeps, opts: { concurrency?: number } = {}) {
  await createEmailQueues(deps);
  const workers: Array<[string, string]> = [];
  workers.push([
    INBOUND_QUEUE,
    await deps.boss.work<InboundJob>(
      INBOUND_QUEUE,
      {
        batchSize: 8,
        burstWhenBatchFull: true,
        localConcurrency: opts.concurrency ?? 2,
        pollingIntervalSeconds: 0.5,
        includeMetadata: true,
        perJobResults: true,
      },
      async (jobs) => {
        // One query for the batch's rows instead of one per message; each still runs in its own transaction.
        const rows = await loadMessages(
          deps,
          jobs.map((j) => j.data.id),
        ).catch(() => new Map());
        return settleEach(jobs as JobWithMetadata<InboundJob>[], (job) => {
          const j = job as JobWithMetadata<InboundJob>;
          return processInbound(deps, j.data, {
            finalAttempt: j.retryCount >= j.retryLimit,
            row: rows.get(j.data.id),
          });
        });
      },
    ),
  ]);
  workers.push([
    OUTBOUND_QUEUE,
    await deps.boss.work<{ id: string }>(
      OUTBOUND_QUEUE,
      {
        batchSize: 8,
        burstWhenBatchFull: true,
        pollingIntervalSeconds: 0.5,
        includeMetadata: true,
        perJobResults: true,
      },
      (jobs) =>
        settleEach(jobs as JobWithMetadata<{ id: string }>[], (job) => {
          const j = job as JobWithMetadata<{ id: string }>;
          return sendOutbound(deps, { id: j.data.id, retryCount: j.retryCount, retryLimit: j.retryLimit });
        }),
    ),
  ]);
  return {
    async stop() {
      for (const [name, id] of workers) await deps.boss.offWork(name, { id }).catch(() => {});
      closeTransports();
    },
  };
}
