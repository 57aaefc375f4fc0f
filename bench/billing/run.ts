/**
 * Billing benchmark: the monthly run for 500 clients with 200,000 time entries (each client on a
 * contract with managed devices, an hourly rate with rounding and after-hours time, prepaid hours),
 * beside the bare SQL aggregation of the same entries in the same run; then the dispatch calendar of
 * 30 technicians and a week painted in Chromium, beside its API request alone. See bench/README.md.
 *
 *   npm run build:web && npm run bench:billing
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { sql } from "kysely";
import { chromium } from "playwright-core";
import { loadConfig } from "../../apps/server/src/config.ts";
import { connectDatabase } from "../../apps/server/src/db/database.ts";
import { startEmbeddedPostgres } from "../../apps/server/src/db/embedded.ts";
import { migrateToLatest } from "../../apps/server/src/db/migrate.ts";
import { systemActor } from "../../apps/server/src/domains/auth/actor.ts";
import { newSecret, sha256 } from "../../apps/server/src/domains/auth/crypto.ts";
import { runBilling } from "../../apps/server/src/domains/billing/run.ts";
import { startServer } from "../../apps/server/src/server.ts";
import { chromiumLaunch } from "../../e2e/chromium.ts";
import { summarize } from "../lib/stats.ts";

const CLIENTS = Number(process.env.BENCH_BILLING_CLIENTS ?? 500);
const ENTRIES = Number(process.env.BENCH_BILLING_ENTRIES ?? 200_000);
const TECHNICIANS = 30;
const MONTH = "2026-11";
const ROOT = path.resolve(import.meta.dirname, "../..");
const log = (m: string) => console.log(`[bench:billing ${new Date().toISOString().slice(11, 19)}] ${m}`);

async function seed(db: ReturnType<typeof connectDatabase>["db"]) {
  await sql`insert into msp (name, timezone) values ('Bench MSP', 'America/Chicago') on conflict do nothing`.execute(
    db,
  );
  await sql`insert into users (email, name, role)
    select 'bench-tech' || i || '@msp.example', 'Technician ' || i, 'technician' from generate_series(1, ${TECHNICIANS}) i`.execute(
    db,
  );
  await sql`insert into clients (name) select 'Client ' || lpad(i::text, 4, '0') from generate_series(1, ${CLIENTS}) i`.execute(
    db,
  );
  await sql`insert into contracts (client_id, name, starts_on) select id, 'Managed', '2026-01-01' from clients`.execute(
    db,
  );
  await sql`insert into contract_lines (client_id, contract_id, kind, description, work_type, unit_price_minor, rate_minor,
      rounding_minimum_minutes, rounding_increment_minutes, after_hours_multiplier_pct, position)
    select k.client_id, k.id, l.kind, l.description, l.work_type, l.unit_price, l.rate, l.min, l.inc, l.pct, l.pos
    from contracts k cross join (values
      ('managed_device', 'Managed workstation', null, 5000, 0, 0, 1, 100, 0),
      ('block', 'Prepaid remote support', 'remote', 0, 0, 15, 15, 100, 1),
      ('hourly', 'Support', null, 0, 12000, 15, 15, 150, 2)
    ) as l(kind, description, work_type, unit_price, rate, min, inc, pct, pos)`.execute(db);
  await sql`insert into block_hours (client_id, contract_id, purchased_minutes, price_minor, purchased_on, expires_on)
    select client_id, id, 600, 100000, '2026-06-01', '2027-05-31' from contracts`.execute(db);
  // Devices for the managed line: 10 per client.
  await sql`insert into devices (client_id, hostname, platform, arch, os_name, os_version, agent_version, public_key, enrolled_at)
    select c.id, 'pc-' || c.name || '-' || d, 'windows', 'x64', 'Windows 11', '24H2', '1.0.0', md5(c.id::text || d), '2026-10-01'
    from clients c cross join generate_series(1, 10) d`.execute(db);
  // Entries spread over November and the clients, a skew of work types, minutes from 5 to 185.
  await sql`insert into time_entries (client_id, user_id, work_type, billable, started_at, ended_at, minutes, note)
    with c as (select array_agg(id order by name) as a from clients),
         u as (select array_agg(id order by email) as a from users where email like 'bench-tech%')
    select c.a[1 + i % ${CLIENTS}], u.a[1 + i % ${TECHNICIANS}],
      (array['remote','remote','remote','onsite','project','after_hours'])[1 + (i % 6)],
      i % 10 <> 0,
      s.started, s.started + make_interval(mins => s.m), s.m, 'bench'
    from generate_series(1, ${ENTRIES}) i, c, u,
      lateral (select '2026-11-01 14:00:00+00'::timestamptz + ((i * 7919) % (29 * 24 * 60)) * interval '1 minute' as started,
                      5 + (i * 31) % 181 as m) s`.execute(db);
  await sql`analyze`.execute(db);
}

async function bareAggregation(url: string) {
  const c = connectDatabase(url, { max: 1 });
  const t0 = performance.now();
  await sql`select client_id, work_type, count(*), sum(minutes)
    from time_entries where billable and ended_at is not null and started_at < '2026-12-01 06:00:00+00'
    group by client_id, work_type`.execute(c.db);
  const ms = performance.now() - t0;
  await c.close();
  return ms;
}

async function main() {
  const tmp = await mkdtemp(path.join(os.tmpdir(), "switchboard-bench-billing-"));
  await chmod(tmp, 0o755);
  const pg = await startEmbeddedPostgres({
    dir: path.join(tmp, "pg"),
    port: 55000 + Math.floor(Math.random() * 900),
    settings: { shared_buffers: "512MB", work_mem: "32MB", max_wal_size: "4GB" },
  });
  try {
    const owner = connectDatabase(pg.url, { max: 4 });
    await migrateToLatest(owner.db);
    log(`seeding ${CLIENTS} clients, ${ENTRIES} time entries`);
    const s0 = performance.now();
    await seed(owner.db);
    log(`seeded in ${Math.round((performance.now() - s0) / 1000)} s`);
    await owner.close();

    // The run as the server does it: the app's role, under row-level security, in the system scope.
    const config = loadConfig({
      DATABASE_URL: pg.url,
      PORT: "0",
      HOST: "127.0.0.1",
      SWITCHBOARD_DATA_DIR: tmp,
      SWITCHBOARD_ROLES: "api",
      LOG_LEVEL: "silent",
      DB_POOL_SIZE: "4",
    });
    const server = await startServer(config);
    const db = server.deps.db;
    const bare = [
      await bareAggregation(pg.url),
      await bareAggregation(pg.url),
      await bareAggregation(pg.url),
    ];
    const actor = { ...systemActor("bench"), role: "admin" as const };
    log("billing run (first: drafts made)");
    const first = await runBilling(db, actor, { month: `${MONTH}-15` });
    log(`first run ${first.tookMs} ms: ${first.invoices} invoices, ${first.timeEntries} entries`);
    const second = await runBilling(db, actor, { month: `${MONTH}-15` });
    log(`second run (drafts replaced) ${second.tookMs} ms`);
    const bareMs = Math.min(...bare);

    // The dispatch calendar: 30 technicians, about 5 appointments each in the week shown.
    const tickets = await sql<{ id: string; client_id: string }>`
      insert into tickets (subject, client_id, type, source, priority, status_id, status_category)
      select 'Visit ' || i, (select id from clients order by name offset (i % ${CLIENTS}) limit 1), 'incident', 'api', 3,
        '00000000-0000-4000-8000-000000000006', 'scheduled'
      from generate_series(1, 150) i returning id, client_id`.execute(db);
    const techs = await db
      .selectFrom("users")
      .select("id")
      .where("email", "like", "bench-tech%")
      .orderBy("email")
      .execute();
    const monday = new Date();
    monday.setUTCHours(14, 0, 0, 0);
    monday.setUTCDate(monday.getUTCDate() - ((monday.getUTCDay() + 6) % 7));
    await db
      .insertInto("appointments")
      .values(
        tickets.rows.map((t, i) => {
          // Each technician: one visit a day, Monday to Friday.
          const start = new Date(
            monday.getTime() + (Math.floor(i / 30) % 5) * 86_400_000 + (i % 3) * 7_200_000,
          );
          return {
            client_id: t.client_id,
            ticket_id: t.id,
            technician_id: techs[i % techs.length]!.id,
            kind: "remote" as const,
            title: `Visit ${i}`,
            starts_at: start,
            ends_at: new Date(start.getTime() + 3_600_000),
            ical_uid: `bench-${i}@switchboard`,
          };
        }),
      )
      .execute();
    const admin = await db
      .insertInto("users")
      .values({ email: "bench-admin@msp.example", name: "Bench Admin", role: "admin" })
      .returning("id")
      .executeTakeFirstOrThrow();
    const session = newSecret();
    await db
      .insertInto("sessions")
      .values({
        token_hash: sha256(session),
        user_id: admin.id,
        expires_at: new Date(Date.now() + 3_600_000),
      })
      .execute();
    const { port } = server.app.server.address() as AddressInfo;
    const base = `http://127.0.0.1:${port}`;
    const from = new Date(monday.getTime() - 86_400_000 - 14 * 3_600_000).toISOString();
    const to = new Date(monday.getTime() + 8 * 86_400_000).toISOString();
    const apiTimes: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      const r = await fetch(`${base}/api/v1/dispatch?from=${from}&to=${to}`, {
        headers: { cookie: `sb_session=${session}` },
      });
      await r.json();
      apiTimes.push(performance.now() - t0);
    }
    const userDataDir = await mkdtemp(path.join(os.tmpdir(), "switchboard-bench-chromium-"));
    const context = await chromium.launchPersistentContext(userDataDir, chromiumLaunch);
    await context.addCookies([{ name: "sb_session", value: session, url: base }]);
    const page = context.pages()[0] ?? (await context.newPage());
    const paints: number[] = [];
    for (let i = 0; i < 8; i++) {
      const t0 = performance.now();
      await page.goto(`${base}/dispatch`, { waitUntil: "commit" });
      await page.locator('[data-testid="dispatch-appointment"]').nth(140).waitFor();
      await page.evaluate("new Promise((r) => requestAnimationFrame(() => r(0)))");
      paints.push(performance.now() - t0);
    }
    await context.close();
    await rm(userDataDir, { recursive: true, force: true });
    await server.stop();

    const results = {
      benchmark: "billing",
      at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg: os.loadavg() },
      dataset: { clients: CLIENTS, timeEntries: ENTRIES, technicians: TECHNICIANS, month: MONTH },
      billingRun: {
        firstMs: first.tookMs,
        replaceDraftsMs: second.tookMs,
        invoices: first.invoices,
        timeEntriesBilled: first.timeEntries,
        bareSqlAggregationMs: Math.round(bareMs),
        ratioToBareSql: Math.round((first.tookMs / bareMs) * 10) / 10,
        targetMs: 30_000,
      },
      dispatchCalendar: {
        appointments: 150,
        technicians: TECHNICIANS,
        paintMs: summarize(paints.slice(1)),
        coldPaintMs: Math.round(paints[0]!),
        apiMs: summarize(apiTimes.slice(1)),
        targetMs: 1000,
      },
    };
    await mkdir(path.join(ROOT, "bench/results"), { recursive: true });
    await writeFile(path.join(ROOT, "bench/results/billing.json"), `${JSON.stringify(results, null, 2)}\n`);
    console.table({
      "billing run ms": {
        value: first.tookMs,
        baseline: Math.round(bareMs),
        ratio: results.billingRun.ratioToBareSql,
        target: 30_000,
      },
      "dispatch paint p50 ms": {
        value: results.dispatchCalendar.paintMs.p50,
        baseline: results.dispatchCalendar.apiMs.p50,
        ratio:
          Math.round(
            (results.dispatchCalendar.paintMs.p50 / Math.max(1, results.dispatchCalendar.apiMs.p50)) * 10,
          ) / 10,
        target: 1000,
      },
    });
    log("results in bench/results/billing.json");
  } finally {
    await pg.stop();
    await rm(tmp, { recursive: true, force: true });
  }
}

await main();
