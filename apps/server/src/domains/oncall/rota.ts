import { addDays } from "../../lib/zoned.ts";
import { instantAtMinute } from "../sla/calendar.ts";

/**
 * Who is on call when, as a pure function of the rota. Shift k starts at the hand-over wall time on
 * anchor + k days (daily) or weeks (weekly) in the rota's zone, and ends where shift k+1 starts: shifts
 * share their boundaries, so a daylight-saving change makes one shift an hour shorter or longer, never a
 * gap or a double shift. An override covers its interval for whoever took it; the latest one wins.
 */
export interface Rota {
  timeZone: string;
  period: "daily" | "weekly";
  handoverMinute: number;
  anchorDate: string;
  /** User ids in rotation order. */
  members: string[];
}

export interface Override {
  id: string;
  userId: string;
  startsAt: Date;
  endsAt: Date;
  createdAt: Date;
}

export interface Shift {
  userId: string | null;
  start: Date;
  end: Date;
  /** The override that put this person here, if any. */
  overrideId: string | null;
}

const DAY = 86_400_000;
const periodDays = (r: Rota) => (r.period === "daily" ? 1 : 7);

export const shiftStart = (r: Rota, k: number) =>
  instantAtMinute(addDays(r.anchorDate, k * periodDays(r)), r.handoverMinute, r.timeZone);

/** The index of the scheduled shift holding `at` (negative before the rota starts). */
export function shiftIndexAt(r: Rota, at: Date): number {
  const t = at.getTime();
  let k = Math.floor((t - shiftStart(r, 0)) / (periodDays(r) * DAY));
  while (shiftStart(r, k) > t) k--;
  while (shiftStart(r, k + 1) <= t) k++;
  return k;
}

const mod = (a: number, n: number) => ((a % n) + n) % n;

/** The scheduled shift at `at`, without overrides. No members, or before the first shift: nobody. */
export function scheduledAt(r: Rota, at: Date): Shift & { index: number } {
  const k = shiftIndexAt(r, at);
  const userId = r.members.length && k >= 0 ? r.members[mod(k, r.members.length)]! : null;
  return {
    index: k,
    userId,
    start: new Date(shiftStart(r, k)),
    end: new Date(shiftStart(r, k + 1)),
    overrideId: null,
  };
}

const coveringOverride = (overrides: Override[], t: number) =>
  overrides
    .filter((o) => o.startsAt.getTime() <= t && t < o.endsAt.getTime())
    .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())[0] ?? null;

/** Who is on call at `at`: an override's taker, else the scheduled member (null: a gap). */
export function onCallAt(r: Rota, overrides: Override[], at: Date): Shift {
  const o = coveringOverride(overrides, at.getTime());
  if (o) return { userId: o.userId, start: o.startsAt, end: o.endsAt, overrideId: o.id };
  const s = scheduledAt(r, at);
  return { userId: s.userId, start: s.start, end: s.end, overrideId: null };
}

/** The calendar of who is on call in [from, to): consecutive, non-overlapping pieces, gaps as null. */
export function shiftsBetween(r: Rota, overrides: Override[], from: Date, to: Date): Shift[] {
  const a = from.getTime();
  const b = to.getTime();
  // Every instant where the answer may change: shift boundaries and override edges.
  const cuts = new Set<number>([a, b]);
  for (let k = shiftIndexAt(r, from) + 1, s = shiftStart(r, k); s < b; k++, s = shiftStart(r, k)) cuts.add(s);
  for (const o of overrides) {
    for (const t of [o.startsAt.getTime(), o.endsAt.getTime()]) if (t > a && t < b) cuts.add(t);
  }
  const points = [...cuts].sort((x, y) => x - y);
  const out: Shift[] = [];
  for (let i = 0; i + 1 < points.length; i++) {
    const start = points[i]!;
    const end = points[i + 1]!;
    const o = coveringOverride(overrides, start);
    const userId = o ? o.userId : scheduledAt(r, new Date(start)).userId;
    const prev = out.at(-1);
    if (prev && prev.userId === userId && prev.overrideId === (o?.id ?? null)) prev.end = new Date(end);
    else out.push({ userId, start: new Date(start), end: new Date(end), overrideId: o?.id ?? null });
  }
  return out;
}

/**
 * Who a page goes to, level by level: whoever is on call now, then the rota's members in order after
 * the scheduled one (the backup, then the next), each once.
 */
export function escalationChain(r: Rota, overrides: Override[], at: Date): string[] {
  const now = onCallAt(r, overrides, at);
  const scheduled = scheduledAt(r, at);
  const chain: string[] = [];
  if (now.userId) chain.push(now.userId);
  const n = r.members.length;
  for (let i = 1; i <= n; i++) {
    const u = r.members[mod(Math.max(scheduled.index, 0) + i, n)]!;
    if (!chain.includes(u)) chain.push(u);
  }
  return chain;
}
