/**
 * Ticket benchmark: builds 1,000,000 tickets (500 clients, 20,000 contacts, 5,000,000 timeline entries),
 * starts the real server as a separate process, and measures through the HTTP API with the bare SQL of
 * each read timed in the same run. See bench/README.md.
 */
import type { ChildProcess } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { sql } from "kysely";
import pg from "pg";
import { connectDatabase } from "../../apps/server/src/db/database.ts";
import { load, summarize } from "../lib/stats.ts";
import { VOCAB } from "./generate.ts";
import { benchToken, openBenchDatabase, prepareDataSet, ROOT, startBenchServer } from "./setup.ts";

const READS = Number(process.env.BENCH_READS ?? 2000);
const CREATE_SECONDS = Number(process.env.BENCH_CREATE_SECONDS ?? 20);
const PORT = 18_181;
const log = (msg: string) => console.log(`[bench:tickets ${new Date().toISOString().slice(11, 19)}] ${msg}`);

async function main() {
  const server = await openBenchDatabase();
  const handle = connectDatabase(server.url, { max: 4 });
  const db = handle.db;
  let child: ChildProcess | null = null;
  try {
    await prepareDataSet(db, log);
    if (process.env.BENCH_GENERATE_ONLY === "1") return;
    const counts = await sql<{ tickets: string; entries: string; clients: string; contacts: string }>`
      select (select count(*) from tickets) tickets, (select count(*) from timeline_entries) entries,
        (select count(*) from clients) clients, (select count(*) from contacts) contacts`.execute(db);

    // A technician with an API token, in the Service Desk team, who sees every client.
    const tech = await db
      .selectFrom("users")
      .select("id")
      .where("email", "=", "tech0@msp.example")
      .executeTakeFirstOrThrow();
    const headers = await benchToken(db, tech.id);

    child = await startBenchServer(server.url, PORT);
    log("server ready");
    const api = async <T = unknown>(p: string, init?: RequestInit): Promise<T> => {
      const r = await fetch(`http://127.0.0.1:${PORT}${p}`, {
        ...init,
        headers: { ...headers, ...init?.headers },
      });
      if (!r.ok) throw new Error(`${r.status} ${p}: ${await r.text()}`);
      return (await r.json()) as T;
    };

    const bare = new pg.Pool({ connectionString: server.url, max: 4 });
    const longTickets = (
      await sql<{
        id: string;
      }>`select id from tickets where (number - 1000) % 20 = 0 order by random() limit 500`.execute(db)
    ).rows.map((r) => r.id);
    const anyTickets = (
      await sql<{ id: string }>`select id from tickets order by random() limit 500`.execute(db)
    ).rows.map((r) => r.id);
    const openIds = [...longTickets.slice(0, 250), ...anyTickets.slice(0, 250)];
    const pairs: string[] = [];
    for (let i = 0; i < 200; i++) pairs.push(`${VOCAB[(i * 7) % 60]} ${VOCAB[(i * 13 + 5) % 120]}`);

    // Warm both paths equally before measuring.
    for (let i = 0; i < 50; i++) {
      await api("/api/v1/tickets?queue=all&sort=priority&limit=50");
      await api(`/api/v1/tickets/${openIds[i]}`);
      await api(`/api/v1/search?q=${encodeURIComponent(pairs[i]!)}&types=tickets`);
    }

    const reads = { concurrency: 1, count: READS, maxMs: 120_000 };
    log("queue page");
    // Pages 1..5 of the open queue, priority then age, as a technician scrolls.
    let cursor: string | null = null;
    const queueApi = await load(reads, async (i) => {
      if (i % 5 === 0) cursor = null;
      const body = await api<{ nextCursor: string | null }>(
        `/api/v1/tickets?queue=all&sort=priority&limit=50${cursor ? `&cursor=${cursor}` : ""}`,
      );
      cursor = body.nextCursor;
    });
    const queueSql = await load(reads, async () => {
      await bare.query(`select t.id, t.number, t.subject, t.type, t.source, t.priority, t.status_id, s.name, t.status_category,
          t.client_id, c.name, t.contact_id, ct.first_name, ct.last_name, ct.vip, t.team_id, tm.name, t.assignee_id, u.name,
          t.tags, t.follow_up_at, t.created_at, t.updated_at, t.last_activity_at, t.status_changed_at, t.resolved_at, t.version
        from tickets t join ticket_statuses s on s.id = t.status_id join clients c on c.id = t.client_id
        left join contacts ct on ct.id = t.contact_id left join teams tm on tm.id = t.team_id left join users u on u.id = t.assignee_id
        where t.merged_into_id is null and t.is_open order by t.priority, t.created_at, t.id limit 51`);
    });

    log("open ticket");
    const openApi = await load(
      reads,
      async (i) => void (await api(`/api/v1/tickets/${openIds[i % openIds.length]}`)),
    );
    const openSql = await load(reads, async (i) => {
      const id = openIds[i % openIds.length];
      await Promise.all([
        bare.query(
          `select t.*, s.name, c.name, ct.first_name, ct.last_name, ct.vip, ct.emails, ct.phones, ct.title, tm.name, u.name,
             si.name, p.number, p.subject, m.number
           from tickets t join ticket_statuses s on s.id = t.status_id join clients c on c.id = t.client_id
           left join contacts ct on ct.id = t.contact_id left join teams tm on tm.id = t.team_id
           left join users u on u.id = t.assignee_id left join sites si on si.id = t.site_id
           left join tickets p on p.id = t.parent_id left join tickets m on m.id = t.merged_into_id where t.id = $1`,
          [id],
        ),
        bare.query(
          `select id, number, subject, status_category from tickets where parent_id = $1 order by number limit 200`,
          [id],
        ),
        bare.query(
          `select c.id, c.first_name, c.last_name from ticket_contacts tc join contacts c on c.id = tc.contact_id where tc.ticket_id = $1`,
          [id],
        ),
        bare
          .query(
            `select e.*, u.name, c.first_name, c.last_name from timeline_entries e left join users u on u.id = e.author_user_id
             left join contacts c on c.id = e.author_contact_id where e.ticket_id = $1 order by e.seq desc limit 51`,
            [id],
          )
          .then((r) =>
            bare.query(
              `select id, timeline_entry_id, filename from attachments where timeline_entry_id = any($1::uuid[])`,
              [r.rows.map((x) => x.id)],
            ),
          ),
      ]);
    });

    log("search");
    const searchApi = await load({ ...reads, count: Math.min(READS, 1000) }, async (i) => {
      await api(`/api/v1/search?q=${encodeURIComponent(pairs[i % pairs.length]!)}&types=tickets`);
    });
    const searchSql = await load({ ...reads, count: Math.min(READS, 1000) }, async (i) => {
      await bare.query(
        `with candidates as (select t.id, t.search_vector from tickets t
           where t.search_vector @@ websearch_to_tsquery('english', $1) and t.merged_into_id is null
           order by t.last_activity_at desc limit 1000),
         ranked as (select c.id, ts_rank_cd(c.search_vector, websearch_to_tsquery('english', $1), 1) as rank
           from candidates c order by rank desc limit 20)
         select t.id, t.number, t.subject, t.client_id, cl.name, t.status_category, t.priority, t.last_activity_at, r.rank
         from ranked r join tickets t on t.id = r.id join clients cl on cl.id = t.client_id order by r.rank desc, t.last_activity_at desc`,
        [pairs[i % pairs.length]],
      );
    });

    log(`create tickets for ${CREATE_SECONDS} s, 16 concurrent clients`);
    const clients = (await sql<{ id: string }>`select id from clients limit 500`.execute(db)).rows.map(
      (r) => r.id,
    );
    const createApi = await load(
      { concurrency: 16, count: 1_000_000, maxMs: CREATE_SECONDS * 1000 },
      async (i) => {
        await api("/api/v1/tickets", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({
            subject: `Bench ${i}: ${pairs[i % pairs.length]}`,
            description: "Created by the benchmark; indexed, audited and announced like any other ticket.",
            clientId: clients[i % clients.length],
            priority: 1 + (i % 4),
            source: "api",
          }),
        });
      },
    );
    const createSql = await load({ concurrency: 16, count: 1_000_000, maxMs: 10_000 }, async (i) => {
      await bare.query(
        `insert into tickets (subject, description, client_id, type, source, priority, status_id, status_category, search_vector)
         select $1, $2, $3, 'incident', 'api', $4, id, 'new', setweight(to_tsvector('english', $1), 'A') || setweight(to_tsvector('english', $2), 'B')
         from ticket_statuses where name = 'New'`,
        [`Bare ${i}`, "Created by the bare SQL baseline.", clients[i % clients.length], 1 + (i % 4)],
      );
    });
    await bare.end();

    const ratio = (a: { p95: number }, b: { p95: number }) =>
      Math.round((a.p95 / Math.max(b.p95, 0.01)) * 100) / 100;
    const q = { api: summarize(queueApi.latencies), sql: summarize(queueSql.latencies) };
    const o = { api: summarize(openApi.latencies), sql: summarize(openSql.latencies) };
    const s = { api: summarize(searchApi.latencies), sql: summarize(searchSql.latencies) };
    const results = {
      benchmark: "tickets",
      at: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        model: os.cpus()[0]?.model,
        memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      },
      dataset: Object.fromEntries(Object.entries(counts.rows[0]!).map(([k, v]) => [k, Number(v)])),
      method:
        "server in its own process on loopback; reads one at a time (concurrency 1) after a warm-up; bare SQL runs the same statements over pg from the bench process",
      queuePage: { ...q, ratioP95: ratio(q.api, q.sql), targetP95Ms: 25 },
      openTicket: { ...o, ratioP95: ratio(o.api, o.sql), targetP95Ms: 25 },
      search: { ...s, ratioP95: ratio(s.api, s.sql), targetP95Ms: 150 },
      create: {
        api: { perSecond: createApi.perSecond, errors: createApi.errors, ...summarize(createApi.latencies) },
        sql: { perSecond: createSql.perSecond, errors: createSql.errors, ...summarize(createSql.latencies) },
        ratioThroughput: Math.round((createApi.perSecond / Math.max(createSql.perSecond, 1)) * 100) / 100,
        targetPerSecond: 500,
        concurrency: 16,
      },
    };
    await mkdir(path.join(ROOT, "bench/results"), { recursive: true });
    await writeFile(path.join(ROOT, "bench/results/tickets.json"), `${JSON.stringify(results, null, 2)}\n`);
    console.table({
      "queue page p95 ms": { api: q.api.p95, sql: q.sql.p95, "api/sql": ratio(q.api, q.sql), target: 25 },
      "open ticket p95 ms": { api: o.api.p95, sql: o.sql.p95, "api/sql": ratio(o.api, o.sql), target: 25 },
      "search p95 ms": { api: s.api.p95, sql: s.sql.p95, "api/sql": ratio(s.api, s.sql), target: 150 },
      "creates per s": {
        api: createApi.perSecond,
        sql: createSql.perSecond,
        "api/sql": results.create.ratioThroughput,
        target: 500,
      },
    });
    log("results in bench/results/tickets.json");
  } finally {
    child?.kill("SIGTERM");
    await handle.close();
    await server.stop();
  }
}

await main();
