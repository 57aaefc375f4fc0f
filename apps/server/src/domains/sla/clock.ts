import type { StatusCategory } from "../../db/schema.ts";
import { type BusinessCalendar, openIntervals } from "./calendar.ts";

/**
 * The SLA clock as a pure function of a ticket's history and its policy's calendar: recomputed from
 * scratch on every change (never a counter that drifts), so it can be explained at any time.
 *
 * The clock runs from the ticket's creation, in business time only. It pauses while the status is in
 * one of the policy's pause categories (waiting on the client, ...), and resumes when the status leaves
 * it or when the customer writes (by mail or the portal: the ball is back in our court even if nobody
 * changed the status). It stops while resolved or closed; a reopen starts it again. Targets come from the
 * ticket's current priority, measured from its creation: a priority change re-targets from the start
 * and keeps every pause that already happened.
 */

export interface ClockPolicy {
  /** Business minutes per target; null = no such target. */
  firstResponseMinutes: number | null;
  resolutionMinutes: number | null;
  /** Percent of a target at which the warning fires (e.g. 75). */
  warnPercent: number;
  pauseCategories: readonly StatusCategory[];
}

export interface ClockHistory {
  createdAt: Date;
  /** The category the ticket was created in. */
  initialCategory: StatusCategory;
  /** Status changes, any order (sorted here). */
  statusChanges: Array<{ at: Date; category: StatusCategory; name: string }>;
  /** When the customer wrote (mail, portal), any order. */
  customerReplies: Date[];
  /** The first public reply by a technician (or outbound call), if any. */
  firstResponseAt: Date | null;
}

export type SegmentState = "running" | "paused" | "stopped";
export interface Segment {
  from: Date;
  /** null: still so now. */
  to: Date | null;
  state: SegmentState;
  reason: string;
}

export type TargetStatus = "none" | "running" | "paused" | "met" | "breached";
export interface TargetClock {
  status: TargetStatus;
  targetMinutes: number | null;
  /** When the target runs out (future: while running; past: breached). null while paused or met in time. */
  dueAt: Date | null;
  warnAt: Date | null;
  metAt: Date | null;
  breachedAt: Date | null;
  /** Business minutes counted so far (up to `now` or the time it was met). */
  elapsedMinutes: number;
}

export interface SlaClock {
  segments: Segment[];
  paused: boolean;
  firstResponse: TargetClock;
  resolution: TargetClock;
}

const MINUTE = 60_000;
const STOPPED: readonly StatusCategory[] = ["resolved", "closed"];

/** The ticket's history as running / paused / stopped intervals, up to `now`. */
export function segmentsOf(history: ClockHistory, policy: Pick<ClockPolicy, "pauseCategories">, now: Date) {
  type Ev =
    | { at: number; kind: "status"; category: StatusCategory; name: string }
    | { at: number; kind: "reply" };
  const events: Ev[] = [
    ...history.statusChanges.map((s) => ({
      at: s.at.getTime(),
      kind: "status" as const,
      category: s.category,
      name: s.name,
    })),
    ...history.customerReplies.map((at) => ({ at: at.getTime(), kind: "reply" as const })),
  ]
    .filter((e) => e.at <= now.getTime())
    .sort((a, b) => a.at - b.at || (a.kind === "status" ? -1 : 1));

  const stateOf = (category: StatusCategory): SegmentState =>
    STOPPED.includes(category) ? "stopped" : policy.pauseCategories.includes(category) ? "paused" : "running";
  const segments: Segment[] = [];
  let state = stateOf(history.initialCategory);
  let reason = state === "running" ? "open" : `status ${history.initialCategory}`;
  let from = history.createdAt.getTime();
  const move = (at: number, next: SegmentState, why: string) => {
    if (next === state) return;
    const start = Math.max(at, from);
    if (start > from) segments.push({ from: new Date(from), to: new Date(start), state, reason });
    state = next;
    reason = why;
    from = start;
  };
  for (const e of events) {
    if (e.kind === "status") move(e.at, stateOf(e.category), `status "${e.name}"`);
    else if (state === "paused") move(e.at, "running", "the customer replied");
  }
  segments.push({ from: new Date(from), to: null, state, reason });
  return segments;
}

/**
 * Walks the running segments (the last one open-ended when running now) on the calendar until `budget`
 * business minutes are used: the instant they run out, or null if the clock stops first.
 */
function walk(cal: BusinessCalendar, segments: Segment[], budgetMinutes: number, stopAt: number | null) {
  let left = budgetMinutes * MINUTE;
  let used = 0;
  for (const seg of segments) {
    if (seg.state !== "running") continue;
    const segFrom = seg.from.getTime();
    if (stopAt !== null && segFrom >= stopAt) break;
    let segTo = seg.to ? seg.to.getTime() : Number.POSITIVE_INFINITY;
    if (stopAt !== null) segTo = Math.min(segTo, stopAt);
    for (const [s, e] of openIntervals(cal, segFrom)) {
      if (s >= segTo) break;
      const len = Math.min(e, segTo) - s;
      if (len >= left) return { at: new Date(s + left), used: used + left };
      left -= len;
      used += len;
    }
  }
  return { at: null, used };
}

function elapsed(cal: BusinessCalendar, segments: Segment[], upTo: number) {
  let used = 0;
  for (const seg of segments) {
    if (seg.state !== "running") continue;
    const a = seg.from.getTime();
    const b = Math.min(seg.to ? seg.to.getTime() : upTo, upTo);
    if (b <= a) continue;
    for (const [s, e] of openIntervals(cal, a)) {
      if (s >= b) break;
      used += Math.min(e, b) - s;
    }
  }
  return Math.floor(used / MINUTE);
}

function target(
  cal: BusinessCalendar,
  segments: Segment[],
  minutes: number | null,
  warnPercent: number,
  metAt: Date | null,
  now: Date,
): TargetClock {
  if (minutes === null) {
    return {
      status: "none",
      targetMinutes: null,
      dueAt: null,
      warnAt: null,
      metAt,
      breachedAt: null,
      elapsedMinutes: 0,
    };
  }
  const stop = metAt ? metAt.getTime() : null;
  const due = walk(cal, segments, minutes, stop).at;
  const warn = walk(cal, segments, (minutes * warnPercent) / 100, stop).at;
  const upTo = Math.min(now.getTime(), stop ?? Number.POSITIVE_INFINITY);
  const elapsedMinutes = elapsed(cal, segments, upTo);
  const last = segments.at(-1)!;
  const breachedAt = due && due.getTime() <= upTo ? due : null;
  const status: TargetStatus = breachedAt
    ? "breached"
    : metAt
      ? "met"
      : last.state === "running"
        ? "running"
        : "paused";
  return {
    status,
    targetMinutes: minutes,
    dueAt: status === "met" || status === "paused" ? null : due,
    warnAt: status === "running" ? warn : null,
    metAt,
    breachedAt,
    elapsedMinutes,
  };
}

/** The clock of one ticket at `now`. */
export function computeClock(
  history: ClockHistory,
  policy: ClockPolicy,
  cal: BusinessCalendar,
  now: Date,
): SlaClock {
  const segments = segmentsOf(history, policy, now);
  const last = segments.at(-1)!;
  const resolvedAt = last.state === "stopped" ? last.from : null;
  // A ticket resolved before anyone replied publicly got its answer with the resolution.
  const responded = history.firstResponseAt ?? resolvedAt;
  return {
    segments,
    paused: last.state === "paused",
    firstResponse: target(cal, segments, policy.firstResponseMinutes, policy.warnPercent, responded, now),
    resolution: target(cal, segments, policy.resolutionMinutes, policy.warnPercent, resolvedAt, now),
  };
}
