import type { TimeInput } from "@switchboard/shared";
import { sql, type Transaction } from "kysely";
import type { Database } from "../../db/database.ts";
import type { DB } from "../../db/schema.ts";
import { AppError, invalid } from "../../http/errors.ts";
import { addDays, instantOf, parseWall, startOfDay, ZonedTimeError } from "../../lib/zoned.ts";

type Db = Database | Transaction<DB>;

/** The instant a TimeInput names, or a 400 at `path` saying why it names none. */
export function resolveTime(t: TimeInput, path: string): Date {
  if ("at" in t) return new Date(t.at);
  const wall = parseWall(t.local);
  if (!wall) throw invalid(`${path}.local`, "is not a date and time that exists");
  try {
    return instantOf(wall, t.timeZone);
  } catch (err) {
    if (err instanceof ZonedTimeError) throw invalid(`${path}.local`, err.message);
    throw err;
  }
}

/** "Tuesday 10 March 2027, 9:00–10:00 CDT" in a reader's zone. */
export function describeSpan(start: Date, end: Date, timeZone: string) {
  const day = new Intl.DateTimeFormat("en-US", {
    timeZone,
    weekday: "long",
    day: "numeric",
    month: "long",
    year: "numeric",
  }).format(start);
  const time = new Intl.DateTimeFormat("en-US", { timeZone, hour: "numeric", minute: "2-digit" });
  const zone =
    new Intl.DateTimeFormat("en-US", { timeZone, timeZoneName: "short" })
      .formatToParts(start)
      .find((p) => p.type === "timeZoneName")?.value ?? timeZone;
  return `${day}, ${time.format(start)}–${time.format(end)} ${zone}`;
}

/** "Tuesday 10 March 2027, 9:00 AM CDT" in a reader's zone. */
export function describeInstant(at: Date, timeZone: string) {
  return new Intl.DateTimeFormat("en-US", {
    timeZone,
    weekday: "long",
    day: "numeric",
    month: "long",
    year: "numeric",
    hour: "numeric",
    minute: "2-digit",
    timeZoneName: "short",
  }).format(at);
}

/** A confirmed appointment of the technician that overlaps [start, end), other than `except`. */
export async function clashOf(db: Db, technicianId: string, start: Date, end: Date, except?: string) {
  const { rows } = await sql<{ id: string; title: string; starts_at: Date }>`
    select id, title, starts_at from appointments
    where technician_id = ${technicianId} and status = 'confirmed'
      and starts_at < ${end} and ends_at > ${start}
      and (${except ?? null}::uuid is null or id <> ${except ?? null}::uuid)
    limit 1`.execute(db);
  return rows[0] ?? null;
}

export function clashError(c: { title: string; starts_at: Date }) {
  return new AppError(
    "conflict",
    409,
    `The technician is booked then: "${c.title}" at ${c.starts_at.toISOString()}`,
  );
}

/** Working hours in which free times are offered: 8:00 to 17:00, Monday to Friday, technician's zone. */
const DAY_START = 8;
const DAY_END = 17;
const STEP_MINUTES = 30;

/** Times the technician could take: in working hours, not booked, in the future; at most 40. */
export async function freeSlots(
  db: Db,
  technicianId: string,
  from: string,
  days: number,
  durationMinutes: number,
) {
  const user = await db
    .selectFrom("users")
    .select("timezone")
    .where("id", "=", technicianId)
    .executeTakeFirst();
  if (!user) throw invalid("params.id", "no such user");
  const zone = user.timezone;
  const rangeStart = startOfDay(from, zone);
  const rangeEnd = startOfDay(addDays(from, days), zone);
  const busy = await db
    .selectFrom("appointments")
    .select(["starts_at", "ends_at"])
    .where("technician_id", "=", technicianId)
    .where("status", "=", "confirmed")
    .where("starts_at", "<", rangeEnd)
    .where("ends_at", ">", rangeStart)
    .execute();
  const now = Date.now();
  const slots: Array<{ startsAt: string; endsAt: string }> = [];
  for (let d = 0; d < days && slots.length < 40; d++) {
    const date = addDays(from, d);
    const dow = new Date(`${date}T00:00:00Z`).getUTCDay();
    if (dow === 0 || dow === 6) continue;
    const [y, m, day] = date.split("-").map(Number) as [number, number, number];
    for (let minute = DAY_START * 60; minute + durationMinutes <= DAY_END * 60; minute += STEP_MINUTES) {
      let start: Date;
      try {
        start = instantOf(
          { year: y, month: m, day, hour: Math.floor(minute / 60), minute: minute % 60 },
          zone,
          "earlier",
        );
      } catch {
        continue; // a time the clocks skip in this zone
      }
      const end = new Date(start.getTime() + durationMinutes * 60_000);
      if (start.getTime() < now) continue;
      if (busy.some((b) => b.starts_at < end && b.ends_at > start)) continue;
      slots.push({ startsAt: start.toISOString(), endsAt: end.toISOString() });
      if (slots.length >= 40) break;
    }
  }
  return { timeZone: zone, slots };
}

/** The zone a contact lives in: their site's, else their client's first site's, else the MSP's. */
export async function contactZone(db: Db, contactId: string | null, clientId: string) {
  const { rows } = await sql<{ tz: string | null }>`
    select coalesce(
      (select s.timezone from contacts c join sites s on s.id = c.site_id where c.id = ${contactId}::uuid),
      (select s.timezone from sites s where s.client_id = ${clientId} order by s.created_at limit 1),
      (select timezone from msp limit 1)) as tz`.execute(db);
  return rows[0]?.tz ?? "UTC";
}
