/**
 * The console in Chromium: My day usable (first rows painted) after navigation, opening a ticket from
 * the queue, and the initial JavaScript. Baselines from the same run: the bare API requests behind each.
 *
 *   npm run build:web && node bench/console/run.ts
 *   BENCH_DATABASE_URL=postgres://... (a migrated database, e.g. the 1,000,000-ticket one) to use it;
 *   otherwise an embedded PostgreSQL gets BENCH_CONSOLE_TICKETS (default 20,000) tickets.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { chmod, mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { gzipSync } from "node:zlib";
import { chromium } from "playwright-core";
import { loadConfig } from "../../apps/server/src/config.ts";
import { connectDatabase } from "../../apps/server/src/db/database.ts";
import { startEmbeddedPostgres } from "../../apps/server/src/db/embedded.ts";
import { migrateToLatest } from "../../apps/server/src/db/migrate.ts";
import { WEB_DIST } from "../../apps/server/src/domains/console/static.ts";
import { startServer } from "../../apps/server/src/server.ts";
import { chromiumLaunch } from "../../e2e/chromium.ts";
import { summarize } from "../lib/stats.ts";
import { benchUser, seedTickets } from "./seed.ts";

const ITERATIONS = Number(process.env.BENCH_CONSOLE_ITERATIONS ?? 15);
const TICKETS = Number(process.env.BENCH_CONSOLE_TICKETS ?? 20_000);

function initialJs() {
  const html = readFileSync(path.join(WEB_DIST, "index.html"), "utf8");
  const files = [...html.matchAll(/(?:src|href)="\/(assets\/[^"]+\.js)"/g)].map((m) => m[1]!);
  const sizes = files.map((f) => {
    const buf = readFileSync(path.join(WEB_DIST, f));
    return { file: f, bytes: buf.length, gzipBytes: gzipSync(buf, { level: 9 }).length };
  });
  return { files: sizes, gzipKB: Math.round(sizes.reduce((a, s) => a + s.gzipBytes, 0) / 102.4) / 10 };
}

async function main() {
  const tmp = await mkdtemp(path.join(os.tmpdir(), "switchboard-bench-console-"));
  let url = process.env.BENCH_DATABASE_URL;
  let embedded: Awaited<ReturnType<typeof startEmbeddedPostgres>> | null = null;
  if (!url) {
    // As root the cluster runs as the `postgres` OS user, which must be able to reach its directory.
    await chmod(tmp, 0o755);
    embedded = await startEmbeddedPostgres({
      dir: path.join(tmp, "pg"),
      port: 54000 + Math.floor(Math.random() * 900),
    });
    url = embedded.url;
  }
  const handle = connectDatabase(url, { max: 4 });
  await migrateToLatest(handle.db);
  const existing = await handle.db
    .selectFrom("tickets")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .executeTakeFirstOrThrow();
  if (Number(existing.n) === 0) {
    console.log(`seeding ${TICKETS} tickets…`);
    await seedTickets(handle.db, TICKETS);
  }
  const ticketCount = Number(
    (
      await handle.db
        .selectFrom("tickets")
        .select((eb) => eb.fn.countAll<string>().as("n"))
        .executeTakeFirstOrThrow()
    ).n,
  );
  const { sessionToken } = await benchUser(handle.db, 60);
  await handle.close();

  const config = loadConfig({
    DATABASE_URL: url,
    PORT: "0",
    HOST: "127.0.0.1",
    SWITCHBOARD_DATA_DIR: tmp,
    SWITCHBOARD_ROLES: "api",
    LOG_LEVEL: "silent",
  });
  const server = await startServer(config);
  const { port } = server.app.server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  const cookie = `sb_session=${sessionToken}`;

  const userDataDir = await mkdtemp(path.join(os.tmpdir(), "switchboard-bench-chromium-"));
  const context = await chromium.launchPersistentContext(userDataDir, chromiumLaunch);
  await context.addCookies([{ name: "sb_session", value: sessionToken, url: base }]);
  // Records when the first row of a table is in the DOM, then waits a frame for it to be painted.
  // Records when a selector first matches, then waits a frame for it to be painted. (A string: this
  // runs in the page, and the bench is type-checked without the DOM library.)
  await context.addInitScript({
    content: `window.__rowsAt = (sel) => new Promise((resolve) => {
      const done = () => requestAnimationFrame(() => resolve(performance.now()));
      if (document.querySelector(sel)) return done();
      const mo = new MutationObserver(() => {
        if (document.querySelector(sel)) { mo.disconnect(); done(); }
      });
      mo.observe(document, { childList: true, subtree: true });
    });`,
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const rowsAt = (sel: string) => page.evaluate<number>(`window.__rowsAt(${JSON.stringify(sel)})`);

  const myDay: number[] = [];
  let myDayCold = 0;
  for (let i = 0; i < ITERATIONS + 1; i++) {
    await page.goto(`${base}/`, { waitUntil: "commit" });
    const at = await rowsAt('table[aria-label="My open tickets"] [data-ticket-number]');
    if (i === 0) myDayCold = at;
    else myDay.push(at);
  }

  const openTicket: number[] = [];
  for (let i = 0; i < ITERATIONS; i++) {
    await page.goto(`${base}/queues/all`);
    await page.locator("[data-ticket-number]").first().waitFor();
    for (let j = 0; j < i % 10; j++) await page.keyboard.press("j");
    const t0 = await page.evaluate<number>("performance.now()");
    const wait = rowsAt('[data-testid="ticket-subject"]');
    await page.keyboard.press("Enter");
    openTicket.push((await wait) - t0);
  }
  await context.close();
  await rm(userDataDir, { recursive: true, force: true });

  // Baselines: the same API requests the pages make, bare from Node.
  const fetchMs = async (u: string) => {
    const t0 = performance.now();
    const res = await fetch(`${base}${u}`, { headers: { cookie } });
    await res.text();
    return performance.now() - t0;
  };
  const apiMyDay: number[] = [];
  const apiTicket: number[] = [];
  const first = (await (
    await fetch(`${base}/api/v1/tickets?queue=all&limit=20`, { headers: { cookie } })
  ).json()) as { items: Array<{ number: number }> };
  for (let i = 0; i < ITERATIONS * 2; i++) {
    apiMyDay.push(await fetchMs("/api/v1/tickets?queue=mine&sort=priority&limit=100"));
    apiTicket.push(await fetchMs(`/api/v1/tickets/by-number/${first.items[i % first.items.length]!.number}`));
  }
  await server.stop();
  await embedded?.stop();
  await rm(tmp, { recursive: true, force: true });

  const result = {
    at: new Date().toISOString(),
    machine: { cpus: os.cpus().length, node: process.version },
    tickets: ticketCount,
    database: process.env.BENCH_DATABASE_URL ? "BENCH_DATABASE_URL" : "embedded, seeded by this run",
    myDayFirstRowsMs: { coldFirstLoad: Math.round(myDayCold), warm: summarize(myDay), target: 1000 },
    openTicketFromQueueMs: { ...summarize(openTicket), target: 300 },
    baseline: {
      apiMyDayQueueMs: summarize(apiMyDay),
      apiOpenTicketMs: summarize(apiTicket),
    },
    initialJs: { ...initialJs(), targetGzipKB: 350 },
  };
  const out = path.join(import.meta.dirname, "../results/console.json");
  writeFileSync(out, `${JSON.stringify(result, null, 2)}\n`);
  console.log(JSON.stringify(result, null, 2));
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
