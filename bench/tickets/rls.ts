/**
 * What row-level security costs: the ticket benchmark's reads and creates through the real server, with
 * RLS on and off in the same run, alternating in rounds so that drift in the machine's load falls on
 * both alike. "Off" disables RLS on every table (as the owner) while the same server keeps running; the
 * server still switches its connections' roles (that part is cached per connection: one statement on a
 * change of caller). Measured for a technician who sees every client (policy `true`) and for one limited
 * to 25 of the 500 clients (policy `client_id = any(...)`, where PostgreSQL filters rows itself).
 * See bench/README.md.
 */
import type { ChildProcess } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { sql } from "kysely";
import { connectDatabase } from "../../apps/server/src/db/database.ts";
import { load, summarize } from "../lib/stats.ts";
import { VOCAB } from "./generate.ts";
import { benchToken, openBenchDatabase, prepareDataSet, ROOT, startBenchServer } from "./setup.ts";

const PORT = 18_182;
const ROUNDS = Number(process.env.BENCH_RLS_ROUNDS ?? 4);
const READS = Number(process.env.BENCH_READS ?? 300);
const CREATE_SECONDS = Number(process.env.BENCH_CREATE_SECONDS ?? 5);
const log = (msg: string) => console.log(`[bench:rls ${new Date().toISOString().slice(11, 19)}] ${msg}`);

type Mode = "on" | "off";
type Op = "queue" | "open" | "search" | "create";

async function main() {
  const server = await openBenchDatabase();
  const handle = connectDatabase(server.url, { max: 4 });
  const db = handle.db;
  let child: ChildProcess | null = null;
  try {
    await prepareDataSet(db, log);
    // The tables our migrations put under RLS: the ones with our policies (an interrupted run may have
    // left RLS switched off on them).
    const tables = (
      await sql<{ name: string }>`
        select distinct tablename as name from pg_policies
        where schemaname = 'public' and policyname = 'sb_scoped' order by 1`.execute(db)
    ).rows.map((r) => r.name);
    if (tables.length === 0) throw new Error("no table has row-level security: is the migration applied?");
    for (const t of tables) await sql.raw(`alter table ${t} enable row level security`).execute(db);
    const toggle = async (mode: Mode) => {
      for (const t of tables) {
        await sql
          .raw(`alter table ${t} ${mode === "on" ? "enable" : "disable"} row level security`)
          .execute(db);
      }
    };

    const clients = (await sql<{ id: string }>`select id from clients order by name`.execute(db)).rows.map(
      (r) => r.id,
    );
    const limitedClients = clients.filter((_, i) => i % 20 === 0).slice(0, 25);
    const everyone = await db
      .selectFrom("users")
      .select("id")
      .where("email", "=", "tech0@msp.example")
      .executeTakeFirstOrThrow();
    const limited = await db
      .insertInto("users")
      .values({
        email: "bench-limited@msp.example",
        name: "Bench Limited",
        role: "technician",
        all_clients: false,
      })
      .onConflict((oc) => oc.expression(sql`lower(email)`).doUpdateSet({ all_clients: false }))
      .returning("id")
      .executeTakeFirstOrThrow();
    await db.deleteFrom("user_clients").where("user_id", "=", limited.id).execute();
    await db
      .insertInto("user_clients")
      .values(limitedClients.map((client_id) => ({ user_id: limited.id, client_id })))
      .execute();
    const users = {
      allClients: { headers: await benchToken(db, everyone.id), clients },
      limited: { headers: await benchToken(db, limited.id), clients: limitedClients },
    };
    const ticketsOf = async (ids: string[]) =>
      (
        await sql<{ id: string }>`
          select id from tickets where client_id = any(${ids}::uuid[]) order by random() limit 300`.execute(
          db,
        )
      ).rows.map((r) => r.id);
    const openIds = { allClients: await ticketsOf(clients), limited: await ticketsOf(limitedClients) };
    const pairs: string[] = [];
    for (let i = 0; i < 200; i++) pairs.push(`${VOCAB[(i * 7) % 60]} ${VOCAB[(i * 13 + 5) % 120]}`);

    child = await startBenchServer(server.url, PORT);
    log(`server ready; ${tables.length} tables under RLS; ${ROUNDS} rounds of ${READS} reads per operation`);
    const api = async (headers: Record<string, string>, p: string, init?: RequestInit) => {
      const r = await fetch(`http://127.0.0.1:${PORT}${p}`, {
        ...init,
        headers: { ...headers, ...init?.headers },
      });
      if (!r.ok) throw new Error(`${r.status} ${p}: ${await r.text()}`);
      return r.json() as Promise<{ nextCursor?: string | null }>;
    };

    const samples = new Map<string, number[]>();
    const rates = new Map<string, number[]>();
    const add = (key: string, xs: number[]) => samples.set(key, [...(samples.get(key) ?? []), ...xs]);
    const reads = { concurrency: 1, count: READS, maxMs: 60_000 };

    for (let round = 0; round < ROUNDS; round++) {
      const order: Mode[] = round % 2 === 0 ? ["on", "off"] : ["off", "on"];
      for (const mode of order) {
        await toggle(mode);
        for (const [who, u] of Object.entries(users) as Array<
          [keyof typeof users, (typeof users)["limited"]]
        >) {
          // Warm-up after the toggle (plans are made again after ALTER TABLE).
          for (let i = 0; i < 20; i++) {
            await api(u.headers, "/api/v1/tickets?queue=all&sort=priority&limit=50");
            await api(u.headers, `/api/v1/tickets/${openIds[who][i % openIds[who].length]}`);
            await api(u.headers, `/api/v1/search?q=${encodeURIComponent(pairs[i]!)}&types=tickets`);
          }
          let cursor: string | null | undefined = null;
          const queue = await load(reads, async (i) => {
            if (i % 5 === 0) cursor = null;
            const body = await api(
              u.headers,
              `/api/v1/tickets?queue=all&sort=priority&limit=50${cursor ? `&cursor=${cursor}` : ""}`,
            );
            cursor = body.nextCursor;
          });
          add(`${who}.queue.${mode}`, queue.latencies);
          const open = await load(reads, async (i) => {
            await api(u.headers, `/api/v1/tickets/${openIds[who][i % openIds[who].length]}`);
          });
          add(`${who}.open.${mode}`, open.latencies);
          const search = await load(reads, async (i) => {
            await api(
              u.headers,
              `/api/v1/search?q=${encodeURIComponent(pairs[(i + round * 50) % pairs.length]!)}&types=tickets`,
            );
          });
          add(`${who}.search.${mode}`, search.latencies);
        }
        const create = await load(
          { concurrency: 16, count: 1_000_000, maxMs: CREATE_SECONDS * 1000 },
          async (i) => {
            await api(users.allClients.headers, "/api/v1/tickets", {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({
                subject: `RLS bench ${mode} ${i}: ${pairs[i % pairs.length]}`,
                clientId: clients[i % clients.length],
                priority: 1 + (i % 4),
                source: "api",
              }),
            });
          },
        );
        add(`allClients.create.${mode}`, create.latencies);
        rates.set(`create.${mode}`, [...(rates.get(`create.${mode}`) ?? []), create.perSecond]);
        log(`round ${round + 1}, RLS ${mode}: done (${create.perSecond} creates/s)`);
      }
    }
    await toggle("on");

    const table: Record<string, Record<string, number>> = {};
    const results: Record<string, unknown> = {};
    for (const who of ["allClients", "limited"] as const) {
      for (const op of ["queue", "open", "search", "create"] as Op[]) {
        const on = samples.get(`${who}.${op}.on`);
        const off = samples.get(`${who}.${op}.off`);
        if (!on || !off) continue;
        const s = { on: summarize(on), off: summarize(off) };
        const ratio = Math.round((s.on.p95 / Math.max(s.off.p95, 0.01)) * 100) / 100;
        results[`${who}.${op}`] = { ...s, ratioP95: ratio };
        table[`${who} ${op} p95 ms`] = { "RLS on": s.on.p95, "RLS off": s.off.p95, "on/off": ratio };
      }
    }
    const mean = (xs: number[]) => Math.round(xs.reduce((a, b) => a + b, 0) / xs.length);
    const createRate = { on: mean(rates.get("create.on")!), off: mean(rates.get("create.off")!) };
    table["creates per s (16 concurrent)"] = {
      "RLS on": createRate.on,
      "RLS off": createRate.off,
      "on/off": Math.round((createRate.on / createRate.off) * 100) / 100,
    };
    const out = {
      benchmark: "rls",
      at: new Date().toISOString(),
      machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, loadavg: os.loadavg() },
      method: `${ROUNDS} rounds alternating RLS on/off (order flipped each round) on one running server; ${READS} reads per operation per user per round, concurrency 1; creates for ${CREATE_SECONDS} s at concurrency 16 per round`,
      tables,
      limitedUserClients: limitedClients.length,
      results,
      createsPerSecond: createRate,
      targetRatio: 1.1,
    };
    await mkdir(path.join(ROOT, "bench/results"), { recursive: true });
    await writeFile(path.join(ROOT, "bench/results/rls.json"), `${JSON.stringify(out, null, 2)}\n`);
    console.table(table);
    log("results in bench/results/rls.json");
  } finally {
    child?.kill("SIGTERM");
    await handle.close();
    await server.stop();
  }
}

await main();
