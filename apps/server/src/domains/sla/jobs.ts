import type { LiveEvent } from "@switchboard/shared";
import { asSystem } from "../../db/scope.ts";
import type { Boss } from "../../lib/jobs.ts";
import type { EventDispatcher } from "../events/dispatcher.ts";
import {
  deliverPage,
  ESCALATE_QUEUE,
  escalatePage,
  PAGE_JOB_POLICY,
  PAGE_QUEUE,
  pageIfOutOfHours,
} from "../oncall/pages.ts";
import { recomputeMany, recomputeTicketSla, type SlaDeps, SlaLookups, TIMER_QUEUE } from "./recompute.ts";

/** Recomputes the clocks of many tickets after a policy, calendar or assignment change. */
export const RECOMPUTE_QUEUE = "sla.recompute";
const BATCH = 200;

/** The ticket changes that move a clock: what the dispatcher makes a job for. */
export function movesTheClock(event: { type: string; payload: unknown }) {
  const p = (event.payload ?? {}) as { changed?: string[]; kind?: string };
  if (event.type === "ticket.created" || event.type === "ticket.merged") return true;
  if (event.type === "ticket.updated") return !!p.changed?.some((c) => c === "priority" || c === "statusId");
  if (event.type === "ticket.timeline_added")
    return p.kind === "reply" || p.kind === "email" || p.kind === "call";
  return false;
}

/** One ticket event: its clock again, and a page when it is (now) a P1 outside business hours. */
export async function onTicketEvent(deps: SlaDeps, event: LiveEvent) {
  if (!event.ticketId) return;
  await recomputeTicketSla(deps, event.ticketId);
  const p = event.payload as { changed?: string[] };
  if (
    event.type !== "ticket.created" &&
    !(event.type === "ticket.updated" && p.changed?.includes("priority"))
  )
    return;
  await asSystem(() =>
    deps.db.transaction().execute(async (trx) => {
      const t = await trx
        .selectFrom("tickets")
        .select(["id", "number", "subject", "client_id", "priority", "is_open"])
        .where("id", "=", event.ticketId!)
        .executeTakeFirst();
      if (t?.priority !== 1 || !t.is_open) return;
      await pageIfOutOfHours(deps, trx, {
        clientId: t.client_id,
        ticketId: t.id,
        reason: "p1",
        summary: `P1 #${t.number} ${t.subject}`,
        now: new Date(),
      });
    }),
  );
}

const chunks = <T>(items: T[], size: number) =>
  Array.from({ length: Math.ceil(items.length / size) }, (_, i) => items.slice(i * size, (i + 1) * size));

/** Runs `fn` over `items`, at most `limit` at a time; the first failure fails the whole (pg-boss retries). */
async function inParallel<T>(items: T[], limit: number, fn: (item: T) => Promise<unknown>) {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/** Every open ticket's clock (of one client, or all), in batches: after a policy or calendar change. */
export async function recomputeOpenTickets(deps: SlaDeps, clientId: string | null) {
  let after = "00000000-0000-0000-0000-000000000000";
  const lookups = new SlaLookups();
  let total = 0;
  for (;;) {
    const ids = await asSystem(() => {
      let q = deps.db
        .selectFrom("tickets")
        .select("id")
        .where("is_open", "=", true)
        .where("merged_into_id", "is", null)
        .where("id", ">", after)
        .orderBy("id")
        .limit(BATCH);
      if (clientId) q = q.where("client_id", "=", clientId);
      return q.execute();
    });
    // A few at a time: each is its own short transaction, so ticket writes are never blocked for long.
    await inParallel(
      chunks(
        ids.map((r) => r.id),
        25,
      ),
      4,
      (part) => recomputeMany(deps, part, new Date(), lookups),
    );
    total += ids.length;
    if (ids.length < BATCH) return total;
    after = ids.at(-1)!.id;
  }
}

/**
 * How the timer worker fetches (bench:sla's no-op baseline fetches the same way). Many timers fall due in
 * the same minute (a calendar's opening hour, a bulk import's targets): up to 500 at a time, two fetches
 * in flight, fetched again at once while a backlog lasts.
 */
export const TIMER_WORK = {
  batchSize: 500,
  localConcurrency: 2,
  burstWhenBatchFull: true,
  pollingIntervalSeconds: 0.5,
};
/** Tickets per transaction, and transactions at once, per fetched batch of timers. */
const TIMER_CHUNK = 25;
const TIMER_LANES = 3;

/**
 * Fires a batch of timers: each distinct ticket recomputed once (two timers of one ticket, a warning and
 * its due time, are one recompute), in chunks of TIMER_CHUNK through the set-based recompute, each chunk
 * its own short transaction taking the tickets' advisory locks; announcements are claimed there, so a
 * timer delivered twice announces nothing twice. A chunk that fails is retried ticket by ticket: one bad
 * ticket fails its own timers (pg-boss retries them), never its neighbours'. Returns the failed tickets.
 */
export async function fireTimers(deps: SlaDeps, ticketIds: string[]) {
  const ids = [...new Set(ticketIds)].sort();
  const lookups = new SlaLookups();
  const failed = new Map<string, string>();
  await inParallel(chunks(ids, TIMER_CHUNK), TIMER_LANES, async (part) => {
    try {
      await recomputeMany(deps, part, new Date(), lookups);
    } catch {
      for (const id of part) {
        try {
          await recomputeMany(deps, [id], new Date(), lookups);
        } catch (err) {
          failed.set(id, err instanceof Error ? err.message : String(err));
        }
      }
    }
  });
  return failed;
}

export async function createSlaQueues(boss: Boss) {
  for (const name of [TIMER_QUEUE, RECOMPUTE_QUEUE, PAGE_QUEUE, ESCALATE_QUEUE]) {
    await boss.createQueue(name, PAGE_JOB_POLICY);
    await boss.updateQueue(name, { notify: false });
  }
}

/** The timers and pages (worker role). Each handler is idempotent: pg-boss delivers at least once. */
export async function startSlaWorkers(
  deps: SlaDeps & { boss: Boss },
  opts: { pollingIntervalSeconds?: number } = {},
) {
  await createSlaQueues(deps.boss);
  const options = { batchSize: 10, pollingIntervalSeconds: opts.pollingIntervalSeconds ?? 1 };
  const ids: Array<[string, string]> = [
    [
      TIMER_QUEUE,
      await deps.boss.work<{ ticketId: string }>(
        TIMER_QUEUE,
        {
          ...TIMER_WORK,
          pollingIntervalSeconds: opts.pollingIntervalSeconds ?? TIMER_WORK.pollingIntervalSeconds,
          perJobResults: true,
        },
        async (jobs) => {
          const failed = await fireTimers(
            deps,
            jobs.map((j) => j.data.ticketId),
          );
          return jobs.map((j) => {
            const error = failed.get(j.data.ticketId);
            return error
              ? { id: j.id, status: "failed" as const, output: { message: error } }
              : { id: j.id, status: "completed" as const };
          });
        },
      ),
    ],
    [
      RECOMPUTE_QUEUE,
      await deps.boss.work<{ clientId: string | null }>(RECOMPUTE_QUEUE, { batchSize: 1 }, async ([job]) => {
        await recomputeOpenTickets(deps, job!.data.clientId);
      }),
    ],
    [
      PAGE_QUEUE,
      await deps.boss.work<{ pageId: string; level: number }>(
        PAGE_QUEUE,
        { batchSize: 1, pollingIntervalSeconds: options.pollingIntervalSeconds },
        async ([job]) => {
          const { retry } = await deliverPage(deps, job!.data.pageId, job!.data.level);
          // The failure is recorded on the page; throwing makes pg-boss try the SMS again with backoff.
          if (retry) throw retry;
        },
      ),
    ],
    [
      ESCALATE_QUEUE,
      await deps.boss.work<{ pageId: string; level: number }>(ESCALATE_QUEUE, options, async (jobs) => {
        for (const job of jobs) await escalatePage(deps, job.data.pageId, job.data.level);
      }),
    ],
  ];
  return {
    async stop() {
      for (const [name, id] of ids) await deps.boss.offWork(name, { id }).catch(() => {});
    },
  };
}

export function registerSlaHandlers(dispatcher: EventDispatcher, deps: SlaDeps) {
  dispatcher.register({
    name: "sla",
    types: ["ticket.created", "ticket.updated", "ticket.timeline_added", "ticket.merged"],
    wants: movesTheClock,
    handle: (event) => onTicketEvent(deps, event),
  });
}
