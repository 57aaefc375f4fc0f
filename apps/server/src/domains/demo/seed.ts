import { randomBytes } from "node:crypto";
import type { Database } from "../../db/database.ts";
import { AppError } from "../../http/errors.ts";
import { seedDemoSla } from "../sla/demo.ts";
import { DEMO_MSP, DEMO_TECHS } from "./data.ts";
import { directorySteps, seedDirectory } from "./seed-directory.ts";
import { TicketSeeder } from "./seed-tickets.ts";
import { DEMO_TICKETS } from "./stories.ts";
import { DEMO_TICKETS_MORE } from "./stories-more.ts";

export const ALL_DEMO_TICKETS = [...DEMO_TICKETS, ...DEMO_TICKETS_MORE];

export interface SeedDemoOptions {
  /** Password for every demo technician; a random one when absent. */
  password?: string;
  /** The real time (tests pin it); the stories happen on the working day before it (storyClock). */
  now?: Date;
  /** Called once per unit of work, `demoSeedSteps()` times in all. */
  onStep?: (what: string) => void;
}

export interface SeedDemoResult {
  password: string;
  /** True when the seed also did the first-run setup (the database had no user). */
  createdSetup: boolean;
  admin: { name: string; email: string };
  counts: {
    clients: number;
    contacts: number;
    technicians: number;
    tickets: number;
    timelineEntries: number;
  };
}

/** Minutes east of UTC that `timeZone` is at `at`. */
function offsetMinutes(at: Date, timeZone: string) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
  }).formatToParts(at);
  const n = (type: string) => Number(parts.find((p) => p.type === type)?.value);
  return (Date.UTC(n("year"), n("month") - 1, n("day"), n("hour"), n("minute")) - at.getTime()) / 60_000;
}

/**
 * The stories are told from late afternoon on a working day at the MSP ("the 8:00 call", "the 10:45
 * outage"), so their clock is pinned to the latest weekday 16:30 in the MSP's zone: the morning
 * password resets then show at 8-something local time whatever hour the seed runs.
 */
export function storyClock(now: Date, timeZone = DEMO_MSP.timezone): Date {
  for (let back = 0; back < 8; back++) {
    const day = new Date(now.getTime() - back * 86_400_000);
    const local = new Date(day.getTime() + offsetMinutes(day, timeZone) * 60_000);
    const weekday = local.getUTCDay();
    if (weekday === 0 || weekday === 6) continue;
    const wall = Date.UTC(local.getUTCFullYear(), local.getUTCMonth(), local.getUTCDate(), 16, 30);
    const at = new Date(wall - offsetMinutes(new Date(wall), timeZone) * 60_000);
    if (at.getTime() <= now.getTime()) return at;
  }
  return now;
}

export const demoSeedSteps = () => directorySteps() + ALL_DEMO_TICKETS.length;

/**
 * Fills an empty Switchboard with a believable MSP: clients with sites and contacts, technicians in
 * teams, and a week of tickets with their timelines. Every record goes through the domain services, so
 * search vectors, audit rows and events are exactly what the console would have produced.
 */
export async function seedDemo(db: Database, opts: SeedDemoOptions = {}): Promise<SeedDemoResult> {
  const existing = await db
    .selectFrom("tickets")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .executeTakeFirstOrThrow();
  if (Number(existing.n) > 0) {
    throw new AppError(
      "conflict",
      409,
      `the database already has ${existing.n} ticket(s); the demo only goes into an empty one (use a fresh SWITCHBOARD_DATA_DIR or DATABASE_URL)`,
    );
  }
  const password = opts.password ?? `demo-${randomBytes(9).toString("base64url")}`;
  if (password.length < 12)
    throw new AppError("validation_failed", 400, "the demo password needs 12+ characters");
  const tick = opts.onStep ?? (() => {});
  const now = opts.now ?? new Date();
  const clock = storyClock(now);

  const dir = await seedDirectory(db, password, tick);
  await seedDemoSla(db, {
    timeZone: DEMO_MSP.timezone,
    goldClient: "Riverbend Family Dentistry",
    rotaEmails: [DEMO_TECHS.martin.email, DEMO_TECHS.jamal.email, DEMO_TECHS.raj.email],
  });
  await db.transaction().execute(async (trx) => {
    const seeder = new TicketSeeder(trx, dir, clock, now);
    for (const t of ALL_DEMO_TICKETS) {
      await seeder.seed(t);
      tick(t.subject);
    }
  });

  const c = await db
    .selectNoFrom((eb) => [
      eb.selectFrom("clients").select(eb.fn.countAll<string>().as("n")).as("clients"),
      eb.selectFrom("contacts").select(eb.fn.countAll<string>().as("n")).as("contacts"),
      eb.selectFrom("users").select(eb.fn.countAll<string>().as("n")).as("technicians"),
      eb.selectFrom("tickets").select(eb.fn.countAll<string>().as("n")).as("tickets"),
      eb.selectFrom("timeline_entries").select(eb.fn.countAll<string>().as("n")).as("timeline"),
    ])
    .executeTakeFirstOrThrow();
  return {
    password,
    createdSetup: dir.createdSetup,
    admin: { name: DEMO_TECHS.dana.name, email: DEMO_TECHS.dana.email },
    counts: {
      clients: Number(c.clients),
      contacts: Number(c.contacts),
      technicians: Number(c.technicians),
      tickets: Number(c.tickets),
      timelineEntries: Number(c.timeline),
    },
  };
}
