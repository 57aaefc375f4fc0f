/**
 * The ticket benchmarks' shared ground: the 1,000,000-ticket data set (built once, kept in
 * bench/data/tickets-pg-<N>/), the real server started as its own process, and API tokens.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Database } from "../../apps/server/src/db/database.ts";
import { startEmbeddedPostgres } from "../../apps/server/src/db/embedded.ts";
import { migrateToLatest } from "../../apps/server/src/db/migrate.ts";
import { newSecret, sha256 } from "../../apps/server/src/domains/auth/crypto.ts";
import { createHelpers, generate, type Scale } from "./generate.ts";

export const ROOT = path.resolve(import.meta.dirname, "../..");
export const SCALE: Scale = {
  tickets: Number(process.env.BENCH_TICKETS ?? 1_000_000),
  clients: 500,
  contacts: 20_000,
  technicians: 40,
};

export async function openBenchDatabase() {
  if (process.env.BENCH_DATABASE_URL) return { url: process.env.BENCH_DATABASE_URL, stop: async () => {} };
  const dir = path.join(ROOT, "bench", "data", `tickets-pg-${SCALE.tickets}`);
  await mkdir(path.dirname(dir), { recursive: true });
  return startEmbeddedPostgres({
    dir,
    port: Number(process.env.BENCH_PG_PORT ?? 54_390),
    settings: {
      shared_buffers: "2GB",
      maintenance_work_mem: "1GB",
      work_mem: "16MB",
      max_wal_size: "8GB",
      effective_cache_size: "12GB",
      random_page_cost: "1.1",
    },
  });
}

/** Migrates, and generates the data set unless the database already holds it. */
export async function prepareDataSet(db: Database, log: (msg: string) => void) {
  await migrateToLatest(db);
  await createHelpers(db);
  const have = await db
    .selectFrom("tickets")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .executeTakeFirstOrThrow();
  if (Number(have.n) < SCALE.tickets) {
    if (Number(have.n) > 0)
      throw new Error("the bench database holds a partial data set: delete bench/data and rerun");
    const t0 = performance.now();
    await generate(db, SCALE, log);
    log(`generated in ${Math.round((performance.now() - t0) / 1000)} s`);
  } else {
    log(`reusing ${have.n} tickets in the bench database`);
  }
}

/** A new API token for the user, as request headers. */
export async function benchToken(db: Database, userId: string) {
  const token = newSecret("sb_");
  await db
    .insertInto("api_tokens")
    .values({ user_id: userId, name: "bench", token_hash: sha256(token), prefix: token.slice(0, 10) })
    .execute();
  return { authorization: `Bearer ${token}` };
}

/** The real server (apps/server/src/main.ts) in its own process on loopback; resolves once ready. */
export async function startBenchServer(url: string, port: number): Promise<ChildProcess> {
  // BENCH_SERVER_ARGS passes flags to the server's node (for example --cpu-prof to profile it).
  const args = (process.env.BENCH_SERVER_ARGS ?? "").split(" ").filter(Boolean);
  const child = spawn(process.execPath, [...args, path.join(ROOT, "apps/server/src/main.ts")], {
    env: { ...process.env, DATABASE_URL: url, PORT: String(port), LOG_LEVEL: "warn", HOST: "127.0.0.1" },
    stdio: ["ignore", "inherit", "inherit"],
  });
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).ok) return child;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error("server did not become ready in 30 s");
}
