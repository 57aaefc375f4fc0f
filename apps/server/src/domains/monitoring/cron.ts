/**
 * Five-field cron (minute hour day-of-month month day-of-week), evaluated in a time zone. Lists, ranges,
 * steps, `*`, month and weekday names; 0 and 7 are Sunday; when both day fields are restricted a day
 * matching either runs (as in Vixie cron). Wall-clock semantics across daylight saving time: `0 9 * * *`
 * stays at 09:00 local; a time that does not exist (the spring gap) runs at the same offset as before the
 * change (02:30 becomes 03:30); a time that happens twice (the autumn overlap) runs once, the first time.
 */
export interface Cron {
  minute: Set<number>;
  hour: Set<number>;
  dom: Set<number>;
  month: Set<number>;
  dow: Set<number>;
  domAny: boolean;
  dowAny: boolean;
}

export class CronError extends Error {}

const MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"];
const DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];
const FIELDS = [
  { name: "minute", min: 0, max: 59, names: null },
  { name: "hour", min: 0, max: 23, names: null },
  { name: "day of month", min: 1, max: 31, names: null },
  { name: "month", min: 1, max: 12, names: MONTHS },
  { name: "day of week", min: 0, max: 7, names: DAYS },
] as const;

function value(text: string, f: (typeof FIELDS)[number]): number {
  const named = f.names?.indexOf(text.toLowerCase() as never) ?? -1;
  if (named >= 0) return named + f.min;
  if (!/^\d{1,2}$/.test(text)) throw new CronError(`${f.name}: "${text}" is not a number`);
  const n = Number(text);
  if (n < f.min || n > f.max) throw new CronError(`${f.name}: ${n} is outside ${f.min}-${f.max}`);
  return n;
}

function field(text: string, f: (typeof FIELDS)[number]): Set<number> {
  const out = new Set<number>();
  for (const part of text.split(",")) {
    const [range, stepText, extra] = part.split("/");
    if (extra !== undefined || !range) throw new CronError(`${f.name}: "${part}" is not a valid item`);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1 || step > f.max || !/^\d+$/.test(stepText ?? "1"))
      throw new CronError(`${f.name}: step "${stepText}" must be a number from 1 to ${f.max}`);
    let lo: number;
    let hi: number;
    if (range === "*") [lo, hi] = [f.min, f.max];
    else if (range.includes("-")) {
      const [a, b, more] = range.split("-");
      if (more !== undefined || !a || !b) throw new CronError(`${f.name}: "${range}" is not a valid range`);
      [lo, hi] = [value(a, f), value(b, f)];
      if (lo > hi) throw new CronError(`${f.name}: range ${range} runs backwards`);
    } else {
      lo = value(range, f);
      hi = stepText === undefined ? lo : f.max;
    }
    for (let v = lo; v <= hi; v += step) out.add(v);
  }
  return out;
}

export function parseCron(expr: string): Cron {
  const parts = expr.trim().split(/\s+/);
  if (parts.length !== 5)
    throw new CronError(`needs 5 fields (minute hour day-of-month month day-of-week), got ${parts.length}`);
  const [minute, hour, dom, month, dow] = parts.map((p, i) => field(p, FIELDS[i]!));
  if (dow!.has(7)) dow!.add(0);
  return {
    minute: minute!,
    hour: hour!,
    dom: dom!,
    month: month!,
    dow: dow!,
    domAny: parts[2] === "*",
    dowAny: parts[4] === "*",
  };
}

/** The day of a local wall-clock time (a UTC date holding the local fields) matches the expression. */
function dayMatches(c: Cron, local: Date): boolean {
  if (!c.month.has(local.getUTCMonth() + 1)) return false;
  const dom = c.dom.has(local.getUTCDate());
  const dow = c.dow.has(local.getUTCDay());
  if (c.domAny || c.dowAny) return dom && dow;
  return dom || dow;
}

/**
 * Minutes to move from a local minute to the nearest one that may match: a day that does not match is
 * skipped whole, an hour likewise, so a walk costs a few steps per day instead of 1,440.
 */
function skip(c: Cron, local: Date, back: boolean): number {
  const h = local.getUTCHours();
  const m = local.getUTCMinutes();
  if (!dayMatches(c, local)) return back ? h * 60 + m + 1 : 1440 - (h * 60 + m);
  if (!c.hour.has(h)) return back ? m + 1 : 60 - m;
  return 0;
}

const formats = new Map<string, Intl.DateTimeFormat>();
function format(zone: string) {
  let f = formats.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone: zone,
      hourCycle: "h23",
      year: "numeric",
      month: "numeric",
      day: "numeric",
      hour: "numeric",
      minute: "numeric",
    });
    formats.set(zone, f);
  }
  return f;
}

/** A time zone Intl knows; anything else is UTC (a site saved before zones were validated). */
export function validZone(zone: string | null | undefined): string {
  if (!zone) return "UTC";
  try {
    format(zone);
    return zone;
  } catch {
    return "UTC";
  }
}

/** The wall-clock minute at an instant in a zone, as milliseconds of a UTC date with those fields. */
function localMs(utcMs: number, zone: string): number {
  const p = Object.fromEntries(
    format(zone)
      .formatToParts(new Date(utcMs))
      .map((x) => [x.type, x.value]),
  );
  return Date.UTC(+p.year!, +p.month! - 1, +p.day!, +p.hour!, +p.minute!);
}

const offset = (utcMs: number, zone: string) => localMs(utcMs, zone) - Math.floor(utcMs / 60_000) * 60_000;

/** The instant a local wall-clock minute happens: the first of two in an overlap, shifted over a gap. */
export function zonedToUtc(local: number, zone: string): number {
  const before = offset(local - 86_400_000, zone);
  const after = offset(local + 86_400_000, zone);
  const valid = [local - before, local - after].filter((t) => localMs(t, zone) === local);
  return valid.length ? Math.min(...valid) : local - before;
}

/**
 * The latest due time at or before `now` and after `since` (at most two days back), or null. Walks local
 * time backwards with plain arithmetic (skipping days and hours that cannot match); only a matching minute
 * costs a time zone conversion.
 */
export function latestDue(c: Cron, zone: string, now: Date, since: Date): Date | null {
  const floor = Math.max(since.getTime(), now.getTime() - 2 * 86_400_000);
  // One day of slack: a gap's shifted time may lie after the local minute that names it.
  const stop = localMs(floor, zone) - 86_400_000;
  for (let local = localMs(now.getTime(), zone) + 86_400_000; local >= stop; ) {
    const d = new Date(local);
    const jump = skip(c, d, true);
    if (jump) {
      local -= jump * 60_000;
      continue;
    }
    local -= 60_000;
    if (!c.minute.has(d.getUTCMinutes())) continue;
    const at = zonedToUtc(d.getTime(), zone);
    if (at <= now.getTime() && at > floor) return new Date(at);
    if (at <= floor) return null;
  }
  return null;
}

/** The next due time after `after` within a year (for the console), or null. */
export function nextDue(c: Cron, zone: string, after: Date): Date | null {
  const start = localMs(after.getTime(), zone) - 86_400_000;
  for (let local = start; local < start + 367 * 86_400_000; ) {
    const d = new Date(local);
    const jump = skip(c, d, false);
    if (jump) {
      local += jump * 60_000;
      continue;
    }
    local += 60_000;
    if (!c.minute.has(d.getUTCMinutes())) continue;
    const at = zonedToUtc(d.getTime(), zone);
    if (at > after.getTime()) return new Date(at);
  }
  return null;
}
