import { sql, type Transaction } from "kysely";
import type { Config } from "../../config.ts";
import type { Database } from "../../db/database.ts";
import type { DB } from "../../db/schema.ts";
import { asSystem } from "../../db/scope.ts";
import type { BlobStore } from "../../lib/blob-store.ts";
import { type Boss, bossDb } from "../../lib/jobs.ts";
import type { SmsProvider } from "../../lib/sms.ts";
import { systemActor } from "../auth/actor.ts";
import { emitEvent } from "../events/outbox.ts";
import type { BusinessCalendar } from "./calendar.ts";
import { computeClock, type SlaClock, type TargetClock } from "./clock.ts";
import { notifySla, type SlaNotice } from "./notify.ts";
import {
  clockPolicy,
  type LoadedPolicy,
  loadCalendar,
  policyForClient,
  ticketForSla,
  ticketHistory,
} from "./queries.ts";

export interface SlaDeps {
  db: Database;
  config: Config;
  blobs: BlobStore;
  boss: Boss | null;
  sms?: SmsProvider | null;
}

export const TIMER_QUEUE = "sla.timer";
/** How late a warning or breach may be announced and still chase people (a timer late by a restart). */
const ANNOUNCE_WITHIN_MS = 60 * 60_000;
const fresh = (at: Date, now: Date) => now.getTime() - at.getTime() <= ANNOUNCE_WITHIN_MS;
const TIMER_POLICY = { retryLimit: 10, retryDelay: 10, retryBackoff: true };
const actor = systemActor("sla");

const KINDS = ["first_response", "resolution"] as const;

/** What the queue shows and sorts on: the open target nearest to its due time, or the outcome. */
export function queueState(
  clock: SlaClock,
  open: boolean,
): { state: "running" | "paused" | "breached" | "met"; dueAt: Date | null } {
  const targets = [clock.firstResponse, clock.resolution].filter((t) => t.status !== "none");
  const unmet = targets.filter((t) => !t.metAt);
  const breached = unmet.filter((t) => t.breachedAt).map((t) => t.breachedAt!.getTime());
  if (open && breached.length) return { state: "breached", dueAt: new Date(Math.min(...breached)) };
  if (open && clock.paused && unmet.length) return { state: "paused", dueAt: null };
  const running = unmet.filter((t) => t.status === "running" && t.dueAt).map((t) => t.dueAt!.getTime());
  if (open && running.length) return { state: "running", dueAt: new Date(Math.min(...running)) };
  return { state: targets.some((t) => t.breachedAt) ? "breached" : "met", dueAt: null };
}

const same = (a: Date | null | undefined, b: Date | null | undefined) =>
  (a?.getTime() ?? null) === (b?.getTime() ?? null);

/**
 * Policies and calendars read once for a batch of recomputes (a timer batch, a recompute-all job): they
 * change rarely, and a change starts a recompute of its own after it commits.
 */
export class SlaLookups {
  private readonly policies = new Map<string, Promise<LoadedPolicy | null>>();
  private readonly calendars = new Map<string, Promise<BusinessCalendar | null>>();
  policy(db: Parameters<typeof policyForClient>[0], clientId: string) {
    let p = this.policies.get(clientId);
    if (!p) {
      p = policyForClient(db, clientId);
      this.policies.set(clientId, p);
    }
    return p;
  }
  calendar(db: Parameters<typeof loadCalendar>[0], id: string) {
    let c = this.calendars.get(id);
    if (!c) {
      c = loadCalendar(db, id);
      this.calendars.set(id, c);
    }
    return c;
  }
}

/**
 * Recomputes one ticket's clock from its history at `now`, stores it (ticket_slas, the ticket's
 * sla_due_at/sla_state), schedules a durable timer for each future warning and due instant that moved,
 * and announces warnings and breaches whose time has come: each claimed once (its *_notified_at column)
 * under a per-ticket advisory lock, so concurrent runs, retries and stale timers announce nothing twice.
 */
export async function recomputeTicketSla(
  deps: SlaDeps,
  ticketId: string,
  now = new Date(),
  lookups: SlaLookups | null = null,
) {
  return asSystem(() =>
    deps.db.transaction().execute((trx) => recomputeInTx(deps, trx, ticketId, now, lookups)),
  );
}

/**
 * Many tickets' clocks, several per transaction: a recompute-all or a burst of timers pays one commit
 * (one WAL flush) per chunk instead of one per ticket. Ids are locked in order: no deadlock between runs.
 */
export async function recomputeMany(
  deps: SlaDeps,
  ticketIds: string[],
  now = new Date(),
  lookups = new SlaLookups(),
) {
  const ids = [...new Set(ticketIds)].sort();
  await asSystem(() =>
    deps.db.transaction().execute(async (trx) => {
      for (const id of ids) await recomputeInTx(deps, trx, id, now, lookups);
    }),
  );
}

async function recomputeInTx(
  deps: SlaDeps,
  trx: Transaction<DB>,
  ticketId: string,
  now: Date,
  lookups: SlaLookups | null,
) {
  await sql`select pg_advisory_xact_lock(hashtext(${`sla:${ticketId}`}))`.execute(trx);
  const t = await ticketForSla(trx, ticketId);
  if (!t) return null;
  const policy = t.merged_into_id
    ? null
    : await (lookups ? lookups.policy(deps.db, t.client_id) : policyForClient(trx, t.client_id));
  const calendar = policy
    ? await (lookups ? lookups.calendar(deps.db, policy.calendarId) : loadCalendar(trx, policy.calendarId))
    : null;
  const prev = await trx
    .selectFrom("ticket_slas")
    .selectAll()
    .where("ticket_id", "=", t.id)
    .executeTakeFirst();
  if (!policy || !calendar) {
    if (prev) await trx.deleteFrom("ticket_slas").where("ticket_id", "=", t.id).execute();
    await trx
      .updateTable("tickets")
      .set({ sla_due_at: null, sla_state: null })
      .where("id", "=", t.id)
      .where("sla_state", "is not", null)
      .execute();
    return null;
  }
  const history = await ticketHistory(trx, t);
  const clock = computeClock(history, clockPolicy(policy, t.priority), calendar, now);
  const open = !["resolved", "closed"].includes(t.status_category);
  const notices: SlaNotice[] = [];
  const values: Record<string, unknown> = {
    ticket_id: t.id,
    client_id: t.client_id,
    policy_id: policy.id,
    priority: t.priority,
    paused: clock.paused,
    computed_at: now,
  };
  for (const kind of KINDS) {
    const c: TargetClock = kind === "first_response" ? clock.firstResponse : clock.resolution;
    values[`${kind}_status`] = c.status;
    values[`${kind}_due_at`] = c.dueAt;
    values[`${kind}_warn_at`] = c.warnAt;
    values[`${kind}_met_at`] = c.metAt;
    values[`${kind}_breached_at`] = c.breachedAt;
    const warned = prev?.[`${kind}_warned_at`] ?? null;
    const notified = prev?.[`${kind}_breach_notified_at`] ?? null;
    // A warning re-arms when its instant moves into the future again (a lower priority, a pause).
    if (c.status === "running" && c.warnAt && c.warnAt <= now && !warned) {
      values[`${kind}_warned_at`] = now;
      if (fresh(c.warnAt, now)) notices.push({ kind: "warning", target: kind, dueAt: c.dueAt, quiet: false });
    } else values[`${kind}_warned_at`] = c.warnAt && c.warnAt > now ? null : warned;
    if (c.breachedAt && !notified) {
      values[`${kind}_breach_notified_at`] = now;
      // Met late (the reply came after the due time, before a timer fired): recorded, nobody chased. A
      // breach found long after its time (a policy given to a client with old tickets, a backfill) is
      // recorded too, but pages and mails nobody: only a breach happening now is an emergency.
      notices.push({
        kind: c.metAt ? "missed" : "breach",
        target: kind,
        dueAt: c.breachedAt,
        quiet: !fresh(c.breachedAt, now),
      });
    } else values[`${kind}_breach_notified_at`] = c.breachedAt ? notified : null;
    if (deps.boss) {
      for (const [at, was] of [
        [c.warnAt, prev?.[`${kind}_warn_at`]],
        [c.dueAt, prev?.[`${kind}_due_at`]],
      ] as const) {
        if (at && at > now && !same(at, was)) {
          await deps.boss.send(
            TIMER_QUEUE,
            { ticketId: t.id },
            { ...TIMER_POLICY, startAfter: at, db: bossDb(trx) },
          );
        }
      }
    }
  }
  await trx
    .insertInto("ticket_slas")
    .values(values as never)
    .onConflict((oc) => oc.column("ticket_id").doUpdateSet(values as never))
    .execute();
  const q = queueState(clock, open);
  if (!same(t.sla_due_at, q.dueAt) || t.sla_state !== q.state) {
    await trx
      .updateTable("tickets")
      .set({ sla_due_at: q.dueAt, sla_state: q.state })
      .where("id", "=", t.id)
      .execute();
    await emitEvent(trx, actor, {
      type: "sla.updated",
      clientId: t.client_id,
      ticketId: t.id,
      payload: { number: t.number, state: q.state, dueAt: q.dueAt?.toISOString() ?? null },
    });
  }
  for (const n of notices) await notifySla(deps, trx, t, calendar, n, now);
  return clock;
}
