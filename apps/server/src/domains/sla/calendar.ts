import { addDays, instantOf, localDate, ZonedTimeError } from "../../lib/zoned.ts";

/**
 * Business time on a calendar: opening hours per weekday in a named zone, minus holidays. Pure: the
 * SLA clock (clock.ts) and the on-call "outside business hours" check are built on it.
 */
export interface BusinessCalendar {
  timeZone: string;
  /** 24/7: every minute counts, no weekday hours or holidays consulted. */
  alwaysOpen: boolean;
  /** Opening intervals, ISO weekday 1 (Monday) to 7 (Sunday), minutes from local midnight [start, end). */
  hours: Array<{ day: number; start: number; end: number }>;
  /** Local dates ("YYYY-MM-DD") on which nothing is open. */
  holidays: ReadonlySet<string> | string[];
}

const MINUTE = 60_000;
/** A calendar opens at least once in any ten years or never: the walk gives up there. */
const MAX_DAYS = 3660;

export const parseHhmm = (text: string): number | null => {
  const m = /^(\d{2}):(\d{2})$/.exec(text);
  if (!m) return null;
  const h = Number(m[1]);
  const min = Number(m[2]);
  if (min > 59 || h > 24 || (h === 24 && min !== 0)) return null;
  return h * 60 + min;
};

export const formatHhmm = (minutes: number) =>
  `${String(Math.floor(minutes / 60)).padStart(2, "0")}:${String(minutes % 60).padStart(2, "0")}`;

/** ISO weekday (1 = Monday) of a local date. */
export const isoWeekday = (date: string) => {
  const d = new Date(`${date}T00:00:00Z`).getUTCDay();
  return d === 0 ? 7 : d;
};

/**
 * The instant a wall-clock minute of `date` names. Opening at a time the clocks skip (02:30 on the
 * spring-forward night) opens at the first minute that exists after it; a time passed twice (fall back)
 * counts from its first occurrence, so no business minute is counted twice or lost.
 */
export function instantAtMinute(date: string, minute: number, timeZone: string): number {
  // Every clock walks the same few hundred days: Intl's zone lookups are the cost, so answers are kept.
  const key = `${timeZone}|${date}|${minute}`;
  let at = instants.get(key);
  if (at === undefined) {
    at = computeInstantAtMinute(date, minute, timeZone);
    if (instants.size >= MAX_CACHED) instants.clear();
    instants.set(key, at);
  }
  return at;
}

const instants = new Map<string, number>();
const MAX_CACHED = 100_000;

function computeInstantAtMinute(date: string, minute: number, timeZone: string): number {
  if (minute >= 1440) return instantAtMinute(addDays(date, 1), minute - 1440, timeZone);
  const [y, mo, d] = date.split("-").map(Number) as [number, number, number];
  for (let m = minute; m < minute + 180; m++) {
    if (m >= 1440) return instantAtMinute(addDays(date, 1), m - 1440, timeZone);
    try {
      const at = instantOf(
        { year: y, month: mo, day: d, hour: Math.floor(m / 60), minute: m % 60 },
        timeZone,
        "earlier",
      );
      return at.getTime();
    } catch (err) {
      if (!(err instanceof ZonedTimeError)) throw err;
    }
  }
  throw new Error(`no instant for ${date} ${formatHhmm(minute)} in ${timeZone}`);
}

const holidaySet = (cal: BusinessCalendar) =>
  cal.holidays instanceof Set ? cal.holidays : new Set(cal.holidays as string[]);

/**
 * The calendar's open intervals (ms since epoch, [start, end)) that end after `from`, in order, the
 * first clipped to start at `from`. Infinite for 24/7; ends after MAX_DAYS for a calendar that never opens.
 */
export function* openIntervals(cal: BusinessCalendar, from: number): Generator<[number, number]> {
  if (cal.alwaysOpen) {
    yield [from, Number.POSITIVE_INFINITY];
    return;
  }
  const holidays = holidaySet(cal);
  const byDay = new Map<number, Array<{ start: number; end: number }>>();
  for (const h of cal.hours) {
    const list = byDay.get(h.day) ?? [];
    list.push(h);
    byDay.set(h.day, list);
  }
  for (const list of byDay.values()) list.sort((a, b) => a.start - b.start);
  // Start a day early: the zone's midnight may be hours from UTC's.
  let date = addDays(localDate(new Date(from), cal.timeZone), -1);
  for (let i = 0; i < MAX_DAYS; i++, date = addDays(date, 1)) {
    if (holidays.has(date)) continue;
    for (const h of byDay.get(isoWeekday(date)) ?? []) {
      const start = instantAtMinute(date, h.start, cal.timeZone);
      const end = instantAtMinute(date, h.end, cal.timeZone);
      if (end <= from || end <= start) continue;
      yield [Math.max(start, from), end];
    }
  }
}

/** True when the calendar is open at `at`. */
export function isOpenAt(cal: BusinessCalendar, at: Date): boolean {
  const t = at.getTime();
  for (const [start] of openIntervals(cal, t)) return start <= t;
  return false;
}

/** Business minutes between two instants (0 when `to` is not after `from`). */
export function businessMinutesBetween(cal: BusinessCalendar, from: Date, to: Date): number {
  const a = from.getTime();
  const b = to.getTime();
  let total = 0;
  if (b <= a) return 0;
  for (const [s, e] of openIntervals(cal, a)) {
    if (s >= b) break;
    total += Math.min(e, b) - s;
  }
  return total / MINUTE;
}

/** The instant `minutes` business minutes after `from` (null for a calendar that never opens). */
export function addBusinessMinutes(cal: BusinessCalendar, from: Date, minutes: number): Date | null {
  let left = minutes * MINUTE;
  for (const [s, e] of openIntervals(cal, from.getTime())) {
    if (e - s >= left) return new Date(s + left);
    left -= e - s;
  }
  return null;
}

/** Problems with a calendar's hours, each naming the field (for the API's 400). */
export function calendarProblems(input: {
  timeZone: string;
  alwaysOpen: boolean;
  hours: Array<{ day: number; start: string; end: string }>;
}): Array<{ path: string; message: string }> {
  const problems: Array<{ path: string; message: string }> = [];
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: input.timeZone });
  } catch {
    problems.push({ path: "body.timeZone", message: `"${input.timeZone}" is not a known time zone` });
  }
  if (input.alwaysOpen) return problems;
  if (input.hours.length === 0) {
    problems.push({ path: "body.hours", message: "a calendar needs opening hours (or choose 24/7)" });
  }
  const parsed = input.hours.map((h, i) => {
    const start = parseHhmm(h.start);
    const end = parseHhmm(h.end);
    if (start === null || start >= 1440)
      problems.push({ path: `body.hours.${i}.start`, message: "use HH:MM between 00:00 and 23:59" });
    if (end === null) problems.push({ path: `body.hours.${i}.end`, message: "use HH:MM up to 24:00" });
    else if (start !== null && end <= start)
      problems.push({ path: `body.hours.${i}.end`, message: "closes before it opens" });
    return { day: h.day, start: start ?? 0, end: end ?? 0, i };
  });
  for (const a of parsed) {
    for (const b of parsed) {
      if (a.i < b.i && a.day === b.day && a.start < b.end && b.start < a.end) {
        problems.push({
          path: `body.hours.${b.i}`,
          message: `overlaps ${formatHhmm(a.start)}-${formatHhmm(a.end)} on the same day`,
        });
      }
    }
  }
  return problems;
}
