/**
 * Portal, knowledge base and documentation benchmark. In one run, on one database:
 * 1. search across tickets, articles and documents through `GET /api/v1/search` (the one endpoint), with
 *    the same three SQL statements run bare over `pg` in parallel as the baseline;
 * 2. the portal's first page for a contact with 500 tickets in Chromium (navigation to the first ticket
 *    row painted), with the bare API request for that page as the baseline.
 *
 *   npm run build:web && node bench/portal/run.ts
 *   BENCH_PORTAL_TICKETS (default 1,000,000), BENCH_PORTAL_DOCUMENTS (default 100,000), articles are
 *   a tenth of the documents. The data set is kept in bench/data/portal-pg-<tickets>-<documents>/.
 */
import { mkdir, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { sql } from "kysely";
import pg from "pg";
import { chromium } from "playwright-core";
import { loadConfig } from "../../apps/server/src/config.ts";
import { connectDatabase, type Database } from "../../apps/server/src/db/database.ts";
import { startEmbeddedPostgres } from "../../apps/server/src/db/embedded.ts";
import { migrateToLatest } from "../../apps/server/src/db/migrate.ts";
import { newSecret, sha256 } from "../../apps/server/src/domains/auth/crypto.ts";
import { startServer } from "../../apps/server/src/server.ts";
import { chromiumLaunch } from "../../e2e/chromium.ts";
import { load, rng, summarize } from "../lib/stats.ts";
import { VOCAB } from "../tickets/generate.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const TICKETS = Number(process.env.BENCH_PORTAL_TICKETS ?? 1_000_000);
const DOCUMENTS = Number(process.env.BENCH_PORTAL_DOCUMENTS ?? 100_000);
const READS = Number(process.env.BENCH_READS ?? 1000);
const PAINTS = Number(process.env.BENCH_PORTAL_PAINTS ?? 15);
const log = (msg: string) => console.log(`[bench:portal ${new Date().toISOString().slice(11, 19)}] ${msg}`);

/** A random phrase of `min`-`max` words from the service-desk vocabulary, skewed to the common ones. */
const words = (min: number, max: number) =>
  sql`(select string_agg((${sql.val(VOCAB)}::text[])[1 + floor(random() ^ 2 * ${VOCAB.length}::int)::int], ' ')
       from generate_series(1, ${min}::int + floor(random() * ${max - min + 1}::int)::int) w where g.i > 0)`;

async function generate(db: Database) {
  log(`generating ${TICKETS} tickets, ${DOCUMENTS} documents, ${Math.round(DOCUMENTS / 10)} articles`);
  await sql`insert into clients (name) select 'Client ' || i from generate_series(1, 500) i`.execute(db);
  await sql`insert into contacts (client_id, first_name, last_name, emails)
    select id, 'Pat', 'Portal', array['pat@client-1.example'] from clients where name = 'Client 1'`.execute(
    db,
  );
  const batch = 100_000;
  for (let from = 0; from < TICKETS; from += batch) {
    const n = Math.min(batch, TICKETS - from);
    await sql`
      with c as (select array_agg(id order by name) ids from clients)
      insert into tickets (subject, description, client_id, type, source, priority, status_id, status_category,
        created_at, last_activity_at, search_vector)
      select s, d, c.ids[1 + (g.i % 500)], 'incident', 'email', 1 + g.i % 4,
        '00000000-0000-4000-8000-000000000002', 'open',
        now() - make_interval(mins => g.i), now() - make_interval(mins => g.i),
        setweight(to_tsvector('english', s), 'A') || setweight(to_tsvector('english', d), 'B')
      from c, generate_series(${from + 1}::int, ${from + n}::int) g(i),
        lateral (select ${words(3, 7)} s, ${words(8, 30)} d) t`.execute(db);
    log(`  tickets ${from + n}`);
  }
  // The portal contact: 500 tickets of their own.
  await sql`update tickets set contact_id = (select id from contacts where last_name = 'Portal')
    where id in (select id from tickets where client_id = (select id from clients where name = 'Client 1') limit 500)`.execute(
    db,
  );
  const layout = await sql<{ id: string }>`select id from doc_layouts where name = 'Network'`.execute(db);
  for (let from = 0; from < DOCUMENTS; from += batch) {
    const n = Math.min(batch, DOCUMENTS - from);
    await sql`
      with c as (select array_agg(id order by name) ids from clients)
      insert into documents (client_id, layout_id, title, data, search_text)
      select c.ids[1 + (g.i % 500)], ${layout.rows[0]!.id}, t.title, '{}', t.body
      from c, generate_series(${from + 1}::int, ${from + n}::int) g(i),
        lateral (select ${words(2, 5)} title, ${words(30, 120)} body) t`.execute(db);
    log(`  documents ${from + n}`);
  }
  await sql`
    with c as (select array_agg(id order by name) ids from clients)
    insert into kb_articles (client_id, title, body_html, body_text, visibility)
    select case when g.i % 3 = 0 then null else c.ids[1 + (g.i % 500)] end, t.title, '<p>' || t.body || '</p>', t.body,
      case when g.i % 2 = 0 then 'public' else 'internal' end
    from c, generate_series(1, ${Math.round(DOCUMENTS / 10)}::int) g(i),
      lateral (select ${words(3, 8)} title, ${words(60, 300)} body) t`.execute(db);
  await sql`analyze`.execute(db);
}

async function main() {
  if (!process.env.BENCH_DATABASE_URL) log("an embedded PostgreSQL in bench/data");
  const dir = path.join(ROOT, "bench", "data", `portal-pg-${TICKETS}-${DOCUMENTS}`);
  await mkdir(path.dirname(dir), { recursive: true });
  const embedded = process.env.BENCH_DATABASE_URL
    ? null
    : await startEmbeddedPostgres({
        dir,
        port: 54_391,
        settings: {
          shared_buffers: "1GB",
          maintenance_work_mem: "512MB",
          work_mem: "16MB",
          random_page_cost: "1.1",
        },
      });
  const url = process.env.BENCH_DATABASE_URL ?? embedded!.url;
  const handle = connectDatabase(url, { max: 4 });
  const db = handle.db;
  let server: Awaited<ReturnType<typeof startServer>> | null = null;
  const browser = await chromium.launch(chromiumLaunch);
  try {
    await migrateToLatest(db);
    const have = await db
      .selectFrom("tickets")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .executeTakeFirstOrThrow();
    if (Number(have.n) === 0) await generate(db);
    else log(`reusing ${have.n} tickets`);

    await sql`insert into users (email, name, role) values ('bench@msp.example', 'Bench', 'technician')
      on conflict do nothing`.execute(db);
    const tech = await db
      .selectFrom("users")
      .select("id")
      .where("email", "=", "bench@msp.example")
      .executeTakeFirstOrThrow();
    const token = newSecret("sb_");
    await db
      .insertInto("api_tokens")
      .values({ user_id: tech.id, name: "bench", token_hash: sha256(token), prefix: token.slice(0, 10) })
      .execute();
    const contact = await db
      .selectFrom("contacts")
      .select(["id", "client_id"])
      .where("last_name", "=", "Portal")
      .executeTakeFirstOrThrow();
    await db
      .insertInto("portal_accounts")
      .values({ contact_id: contact.id, client_id: contact.client_id, email: "pat@client-1.example" })
      .onConflict((oc) => oc.doNothing())
      .execute();
    const cookie = newSecret("sbp_");
    await db
      .insertInto("portal_sessions")
      .values({
        token_hash: sha256(cookie),
        contact_id: contact.id,
        client_id: contact.client_id,
        expires_at: new Date(Date.now() + 3600_000),
      })
      .execute();

    const dataDir = path.join(os.tmpdir(), `switchboard-bench-portal-${process.pid}`);
    server = await startServer(
      loadConfig({
        DATABASE_URL: url,
        PORT: "0",
        HOST: "127.0.0.1",
        SWITCHBOARD_DATA_DIR: dataDir,
        SWITCHBOARD_ROLES: "api",
        LOG_LEVEL: "warn",
      }),
    );
    const base = `http://127.0.0.1:${(server.app.server.address() as AddressInfo).port}`;
    const rand = rng(7);
    const pick = () => VOCAB[Math.floor(rand() ** 1.5 * VOCAB.length)]!;
    const pairs = Array.from({ length: 200 }, () => `${pick()} ${pick()}`);

    log("search: tickets + articles + documents through the API");
    const headers = { authorization: `Bearer ${token}` };
    const opts = { concurrency: 1, count: READS, maxMs: 180_000 };
    for (const q of pairs.slice(0, 20))
      await fetch(`${base}/api/v1/search?q=${encodeURIComponent(q)}`, { headers });
    const viaApi = await load(opts, async (i) => {
      const r = await fetch(
        `${base}/api/v1/search?q=${encodeURIComponent(pairs[i % pairs.length]!)}&types=tickets,articles,documents`,
        { headers },
      );
      if (!r.ok) throw new Error(`${r.status}`);
      await r.arrayBuffer();
    });
    log("search: the same statements over bare pg");
    const bare = new pg.Pool({ connectionString: url, max: 4 });
    const q = (kind: string) => `with candidates as (select x.id, x.search_vector from ${kind} x
        where x.search_vector @@ websearch_to_tsquery('english', $1) ${kind === "tickets" ? "and x.merged_into_id is null" : ""}
        order by ${kind === "tickets" ? "x.last_activity_at" : "x.updated_at"} desc limit 1000)
      select c.id, ts_rank_cd(c.search_vector, websearch_to_tsquery('english', $1), 1) as rank from candidates c order by rank desc limit 20`;
    const viaSql = await load(opts, async (i) => {
      const text = pairs[i % pairs.length]!;
      await Promise.all(["tickets", "kb_articles", "documents"].map((k) => bare.query(q(k), [text])));
    });
    await bare.end();

    log("portal first page in Chromium (a contact with 500 tickets)");
    const apiPage = await load({ concurrency: 1, count: 50, maxMs: 60_000 }, async () => {
      const r = await fetch(`${base}/api/v1/portal/tickets?scope=mine&status=all&limit=50`, {
        headers: { cookie: `sb_portal=${cookie}` },
      });
      if (!r.ok) throw new Error(`${r.status}`);
      await r.arrayBuffer();
    });
    const paints: number[] = [];
    for (let i = 0; i < PAINTS + 2; i++) {
      const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
      await context.addCookies([{ name: "sb_portal", value: cookie, url: base }]);
      const page = await context.newPage();
      const t0 = performance.now();
      await page.goto(`${base}/portal`);
      await page.locator("tbody tr").first().waitFor({ state: "visible", timeout: 30_000 });
      // The frame after the row is in the DOM: it is painted.
      await page.evaluate("new Promise((r) => requestAnimationFrame(() => r(null)))");
      if (i >= 2) paints.push(performance.now() - t0); // two cold loads warm the server and the cache
      await context.close();
    }

    const counts = await sql<{ tickets: string; documents: string; articles: string }>`
      select (select count(*) from tickets) tickets, (select count(*) from documents) documents,
        (select count(*) from kb_articles) articles`.execute(db);
    const search = { api: summarize(viaApi.latencies), sql: summarize(viaSql.latencies) };
    const portal = { paint: summarize(paints), api: summarize(apiPage.latencies) };
    const result = {
      at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, load: os.loadavg().map((l) => Math.round(l * 10) / 10) },
      data: counts.rows[0],
      search: {
        ...search,
        errors: viaApi.errors,
        ratioP95: Math.round((search.api.p95 / search.sql.p95) * 100) / 100,
        targetP95Ms: 150,
      },
      portalFirstPage: { ...portal, targetPaintMs: 1000 },
    };
    await mkdir(path.join(ROOT, "bench", "results"), { recursive: true });
    await writeFile(
      path.join(ROOT, "bench", "results", "portal.json"),
      `${JSON.stringify(result, null, 2)}\n`,
    );
    console.table({
      "search p95 ms (tickets+articles+documents)": {
        api: search.api.p95,
        baseline: search.sql.p95,
        target: 150,
      },
      "portal first page p95 ms": { api: portal.api.p95, baseline: portal.api.p95, target: "-" },
      "portal first row painted p95 ms": { api: portal.paint.p95, baseline: portal.api.p95, target: 1000 },
    });
  } finally {
    await browser.close();
    await server?.stop();
    await handle.close();
    await embedded?.stop();
  }
}

await main();
