import { type Selectable, sql, type Transaction } from "kysely";
import type { Config } from "../../config.ts";
import type { Database } from "../../db/database.ts";
import type { DB, TicketSlasTable } from "../../db/schema.ts";
import { asSystem } from "../../db/scope.ts";
import type { BlobStore } from "../../lib/blob-store.ts";
import { type Boss, bossDb } from "../../lib/jobs.ts";
import type { SmsProvider } from "../../lib/sms.ts";
import type { BusinessCalendar } from "./calendar.ts";
import { computeClock, type SlaClock, type TargetClock } from "./clock.ts";
import { notifySlaMany, type SlaNotice } from "./notify.ts";
import {
  clockPolicy,
  type LoadedPolicy,
  loadCalendar,
  policyForClient,
  type TicketForSla,
  ticketHistories,
  ticketsForSla,
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
  const clocks = await recomputeMany(deps, [ticketId], now, lookups ?? new SlaLookups());
  return clocks.get(ticketId) ?? null;
}

/**
 * Many tickets' clocks in one transaction with set-based reads and writes (a recompute-all chunk, a burst
 * of timers): a handful of statements and one commit per chunk instead of per ticket. The tickets'
 * advisory locks are taken in id order, so two runs over overlapping chunks cannot deadlock.
 */
export async function recomputeMany(
  deps: SlaDeps,
  ticketIds: string[],
  now = new Date(),
  lookups = new SlaLookups(),
): Promise<Map<string, SlaClock | null>> {
  const ids = [...new Set(ticketIds)].sort();
  if (!ids.length) return new Map();
  return asSystem(() => deps.db.transaction().execute((trx) => recomputeBatch(deps, trx, ids, now, lookups)));
}

interface Computed {
  t: TicketForSla;
  notices: SlaNotice[];
}

async function recomputeBatch(
  deps: SlaDeps,
  trx: Transaction<DB>,
  ids: string[],
  now: Date,
  lookups: SlaLookups,
) {
  // Locks first, reads after: each later statement sees what the previous holder of a lock committed.
  await sql`select count(pg_advisory_xact_lock(hashtext('sla:' || id::text)))
    from (select id from unnest(${ids}::uuid[]) as id order by id) s`.execute(trx);
  const tickets = await ticketsForSla(trx, ids);
  const prevs = new Map(
    (await trx.selectFrom("ticket_slas").selectAll().where("ticket_id", "in", ids).execute()).map((r) => [
      r.ticket_id,
      r,
    ]),
  );
  const out = new Map<string, SlaClock | null>();
  const withPolicy: Array<{ t: TicketForSla; policy: LoadedPolicy; calendar: BusinessCalendar }> = [];
  const without: TicketForSla[] = [];
  for (const t of tickets) {
    const policy = t.merged_into_id ? null : await lookups.policy(trx, t.client_id);
    const calendar = policy ? await lookups.calendar(trx, policy.calendarId) : null;
    if (policy && calendar) withPolicy.push({ t, policy, calendar });
    else {
      without.push(t);
      out.set(t.id, null);
    }
  }
  if (without.length) {
    const gone = without.map((t) => t.id);
    await trx.deleteFrom("ticket_slas").where("ticket_id", "in", gone).execute();
    await sql`select 1 from tickets where id = any(${gone}::uuid[]) and sla_state is not null order by id
      for no key update`.execute(trx);
    await trx
      .updateTable("tickets")
      .set({ sla_due_at: null, sla_state: null })
      .where("id", "in", gone)
      .where("sla_state", "is not", null)
      .execute();
  }
  if (!withPolicy.length) return out;

  const histories = await ticketHistories(
    trx,
    withPolicy.map((x) => x.t),
  );
  const rows: Array<Record<string, unknown>> = [];
  const timers: Array<{ ticketId: string; at: Date }> = [];
  const moved: Array<{ t: TicketForSla; state: string; dueAt: Date | null }> = [];
  const computed: Computed[] = [];
  for (const { t, policy, calendar } of withPolicy) {
    const clock = computeClock(histories.get(t.id)!, clockPolicy(policy, t.priority), calendar, now);
    out.set(t.id, clock);
    const { values, notices } = rowOf(t, policy.id, clock, prevs.get(t.id), now, timers);
    rows.push(values);
    computed.push({ t, notices });
    const q = queueState(clock, !["resolved", "closed"].includes(t.status_category));
    if (!same(t.sla_due_at, q.dueAt) || t.sla_state !== q.state) moved.push({ t, ...q });
  }
  await trx
    .insertInto("ticket_slas")
    .values(rows as never)
    .onConflict((oc) =>
      oc.column("ticket_id").doUpdateSet(
        Object.fromEntries(
          Object.keys(rows[0]!)
            .filter((k) => k !== "ticket_id")
            .map((k) => [k, sql.ref(`excluded.${k}`)]),
        ) as never,
      ),
    )
    .execute();
  if (moved.length) {
    // Row locks in id order, as bulk ticket edits take them: the two can wait on each other, never deadlock.
    await sql`select 1 from tickets where id = any(${moved.map((m) => m.t.id)}::uuid[]) order by id
      for no key update`.execute(trx);
    await sql`update tickets t set sla_due_at = v.due, sla_state = v.state
      from (select unnest(${moved.map((m) => m.t.id)}::uuid[]) as id,
                   unnest(${moved.map((m) => m.dueAt?.toISOString() ?? null)}::timestamptz[]) as due,
                   unnest(${moved.map((m) => m.state)}::text[]) as state) v
      where t.id = v.id`.execute(trx);
    await trx
      .insertInto("domain_events")
      .values(
        moved.map((m) => ({
          type: "sla.updated",
          client_id: m.t.client_id,
          ticket_id: m.t.id,
          actor_user_id: null,
          payload: JSON.stringify({
            number: m.t.number,
            state: m.state,
            dueAt: m.dueAt?.toISOString() ?? null,
          }),
        })),
      )
      .execute();
  }
  if (deps.boss && timers.length) {
    await deps.boss.insert(
      TIMER_QUEUE,
      timers.map((x) => ({ data: { ticketId: x.ticketId }, startAfter: x.at, ...TIMER_POLICY })),
      { db: bossDb(trx) },
    );
  }
  await notifySlaMany(
    deps,
    trx,
    computed.flatMap((c) => c.notices.map((n) => ({ t: c.t, n }))),
    now,
  );
  return out;
}

type PrevRow = Selectable<TicketSlasTable>;

/** The stored row of one clock, the notices it claims, and the timers it needs (pushed onto `timers`). */
function rowOf(
  t: TicketForSla,
  policyId: string,
  clock: SlaClock,
  prev: PrevRow | undefined,
  now: Date,
  timers: Array<{ ticketId: string; at: Date }>,
) {
  const notices: SlaNotice[] = [];
  const values: Record<string, unknown> = {
    ticket_id: t.id,
    client_id: t.client_id,
    policy_id: policyId,
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
    for (const [at, was] of [
      [c.warnAt, prev?.[`${kind}_warn_at`]],
      [c.dueAt, prev?.[`${kind}_due_at`]],
    ] as const) {
      if (at && at > now && !same(at, was)) timers.push({ ticketId: t.id, at });
    }
  }
  return { values, notices };
}
