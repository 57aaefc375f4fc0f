/**
 * SLA benchmark, each measure beside its baseline from the same run (see bench/README.md):
 *  1. the queue page sorted by SLA due (listTickets, as the API runs it, in a client-limited scope) beside
 *     the same SQL bare over pg, and beside the queue sorted by priority;
 *  2. recomputing every open ticket's clock after a calendar change (recomputeOpenTickets) beside only
 *     reading the same tickets' histories;
 *  3. TIMERS timers due in the same second, fired by one worker process: lateness from the due instant to
 *     the breach being claimed (and to it being committed, seen by polling), beside the same number of
 *     no-op pg-boss jobs due at the same instant, fetched the same way.
 *
 *   BENCH_SLA_TICKETS=100000 BENCH_SLA_TIMERS=10000 npm run bench:sla
 */
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { sql } from "kysely";
import pg from "pg";
import { loadConfig } from "../../apps/server/src/config.ts";
import { connectDatabase } from "../../apps/server/src/db/database.ts";
import { migrateToLatest } from "../../apps/server/src/db/migrate.ts";
import { provisionAppRole } from "../../apps/server/src/db/roles.ts";
import { runInScope } from "../../apps/server/src/db/scope.ts";
import type { Actor } from "../../apps/server/src/domains/auth/actor.ts";
import {
  createSlaQueues,
  recomputeOpenTickets,
  startSlaWorkers,
  TIMER_WORK,
} from "../../apps/server/src/domains/sla/jobs.ts";
import { ticketHistories, ticketsForSla } from "../../apps/server/src/domains/sla/queries.ts";
import { recomputeTicketSla, type SlaDeps } from "../../apps/server/src/domains/sla/recompute.ts";
import { listTickets } from "../../apps/server/src/domains/tickets/list.ts";
import { summarySelect } from "../../apps/server/src/domains/tickets/read.ts";
import { LocalBlobStore } from "../../apps/server/src/lib/blob-store.ts";
import { startBoss } from "../../apps/server/src/lib/jobs.ts";
import { summarize } from "../lib/stats.ts";

const TICKETS = Number(process.env.BENCH_SLA_TICKETS ?? 100_000);
const TIMERS = Number(process.env.BENCH_SLA_TIMERS ?? 10_000);
const READS = Number(process.env.BENCH_SLA_READS ?? 500);
const ADMIN_URL = process.env.BENCH_SLA_ADMIN_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
const ROOT = path.resolve(import.meta.dirname, "../..");
const log = (m: string) => console.log(`[bench:sla ${new Date().toISOString().slice(11, 19)}] ${m}`);

async function createDatabase() {
  const name = `bench_sla_${randomBytes(4).toString("hex")}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: ADMIN_URL });
      await c.connect();
      await c.query(`drop database if exists ${name} with (force)`);
      await c.end();
    },
  };
}

type Db = ReturnType<typeof connectDatabase>["db"];

/** TICKETS open tickets over 200 clients, created over the last 20 days; a third waited on the client. */
async function seed(db: Db) {
  await sql`insert into msp (name, timezone) values ('Bench MSP', 'America/Chicago')`.execute(db);
  await sql`update sla_calendars set time_zone = 'America/Chicago' where name = 'Business hours'`.execute(db);
  await sql`insert into sla_policies (name, calendar_id, targets, is_default)
    select 'Standard', id, '{"1":{"firstResponse":15,"resolution":240},"2":{"firstResponse":60,"resolution":480},"3":{"firstResponse":240,"resolution":1440},"4":{"firstResponse":480,"resolution":2880}}', true
    from sla_calendars where name = 'Business hours'`.execute(db);
  await sql`insert into users (email, name, role) values ('bench@msp.example', 'Bench Tech', 'technician')`.execute(
    db,
  );
  await sql`insert into clients (name) select 'Client ' || lpad(i::text, 3, '0') from generate_series(1, 200) i`.execute(
    db,
  );
  await sql`insert into tickets (subject, client_id, type, source, priority, status_id, status_category, created_at,
      updated_at, last_activity_at, status_changed_at, search_vector)
    with c as (select array_agg(id order by name) as a from clients)
    select 'Bench ticket ' || i, c.a[1 + i % 200], 'incident', 'email', 1 + i % 4,
      '00000000-0000-4000-8000-000000000002', 'open', s.at, s.at, s.at, s.at, ''
    from generate_series(1, ${TICKETS}) i, c,
      lateral (select now() - ((i * 7919) % (20 * 24 * 60)) * interval '1 minute' as at) s`.execute(db);
  // A third waited on the client for a day and came back; half had a public reply an hour in.
  await sql`insert into timeline_entries (ticket_id, kind, visibility, event, created_at)
    select id, 'event', 'internal', jsonb_build_object('type', 'status_changed',
      'from', jsonb_build_object('category', 'open'), 'to', jsonb_build_object('category', c.cat, 'name', c.name)),
      created_at + c.after
    from tickets t, (values ('waiting_client', 'Waiting on client', interval '2 hours'),
                            ('open', 'Open', interval '26 hours')) c(cat, name, after)
    where t.number % 3 = 0`.execute(db);
  await sql`insert into timeline_entries (ticket_id, kind, visibility, author_user_id, body, created_at)
    select t.id, 'reply', 'public', u.id, 'On it', t.created_at + interval '1 hour'
    from tickets t, users u where t.number % 2 = 0`.execute(db);
  await sql`analyze`.execute(db);
}

async function queueBench(db: Db, bare: pg.Client, clientIds: string[]) {
  const actor: Actor = {
    kind: "user",
    userId: null,
    name: "bench",
    role: "technician",
    clientIds,
    teamIds: [],
    timezone: "America/Chicago",
    via: "token",
  };
  const scope = { kind: "clients" as const, clientIds };
  const timed = async (fn: () => Promise<unknown>) => {
    const out: number[] = [];
    for (let i = 0; i < READS + 20; i++) {
      const t0 = performance.now();
      await fn();
      if (i >= 20) out.push(performance.now() - t0);
    }
    return summarize(out);
  };
  const q = (sort: "sla_due" | "priority") => ({
    queue: "all" as const,
    state: "open" as const,
    sort,
    limit: 50,
  });
  const slaDue = await timed(() => runInScope(scope, () => listTickets(db, actor, q("sla_due"))));
  const priority = await timed(() => runInScope(scope, () => listTickets(db, actor, q("priority"))));
  // The same statement listTickets sends (its joins and key columns), bare over pg as the table's owner.
  const compiled = summarySelect(db)
    .select(sql<string>`(coalesce(t.sla_due_at, 'infinity'::timestamptz))::text`.as("k0"))
    .where(sql<boolean>`t.merged_into_id is null and t.is_open and t.client_id = any(${clientIds}::uuid[])`)
    .orderBy(sql`coalesce(t.sla_due_at, 'infinity'::timestamptz) asc, t.id asc`)
    .limit(51)
    .compile();
  const bareSql = await timed(() => bare.query(compiled.sql, compiled.parameters as unknown[]));
  return { slaDue, priority, bareSql, ratio: Math.round((slaDue.p95 / bareSql.p95) * 100) / 100 };
}

async function main() {
  const database = await createDatabase();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "bench-sla-"));
  try {
    const owner = connectDatabase(database.url, { max: 2 });
    await migrateToLatest(owner.db);
    const role = await provisionAppRole(owner.db, database.url);
    log(`seeding ${TICKETS} open tickets`);
    await seed(owner.db);
    await owner.close();
    const app = connectDatabase(role.url, { max: 8, scopeRoles: role.roles });
    const config = loadConfig({ SWITCHBOARD_DATA_DIR: dataDir, LOG_LEVEL: "silent" });
    const deps: SlaDeps = {
      db: app.db,
      config,
      blobs: new LocalBlobStore(path.join(dataDir, "blobs")),
      boss: null,
    };

    // 2. Recompute after a calendar change, beside reading the same histories.
    const ids = (await app.db.selectFrom("tickets").select("id").execute()).map((r) => r.id);
    // Baseline: the same reads, set-based in chunks of 25 four at a time, without computing or writing.
    let t0 = performance.now();
    for (let i = 0; i < ids.length; i += 100) {
      await Promise.all(
        [0, 25, 50, 75].map(async (o) => {
          const part = ids.slice(i + o, i + o + 25);
          if (part.length) await ticketHistories(app.db, await ticketsForSla(app.db, part));
        }),
      );
    }
    const readMs = performance.now() - t0;
    log(`read ${ids.length} histories in ${Math.round(readMs)} ms`);
    // The first computation also records every old breach on its ticket's timeline (a one-off).
    t0 = performance.now();
    const first = await recomputeOpenTickets(deps, null);
    const firstMs = performance.now() - t0;
    log(`first computation of ${first} clocks in ${Math.round(firstMs)} ms`);
    // Then what an admin's change starts: the calendar opens an hour later.
    await sql`update sla_calendars set hours = '[{"day":1,"start":540,"end":1020},{"day":2,"start":540,"end":1020},{"day":3,"start":540,"end":1020},{"day":4,"start":540,"end":1020},{"day":5,"start":540,"end":1020}]'
      where name = 'Business hours'`.execute(app.db);
    t0 = performance.now();
    const done = await recomputeOpenTickets(deps, null);
    const recomputeMs = performance.now() - t0;
    log(`recomputed ${done} clocks after a calendar change in ${Math.round(recomputeMs)} ms`);
    const recompute = {
      tickets: done,
      firstComputationMs: Math.round(firstMs),
      recomputeMs: Math.round(recomputeMs),
      perSecond: Math.round((done / recomputeMs) * 1000),
      readHistoriesMs: Math.round(readMs),
      ratio: Math.round((recomputeMs / readMs) * 100) / 100,
      minutesPerMillion: Math.round((1_000_000 / (done / recomputeMs) / 60_000) * 10) / 10,
    };

    // 1. The queue sorted by SLA due, for a technician limited to 20 clients (row-level security on).
    const bare = new pg.Client({ connectionString: database.url });
    await bare.connect();
    bare.on("error", () => {}); // the database is dropped at the end, with this connection in it
    const clientIds = (
      await app.db.selectFrom("clients").select("id").orderBy("name").limit(20).execute()
    ).map((r) => r.id);
    const queue = await queueBench(app.db, bare, clientIds);
    log(`queue by SLA due p95 ${queue.slaDue.p95} ms, bare SQL p95 ${queue.bareSql.p95} ms`);

    // 3. Timers all due in the same second, fired by one worker process; baseline: no-op jobs.
    const boss = await startBoss(database.url, { supervise: false, schedule: false, max: 6 });
    const withBoss = { ...deps, boss };
    await bare.query(`insert into clients (name) values ('Timers')`);
    await bare.query(`insert into sla_policies (name, calendar_id, targets)
      select 'Timers', id, '{"1":{"firstResponse":1,"resolution":600},"2":{"firstResponse":1,"resolution":600},"3":{"firstResponse":1,"resolution":600},"4":{"firstResponse":1,"resolution":600}}'
      from sla_calendars where name = '24/7'`);
    await bare.query(`insert into client_sla_policies (client_id, policy_id)
      select c.id, p.id from clients c, sla_policies p where c.name = 'Timers' and p.name = 'Timers'`);
    const lead = 40 + Math.ceil(TIMERS / 500); // seconds to schedule them all before they fall due
    const dueAt = new Date(Math.ceil((Date.now() + lead * 1000) / 1000) * 1000);
    const created = new Date(dueAt.getTime() - 60_000);
    const { rows: timerTickets } = await bare.query<{ id: string }>(
      `insert into tickets (subject, client_id, type, source, priority, status_id, status_category, created_at,
         updated_at, last_activity_at, status_changed_at, search_vector)
       select 'Timer ' || i, (select id from clients where name = 'Timers'), 'incident', 'email', 3,
         '00000000-0000-4000-8000-000000000002', 'open', $1, $1, $1, $1, ''
       from generate_series(1, $2::int) i returning id`,
      [created, TIMERS],
    );
    log(`scheduling ${TIMERS} timers due at ${dueAt.toISOString()}`);
    await boss.createQueue("bench.noop");
    await createSlaQueues(boss);
    const tIds = timerTickets.map((r) => r.id);
    for (let i = 0; i < tIds.length; i += 8) {
      await Promise.all(tIds.slice(i, i + 8).map((id) => recomputeTicketSla(withBoss, id)));
    }
    await boss.insert(
      "bench.noop",
      tIds.map(() => ({ data: {}, startAfter: dueAt })),
    );
    const workers = await startSlaWorkers(withBoss);
    const noopDone: number[] = [];
    // The baseline fetches as the timer worker does (batch size, fetches in flight, polling interval).
    await boss.work("bench.noop", TIMER_WORK, async (jobs) => {
      for (const _ of jobs) noopDone.push(Date.now() - dueAt.getTime());
    });
    if (Date.now() > dueAt.getTime())
      log("warning: scheduling took past the due time; lateness is overstated");
    const until = dueAt.getTime() + 120_000;
    const visible: number[] = [];
    for (;;) {
      const { rows } = await bare.query<{ n: number }>(
        `select count(*)::int as n from ticket_slas s join tickets t on t.id = s.ticket_id
         where t.client_id = (select id from clients where name = 'Timers') and s.first_response_breach_notified_at is not null`,
      );
      // Committed and visible by now: the rows first seen at this poll (to its 250 ms resolution).
      const seenAt = Date.now() - dueAt.getTime();
      for (let i = visible.length; i < rows[0]!.n; i++) visible.push(seenAt);
      if ((rows[0]!.n >= TIMERS && noopDone.length >= TIMERS) || Date.now() > until) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const { rows: late } = await bare.query<{ ms: number }>(
      `select extract(epoch from (s.first_response_breach_notified_at - s.first_response_breached_at)) * 1000 as ms
       from ticket_slas s join tickets t on t.id = s.ticket_id
       where t.client_id = (select id from clients where name = 'Timers') and s.first_response_breach_notified_at is not null`,
    );
    await workers.stop();
    await boss.stop({ graceful: false, timeout: 2000 });
    const timers = {
      count: TIMERS,
      fired: late.length,
      latenessMs: summarize(late.map((r) => Number(r.ms))),
      visibleLatenessMs: summarize(visible),
      noopLatenessMs: summarize(noopDone),
    };
    log(
      `timers: ${late.length}/${TIMERS} fired, max lateness ${timers.latenessMs.max} ms, committed ${timers.visibleLatenessMs.max} ms (no-op jobs ${timers.noopLatenessMs.max} ms)`,
    );
    await bare.end();
    await app.close();

    const result = { date: new Date().toISOString(), tickets: TICKETS, queue, recompute, timers };
    await mkdir(path.join(ROOT, "bench/results"), { recursive: true });
    await writeFile(path.join(ROOT, "bench/results/sla.json"), `${JSON.stringify(result, null, 2)}\n`);
    console.log(JSON.stringify(result, null, 2));
  } finally {
    await database.drop();
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
