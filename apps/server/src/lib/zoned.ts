/**
 * Wall-clock time in a named IANA zone, without a dependency: Intl knows every zone's offsets. Instants
 * are stored in UTC; these convert at the edges (a technician's day, a client's appointment slot).
 */

export interface WallTime {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string) {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The wall clock in `timeZone` at `instant`. */
export function wallTime(instant: Date, timeZone: string): WallTime & { second: number } {
  const p = Object.fromEntries(
    formatter(timeZone)
      .formatToParts(instant)
      .map((x) => [x.type, x.value]),
  );
  return {
    year: Number(p.year),
    month: Number(p.month),
    day: Number(p.day),
    hour: Number(p.hour),
    minute: Number(p.minute),
    second: Number(p.second),
  };
}

/** The zone's offset from UTC at `instant`, in minutes (Chicago in winter: -360). */
export function offsetMinutes(instant: Date, timeZone: string): number {
  const w = wallTime(instant, timeZone);
  const asUtc = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second);
  return Math.round((asUtc - Math.floor(instant.getTime() / 1000) * 1000) / 60_000);
}

export class ZonedTimeError extends Error {
  readonly kind: "gap" | "ambiguous";
  constructor(kind: "gap" | "ambiguous", message: string) {
    super(message);
    this.kind = kind;
  }
}

const pad = (n: number, w = 2) => String(n).padStart(w, "0");
export const formatWall = (w: WallTime) =>
  `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)} ${pad(w.hour)}:${pad(w.minute)}`;

/**
 * The instant a wall-clock time in `timeZone` names. A time the clocks skip (the spring-forward gap)
 * does not exist and is refused; one they pass twice (fall back) is ambiguous and refused unless
 * `prefer` says which of the two is meant. Both say what happened, for the person who typed it.
 */
export function instantOf(w: WallTime, timeZone: string, prefer?: "earlier" | "later"): Date {
  const naive = Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute);
  // The offset can only be one of those in force a day either side: try both.
  const candidates = new Set([
    offsetMinutes(new Date(naive - 86_400_000), timeZone),
    offsetMinutes(new Date(naive + 86_400_000), timeZone),
    offsetMinutes(new Date(naive), timeZone),
  ]);
  const matches = [...candidates]
    .map((off) => new Date(naive - off * 60_000))
    .filter((d) => {
      const back = wallTime(d, timeZone);
      return (
        back.year === w.year &&
        back.month === w.month &&
        back.day === w.day &&
        back.hour === w.hour &&
        back.minute === w.minute
      );
    })
    .sort((a, b) => a.getTime() - b.getTime());
  const unique = matches.filter((d, i) => i === 0 || d.getTime() !== matches[i - 1]!.getTime());
  if (unique.length === 0) {
    throw new ZonedTimeError(
      "gap",
      `${formatWall(w)} does not exist in ${timeZone}: the clocks skip it (daylight saving time begins)`,
    );
  }
  if (unique.length > 1) {
    if (!prefer) {
      throw new ZonedTimeError(
        "ambiguous",
        `${formatWall(w)} happens twice in ${timeZone} (daylight saving time ends): say which one`,
      );
    }
    return prefer === "earlier" ? unique[0]! : unique.at(-1)!;
  }
  return unique[0]!;
}

/** Parses "YYYY-MM-DDTHH:mm" (or with a space) as a wall-clock time; null when malformed. */
export function parseWall(text: string): WallTime | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})$/.exec(text);
  if (!m) return null;
  const w = { year: +m[1]!, month: +m[2]!, day: +m[3]!, hour: +m[4]!, minute: +m[5]! };
  const check = new Date(Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute));
  if (
    check.getUTCFullYear() !== w.year ||
    check.getUTCMonth() !== w.month - 1 ||
    check.getUTCDate() !== w.day ||
    w.hour > 23 ||
    w.minute > 59
  ) {
    return null;
  }
  return w;
}

/** "YYYY-MM-DD" of the calendar day in `timeZone` at `instant`. */
export function localDate(instant: Date, timeZone: string): string {
  const w = wallTime(instant, timeZone);
  return `${pad(w.year, 4)}-${pad(w.month)}-${pad(w.day)}`;
}

/** Adds days to a "YYYY-MM-DD" date (calendar arithmetic, no zone involved). */
export function addDays(date: string, days: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + days);
  return d.toISOString().slice(0, 10);
}

/** The Monday of the ISO week that holds `date`. */
export function mondayOf(date: string): string {
  const dow = new Date(`${date}T00:00:00Z`).getUTCDay(); // 0 = Sunday
  return addDays(date, dow === 0 ? -6 : 1 - dow);
}

/** The instant a calendar day starts in `timeZone` (midnight, or the first minute after a gap). */
export function startOfDay(date: string, timeZone: string): Date {
  const [y, m, d] = date.split("-").map(Number) as [number, number, number];
  for (let minute = 0; minute < 180; minute += 30) {
    try {
      return instantOf(
        { year: y, month: m, day: d, hour: Math.floor(minute / 60), minute: minute % 60 },
        timeZone,
        "earlier",
      );
    } catch (err) {
      if (!(err instanceof ZonedTimeError)) throw err;
    }
  }
  throw new Error(`no start of ${date} in ${timeZone}`);
}
