/**
 * Email benchmark: pushes a realistic mix of messages (new requests, replies, 1 MB attachments,
 * auto-replies) through the real server's SMTP listener from 8 concurrent senders and measures accept ->
 * ticket committed. In the same run it parses the same corpus with mailparser alone as the baseline.
 * See bench/README.md (email section).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { sql } from "kysely";
import { simpleParser } from "mailparser";
import { createTransport } from "nodemailer";
import { SMTPServer } from "smtp-server";
import { connectDatabase } from "../../apps/server/src/db/database.ts";
import { startEmbeddedPostgres } from "../../apps/server/src/db/embedded.ts";
import { migrateToLatest } from "../../apps/server/src/db/migrate.ts";
import { treeCpuSeconds } from "../lib/proc.ts";
import { load, rng, summarize } from "../lib/stats.ts";

const ROOT = path.resolve(import.meta.dirname, "../..");
const COUNT = Number(process.env.BENCH_EMAIL_COUNT ?? 20_000);
const SENDERS = 8;
const HTTP_PORT = 18_182;
const SMTP_PORT = 18_125;
const MAILBOX = "help@desk.bench";
/** `BENCH_PG_STATS=1`: print the statements PostgreSQL spent its time on (embedded only). */
const PG_STATS = process.env.BENCH_PG_STATS === "1" && !process.env.BENCH_DATABASE_URL;
const log = (msg: string) => console.log(`[bench:email ${new Date().toISOString().slice(11, 19)}] ${msg}`);

type Kind = "new" | "reply" | "attachment" | "auto";

/** The mix: mostly new requests and replies, one in ten with a 1 MB attachment, some auto-replies. */
function buildCorpus(count: number, contacts: string[]) {
  const rand = rng(42);
  const attachment = Buffer.alloc(1024 * 1024);
  for (let i = 0; i < attachment.length; i++) attachment[i] = Math.floor(rand() * 256);
  const attachmentB64 = attachment.toString("base64").replace(/.{76}/g, "$&\r\n");
  const words =
    "printer outlook vpn password laptop backup server scanner wifi monitor invoice license".split(" ");
  // An attachment message keeps its parts (the 1 MB body is one shared string) and is joined when sent:
  // 20,000 messages would otherwise hold gigabytes in this process.
  const messages: Array<{ kind: Kind; from: string; raw: string | string[] }> = [];
  const newIds: string[] = [];
  const senders = new Map<string, string>();
  for (let i = 0; i < count; i++) {
    const r = rand();
    const kind: Kind =
      r < 0.45
        ? "new"
        : r < 0.75
          ? newIds.length > 600
            ? "reply"
            : "new"
          : r < 0.85
            ? "attachment"
            : "auto";
    let from = contacts[Math.floor(rand() * contacts.length)] as string;
    const id = `bench-${i}@sender.bench`;
    const topic = `${words[Math.floor(rand() * words.length)]} ${words[Math.floor(rand() * words.length)]}`;
    const head = [
      `From: Bench User <${from}>`,
      `To: ${MAILBOX}`,
      `Date: Sun, 22 Nov 2026 09:00:00 +0000`,
      `Message-ID: <${id}>`,
      "MIME-Version: 1.0",
    ];
    let raw: string | string[];
    if (kind === "reply") {
      // Cites a request sent well before, so it has normally been processed by then.
      const cited = newIds[Math.floor(rand() * (newIds.length - 500))] as string;
      // The person who opened the conversation answers it (a stranger's reply would open a new ticket).
      from = senders.get(cited) as string;
      head[0] = `From: Bench User <${from}>`;
      head.push(`Subject: Re: ${topic}`, `In-Reply-To: <${cited}>`, `References: <${cited}>`);
      raw = [
        ...head,
        "Content-Type: text/plain; charset=utf-8",
        "",
        `Still happening: ${topic}.\r\n\r\n> earlier text`,
      ].join("\r\n");
    } else if (kind === "auto") {
      head.push(`Subject: Automatic reply: ${topic}`, "Auto-Submitted: auto-replied");
      raw = [...head, "Content-Type: text/plain", "", "I am out of the office until Monday."].join("\r\n");
    } else if (kind === "attachment") {
      head.push(`Subject: ${topic} (screenshot attached)`, 'Content-Type: multipart/mixed; boundary="b"');
      raw = [
        ...head,
        "",
        "--b",
        "Content-Type: text/plain; charset=utf-8",
        "",
        `See the attached capture of the ${topic} error.`,
        "--b",
        'Content-Type: application/octet-stream; name="capture.bin"',
        'Content-Disposition: attachment; filename="capture.bin"',
        "Content-Transfer-Encoding: base64",
        "",
        attachmentB64,
        "--b--",
        "",
      ];
    } else {
      head.push(`Subject: ${topic} not working`, 'Content-Type: multipart/alternative; boundary="a"');
      raw = [
        ...head,
        "",
        "--a",
        "Content-Type: text/plain; charset=utf-8",
        "",
        `Hello, the ${topic} stopped working this morning. Can someone call me?`,
        "--a",
        "Content-Type: text/html; charset=utf-8",
        "",
        `<p>Hello, the <b>${topic}</b> stopped working this morning.</p><p>Can someone call me?</p>`,
        "--a--",
        "",
      ].join("\r\n");
      newIds.push(id);
      senders.set(id, from);
    }
    if (kind === "attachment") {
      newIds.push(id);
      senders.set(id, from);
    }
    messages.push({ kind, from, raw });
  }
  return messages;
}

const rawOf = (m: { raw: string | string[] }) => (Array.isArray(m.raw) ? m.raw.join("\r\n") : m.raw);

/** Where acknowledgements go: counted, then dropped. */
async function startSink() {
  let received = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    logger: false,
    onData(stream, _s, cb) {
      stream.on("data", () => {});
      stream.on("end", () => {
        received++;
        cb();
      });
    },
  });
  const port = await new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.server.address() as AddressInfo).port)),
  );
  return { port, count: () => received, close: () => new Promise<void>((r) => server.close(() => r())) };
}

async function startServer(url: string, dataDir: string, relayPort: number): Promise<ChildProcess> {
  const nodeArgs = (process.env.BENCH_SERVER_NODE_ARGS ?? "").split(" ").filter(Boolean);
  const child = spawn(process.execPath, [...nodeArgs, path.join(ROOT, "apps/server/src/main.ts")], {
    env: {
      ...process.env,
      DATABASE_URL: url,
      PORT: String(HTTP_PORT),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      SWITCHBOARD_DATA_DIR: dataDir,
      SWITCHBOARD_SMTP_PORT: String(SMTP_PORT),
      SWITCHBOARD_SMTP_HOST: "127.0.0.1",
      SWITCHBOARD_SMTP_RELAY_URL: `smtp://127.0.0.1:${relayPort}`,
      SWITCHBOARD_EMAIL_RATE_LIMIT: "1000000",
      SWITCHBOARD_IMAP_ENABLED: "false",
    },
    stdio: ["ignore", "inherit", "inherit"],
  });
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${HTTP_PORT}/readyz`)).ok) return child;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill();
  throw new Error("server did not become ready in 60 s");
}

async function main() {
  const work = await mkdtemp(path.join(os.tmpdir(), "switchboard-bench-email-"));
  // As root the embedded cluster runs as the `postgres` OS user, which must reach its directory.
  await chmod(work, 0o755);
  const pgServer = process.env.BENCH_DATABASE_URL
    ? { url: process.env.BENCH_DATABASE_URL, stop: async () => {} }
    : await startEmbeddedPostgres({
        dir: path.join(work, "pg"),
        port: 54_391,
        settings: {
          shared_buffers: "512MB",
          ...(PG_STATS ? { shared_preload_libraries: "pg_stat_statements" } : {}),
        },
      });
  const handle = connectDatabase(pgServer.url, { max: 4 });
  const db = handle.db;
  const sink = await startSink();
  let child: ChildProcess | null = null;
  try {
    await migrateToLatest(db);
    if (PG_STATS) await sql`create extension if not exists pg_stat_statements`.execute(db);
    const already = await db
      .selectFrom("email_messages")
      .select(sql<number>`count(*)::int`.as("n"))
      .executeTakeFirstOrThrow();
    if (already.n > 0) throw new Error("BENCH_DATABASE_URL must point at an empty database");
    log("creating 200 clients with 2,000 contacts");
    const contacts: string[] = [];
    for (let c = 0; c < 200; c++) {
      const domain = `client${c}.bench`;
      const client = await db
        .insertInto("clients")
        .values({ name: `Bench client ${c}`, email_domains: [domain] })
        .returning("id")
        .executeTakeFirstOrThrow();
      const emails = Array.from({ length: 10 }, (_, k) => `user${k}@${domain}`);
      await db
        .insertInto("contacts")
        .values(
          emails.map((e, k) => ({
            client_id: client.id,
            first_name: `User${k}`,
            last_name: `C${c}`,
            emails: [e],
          })),
        )
        .execute();
      contacts.push(...emails);
    }
    await db.insertInto("email_mailboxes").values({ address: MAILBOX, name: "Bench" }).execute();
    // A running installation has planner statistics; a freshly seeded database has none until autovacuum
    // gets round to it, and plans for "empty" tables would be measured instead.
    await sql`analyze`.execute(db);

    log(`building ${COUNT} messages`);
    const corpus = buildCorpus(COUNT, contacts);
    const bytes = corpus.reduce((n, m) => n + rawOf(m).length, 0);
    const mix = Object.fromEntries(
      (["new", "reply", "attachment", "auto"] as Kind[]).map((k) => [
        k,
        corpus.filter((m) => m.kind === k).length,
      ]),
    );
    log(`corpus: ${Math.round(bytes / 1024 / 1024)} MB, mix ${JSON.stringify(mix)}`);

    log("baseline: mailparser alone over the same corpus");
    const p0 = performance.now();
    for (const m of corpus) await simpleParser(rawOf(m));
    const parseMs = performance.now() - p0;
    const parsePerSecond = Math.round((corpus.length / parseMs) * 1000);
    log(`mailparser: ${parsePerSecond} messages/s`);

    child = await startServer(pgServer.url, path.join(work, "data"), sink.port);
    log(`server ready; sending through SMTP from ${SENDERS} senders`);
    const serverPid = child.pid as number;
    // CPU seconds of the server, the senders (this process) and, when embedded, PostgreSQL (the rest of
    // this process's tree): where the two cores went while the corpus was sent and processed.
    const cpuNow = () => {
      const server = treeCpuSeconds(serverPid);
      const own = process.cpuUsage();
      const senders = (own.user + own.system) / 1e6;
      const postgres = process.env.BENCH_DATABASE_URL ? 0 : treeCpuSeconds(process.pid) - server - senders;
      return { server, senders, postgres };
    };
    const cpu0 = cpuNow();
    const transports = Array.from({ length: SENDERS }, () =>
      createTransport({
        host: "127.0.0.1",
        port: SMTP_PORT,
        secure: false,
        ignoreTLS: true,
        pool: true,
        maxConnections: 1,
        maxMessages: Number.POSITIVE_INFINITY,
      }),
    );
    const sent = await load({ concurrency: SENDERS, count: corpus.length, maxMs: 30 * 60_000 }, async (i) => {
      const m = corpus[i];
      if (!m) return;
      await transports[i % SENDERS]?.sendMail({ envelope: { from: m.from, to: [MAILBOX] }, raw: rawOf(m) });
    });
    for (const t of transports) t.close();
    log(
      `accepted ${sent.latencies.length} in ${Math.round(sent.wallMs / 1000)} s (${sent.perSecond}/s), ${sent.errors} errors`,
    );

    log("waiting for processing to finish");
    const deadline = Date.now() + 30 * 60_000;
    for (;;) {
      const left = await db
        .selectFrom("email_messages")
        .select(sql<number>`count(*)::int`.as("n"))
        .where("direction", "=", "inbound")
        .where("status", "=", "received")
        .executeTakeFirstOrThrow();
      if (left.n === 0 || Date.now() > deadline) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    const cpu1 = cpuNow();
    const perMessageMs = (k: keyof typeof cpu0) =>
      Math.round(((cpu1[k] - cpu0[k]) / corpus.length) * 1e5) / 100;
    const cpuMsPerMessage = {
      server: perMessageMs("server"),
      postgres: process.env.BENCH_DATABASE_URL ? null : perMessageMs("postgres"),
      senders: perMessageMs("senders"),
    };
    log(`CPU per message (ms): ${JSON.stringify(cpuMsPerMessage)}`);
    if (PG_STATS) {
      const top = await sql<{ calls: string; ms: number; query: string }>`
        select calls, round(total_exec_time::numeric, 0)::float as ms, left(regexp_replace(query, '[[:space:]]+', ' ', 'g'), 160) as query
        from pg_stat_statements order by total_exec_time desc limit 25`.execute(db);
      for (const r of top.rows)
        log(`pg ${String(r.ms).padStart(8)} ms ${String(r.calls).padStart(7)} calls  ${r.query}`);
    }
    const rows = await sql<{ ms: number; status: string; received: Date; processed: Date }>`
      select extract(epoch from (processed_at - received_at)) * 1000 as ms, status,
        received_at as received, processed_at as processed
      from email_messages where direction = 'inbound' and processed_at is not null`.execute(db);
    const latencies = rows.rows.map((r) => Number(r.ms));
    const first = Math.min(...rows.rows.map((r) => r.received.getTime()));
    const last = Math.max(...rows.rows.map((r) => r.processed.getTime()));
    const perSecond = Math.round((rows.rows.length / (last - first)) * 1000);
    const statuses = Object.fromEntries(
      [...new Set(rows.rows.map((r) => r.status))].map((s) => [
        s,
        rows.rows.filter((r) => r.status === s).length,
      ]),
    );
    const tickets = await db
      .selectFrom("tickets")
      .select(sql<number>`count(*)::int`.as("n"))
      .executeTakeFirstOrThrow();
    const threaded = await db
      .selectFrom("email_messages as m")
      .innerJoin("email_messages as o", "o.message_id", "m.in_reply_to")
      .select(sql<number>`count(*)::int`.as("n"))
      .whereRef("m.ticket_id", "=", "o.ticket_id")
      .where("m.direction", "=", "inbound")
      .executeTakeFirstOrThrow();
    const acceptToTicket = summarize(latencies);
    const result = {
      at: new Date().toISOString(),
      machine: {
        cpus: os.cpus().length,
        model: os.cpus()[0]?.model ?? "?",
        memGb: Math.round(os.totalmem() / 2 ** 30),
      },
      messages: corpus.length,
      corpusMb: Math.round(bytes / 1024 / 1024),
      mix,
      senders: SENDERS,
      accepted: {
        count: sent.latencies.length,
        errors: sent.errors,
        perSecond: sent.perSecond,
        smtpLatencyMs: summarize(sent.latencies),
      },
      processed: { count: rows.rows.length, statuses, perSecond, acceptToTicketMs: acceptToTicket },
      tickets: tickets.n,
      repliesThreaded: threaded.n,
      acknowledgementsDelivered: sink.count(),
      cpuMsPerMessage,
      baseline: {
        mailparserPerSecond: parsePerSecond,
        mailparserCpuMsPerMessage: Math.round((parseMs / corpus.length) * 100) / 100,
      },
      ratioToMailparser: Math.round((perSecond / parsePerSecond) * 100) / 100,
      targets: { perSecond: 200, p99Ms: 2000, met: perSecond >= 200 && acceptToTicket.p99 <= 2000 },
    };
    await mkdir(path.join(ROOT, "bench", "results"), { recursive: true });
    await writeFile(
      path.join(ROOT, "bench", "results", "email.json"),
      `${JSON.stringify(result, null, 2)}\n`,
    );
    log(
      `processed ${result.processed.count} at ${perSecond}/s (target 200), accept->ticket p50 ${acceptToTicket.p50} ms, p99 ${acceptToTicket.p99} ms (target 2000); mailparser alone ${parsePerSecond}/s, ratio ${result.ratioToMailparser}`,
    );
  } finally {
    if (child && child.exitCode === null) {
      const exited = new Promise((r) => child?.once("exit", r));
      child.kill("SIGTERM");
      // A graceful stop (which also writes a --cpu-prof profile), bounded.
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
    }
    await sink.close();
    await handle.close();
    await pgServer.stop();
    await rm(work, { recursive: true, force: true });
  }
}

await main();
