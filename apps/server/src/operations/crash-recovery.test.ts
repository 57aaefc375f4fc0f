import { chmod, mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { createTransport } from "nodemailer";
import pg from "pg";
import { SMTPServer } from "smtp-server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../test/net.ts";
import { embeddedUrl } from "../db/embedded.ts";
import { INBOUND_QUEUE } from "../domains/email/ingest.ts";
import { OUTBOUND_QUEUE } from "../domains/email/outbound.ts";
import { alive } from "../lib/process.ts";
import { postmasterOf, type Spawned, spawnServer, stopSpawned, waitReady } from "./test-support.ts";

const COUNT = 300;
const SENDERS = 6;
const MAILBOX = "help@desk.crash.test";
const DOMAIN = "client.crash.test";
const messageId = (i: number) => `crash-${i}@sender.crash.test`;

/** Where acknowledgements go: counted per message they answer (In-Reply-To). */
async function startSink() {
  const acks = new Map<string, number>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    logger: false,
    onData(stream, _s, cb) {
      let raw = "";
      stream.on("data", (c: Buffer) => {
        raw += c.toString();
      });
      stream.on("end", () => {
        const id = /^In-Reply-To:\s*<([^>]+)>/im.exec(raw)?.[1] ?? "?";
        acks.set(id, (acks.get(id) ?? 0) + 1);
        cb();
      });
    },
  });
  // A server killed in the middle of delivering an acknowledgement resets its connection: smtp-server
  // reports that as an 'error' event, which is the point of the test, not a failure of it.
  server.on("error", () => {});
  const port = await new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.server.address() as AddressInfo).port)),
  );
  return { port, acks, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/**
 * The scenario, end to end: a real server with its embedded PostgreSQL takes an SMTP flood and is
 * killed with SIGKILL in the middle of it, while it holds inbound jobs. The senders retry what was not
 * acknowledged (as mail servers do). The restarted server must stop the orphaned PostgreSQL, pick up
 * the dead process's jobs at once, and end with every message processed exactly once.
 */
describe("kill -9 during an SMTP flood", () => {
  let work: string;
  let sink: Awaited<ReturnType<typeof startSink>>;
  const servers: Spawned[] = [];

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "switchboard-crash-"));
    await chmod(work, 0o755);
    sink = await startSink();
  });
  afterAll(async () => {
    for (const s of servers) await stopSpawned(s);
    await sink?.close();
    await rm(work, { recursive: true, force: true });
  });

  it("loses nothing, duplicates nothing, and finishes within 30 s of the restart", async () => {
    const [httpPort, smtpPort] = [await freePort(), await freePort()];
    const env = {
      SWITCHBOARD_DATA_DIR: path.join(work, "data"),
      PORT: String(httpPort),
      SWITCHBOARD_SMTP_PORT: String(smtpPort),
      SWITCHBOARD_SMTP_HOST: "127.0.0.1",
      SWITCHBOARD_SMTP_RELAY_URL: `smtp://127.0.0.1:${sink.port}`,
      SWITCHBOARD_EMAIL_RATE_LIMIT: "1000000",
      SWITCHBOARD_IMAP_ENABLED: "false",
    };
    const first = spawnServer(env);
    servers.push(first);
    await waitReady(httpPort, 90_000, first.child);
    const cluster = path.join(work, "data", "postgres");
    const orphan = postmasterOf(cluster) as { pid: number; port: number };

    const db = new pg.Client({ connectionString: embeddedUrl(orphan.port) });
    db.on("error", () => {});
    await db.connect();
    const client = await db.query(
      "insert into clients (name, email_domains) values ('Crash Co', $1) returning id",
      [[DOMAIN]],
    );
    for (let k = 0; k < 20; k++) {
      await db.query(
        "insert into contacts (client_id, first_name, last_name, emails) values ($1, $2, 'Crash', $3)",
        [client.rows[0].id, `User${k}`, [`user${k}@${DOMAIN}`]],
      );
    }
    await db.query("insert into email_mailboxes (address, name) values ($1, 'Help')", [MAILBOX]);

    const raw = (i: number) =>
      [
        `From: User ${i % 20} <user${i % 20}@${DOMAIN}>`,
        `To: ${MAILBOX}`,
        "Date: Sat, 05 Dec 2026 09:00:00 +0000",
        `Message-ID: <${messageId(i)}>`,
        `Subject: Printer ${i} is jammed again`,
        "Content-Type: text/plain; charset=utf-8",
        "",
        `Message ${i}: the printer on floor ${i % 7} shows error E${i}.`,
      ].join("\r\n");
    const acked = new Set<number>();
    let killed = false;
    const send = async (indexes: number[], stopWhenKilled: boolean) => {
      const queue = [...indexes];
      await Promise.all(
        Array.from({ length: SENDERS }, async () => {
          const transport = createTransport({
            host: "127.0.0.1",
            port: smtpPort,
            secure: false,
            ignoreTLS: true,
          });
          for (let guard = 0; guard < COUNT * 3 && queue.length; guard++) {
            if (stopWhenKilled && killed) break;
            const i = queue.shift() as number;
            try {
              await transport.sendMail({
                envelope: { from: `user${i % 20}@${DOMAIN}`, to: [MAILBOX] },
                raw: raw(i),
              });
              acked.add(i);
            } catch {
              // Not acknowledged: the sending server keeps it and tries again later.
            }
          }
          transport.close();
        }),
      );
    };

    // Flood, and kill the server the moment it holds inbound jobs, a third of the way in.
    const flood = send(
      Array.from({ length: COUNT }, (_, i) => i),
      true,
    );
    let activeAtKill = 0;
    const deadline = Date.now() + 60_000;
    while (!killed && Date.now() < deadline) {
      if (acked.size >= COUNT / 3) {
        const { rows } = await db.query(
          "select count(*)::int as n from pgboss.job where name = $1 and state = 'active'",
          [INBOUND_QUEUE],
        );
        if (rows[0].n > 0) {
          first.child.kill("SIGKILL");
          killed = true;
        }
      }
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(killed).toBe(true);
    await first.exited;
    await flood;
    const atKill = await db.query(
      `select (select count(*)::int from pgboss.job where name = $1 and state = 'active') as active,
              (select count(*)::int from email_messages where status = 'received') as received`,
      [INBOUND_QUEUE],
    );
    activeAtKill = atKill.rows[0].active;
    // The messages whose processing the dead process held.
    const held = (
      await db.query("select data->>'id' as id from pgboss.job where name = $1 and state = 'active'", [
        INBOUND_QUEUE,
      ])
    ).rows.map((r) => r.id as string);
    await db.end();
    // The dead process held work, and its PostgreSQL outlived it.
    expect(activeAtKill).toBeGreaterThan(0);
    expect(alive(orphan.pid)).toBe(true);
    const ackedBeforeKill = acked.size;

    // Restart; the senders retry everything not acknowledged.
    const second = spawnServer(env);
    servers.push(second);
    const readyMs = await waitReady(httpPort, 30_000, second.child);
    expect(alive(orphan.pid)).toBe(false);
    const now = postmasterOf(cluster) as { pid: number; port: number };
    const db2 = new pg.Client({ connectionString: embeddedUrl(now.port) });
    await db2.connect();
    try {
      const readyAt = (await db2.query("select now() as t")).rows[0].t as Date;
      await send(
        Array.from({ length: COUNT }, (_, i) => i).filter((i) => !acked.has(i)),
        false,
      );
      expect(acked.size).toBe(COUNT);

      let settled = false;
      const until = Date.now() + 40_000;
      while (Date.now() < until) {
        const { rows } = await db2.query(
          `select (select count(*)::int from email_messages where status in ('received', 'queued')) as open,
                  (select count(*)::int from pgboss.job where name = any($1) and state < 'completed') as jobs`,
          [[INBOUND_QUEUE, OUTBOUND_QUEUE]],
        );
        if (rows[0].open === 0 && rows[0].jobs === 0) {
          settled = true;
          break;
        }
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(settled).toBe(true);

      const inbound = await db2.query<{ message_id: string; status: string; n: number; last: Date }>(
        `select message_id, status, count(*)::int as n, max(processed_at) as last
         from email_messages where direction = 'inbound' group by message_id, status`,
      );
      const processed = inbound.rows.filter((r) => r.status === "processed");
      const ids = new Set(processed.map((r) => r.message_id));
      // 0 lost: every message became exactly one processed row; 0 duplicated: no message twice.
      expect(ids.size).toBe(COUNT);
      expect(processed.every((r) => r.n === 1)).toBe(true);
      expect(inbound.rows.filter((r) => !["processed", "duplicate"].includes(r.status))).toEqual([]);
      const tickets = await db2.query("select count(*)::int as n from tickets where client_id = $1", [
        client.rows[0].id,
      ]);
      expect(tickets.rows[0].n).toBe(COUNT);
      // Everything done within 30 s of the restart (the last message processed, by the database's clock).
      const last = Math.max(...processed.map((r) => new Date(r.last).getTime()));
      const afterRestartMs = last - readyAt.getTime();
      expect(afterRestartMs).toBeLessThan(30_000);
      // The dead process's own jobs were picked up at once, not after their 15-minute expiry.
      const heldDone = await db2.query(
        "select max(processed_at) as t from email_messages where id = any($1)",
        [held],
      );
      const heldAfterRestartMs = new Date(heldDone.rows[0].t).getTime() - readyAt.getTime();
      expect(heldAfterRestartMs).toBeLessThan(10_000);
      // Acknowledgements: each sent, none lost; none failed.
      const outbound = await db2.query<{ status: string; n: number }>(
        "select status, count(*)::int as n from email_messages where direction = 'outbound' group by status",
      );
      expect(outbound.rows).toEqual([{ status: "sent", n: COUNT }]);
      for (let i = 0; i < COUNT; i++) expect(sink.acks.get(messageId(i)) ?? 0).toBeGreaterThanOrEqual(1);
      const failedJobs = await db2.query(
        "select count(*)::int as n from pgboss.job where name = any($1) and state = 'failed'",
        [[INBOUND_QUEUE, OUTBOUND_QUEUE]],
      );
      expect(failedJobs.rows[0].n).toBe(0);
      const repeatedAcks = [...sink.acks.values()].filter((n) => n > 1).length;
      console.log(
        JSON.stringify({
          count: COUNT,
          ackedBeforeKill,
          inboundJobsActiveAtKill: activeAtKill,
          receivedAtKill: atKill.rows[0].received,
          restartReadyMs: readyMs,
          heldJobsDoneAfterRestartMs: heldAfterRestartMs,
          lastProcessedAfterRestartMs: afterRestartMs,
          duplicateRowsDeduped: inbound.rows
            .filter((r) => r.status === "duplicate")
            .reduce((n, r) => n + r.n, 0),
          acksSentTwice: repeatedAcks,
        }),
      );
    } finally {
      await db2.end();
    }
  }, 240_000);
});
