import { randomBytes } from "node:crypto";
import type { AddressInfo } from "node:net";
import type { LiveEvent } from "@switchboard/shared";
import { createTransport } from "nodemailer";
import { SMTPServer } from "smtp-server";
import type { Database } from "../../db/database.ts";
import { startBoss } from "../../lib/jobs.ts";
import { toLiveEvent } from "../events/queries.ts";
import type { EmailDeps } from "./deps.ts";
import { createEmailQueues, startEmailWorkers } from "./jobs.ts";
import { startSmtpListener } from "./smtp-listener.ts";

/** Polls until `check` returns a value (not null/undefined/false), at most `ms`; tests never wait unbounded. */
export async function waitFor<T>(
  check: () => Promise<T | null | undefined | false>,
  ms = 15_000,
): Promise<T> {
  const until = Date.now() + ms;
  for (let i = 0; ; i++) {
    const v = await check();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`waitFor: nothing after ${ms} ms (${i + 1} checks)`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Sends a raw message to our listener over real SMTP on loopback. */
export async function smtpSend(port: number, raw: string | Buffer, envelope: { from: string; to: string[] }) {
  const t = createTransport({
    host: "127.0.0.1",
    port,
    secure: false,
    ignoreTLS: true,
    connectionTimeout: 5000,
  });
  try {
    return await t.sendMail({ envelope, raw });
  } finally {
    t.close();
  }
}

export interface CapturedMail {
  from: string;
  to: string[];
  raw: Buffer;
}

/** A small SMTP receiver standing in for the outside world's mail server (outbound tests). */
export async function startReceiver(opts: { reject?: (rcpt: string) => string | null } = {}) {
  const mails: CapturedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["AUTH", "STARTTLS"],
    logger: false,
    onRcptTo(address, _s, cb) {
      const why = opts.reject?.(address.address);
      if (why) return cb(Object.assign(new Error(why), { responseCode: 550 }));
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on("data", (c: Buffer) => chunks.push(c));
      stream.on("end", () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks),
        });
        cb(null, "2.0.0 Ok: captured");
      });
    },
  });
  // A sender that drops its connection (a server stopped mid-delivery) is not a failure of the sink.
  server.on("error", () => {});
  const port = await new Promise<number>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve((server.server.address() as AddressInfo).port)),
  );
  return { port, mails, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** The email channel on a test database: a real pg-boss, the SMTP listener on a free port, and workers. */
export async function startEmailStack(
  base: Omit<EmailDeps, "boss">,
  databaseUrl: string,
  opts: { workers?: boolean; listener?: boolean } = {},
) {
  // Like the server, no LISTEN/NOTIFY (the email queues do not notify, see jobs.ts): workers poll.
  // Test files share one database: a pg-boss schema of their own keeps each file's jobs with its own
  // workers (and their blob store and config).
  const schema = `pgboss_email_${randomBytes(4).toString("hex")}`;
  const boss = await startBoss(databaseUrl, { schema, max: 4, supervise: false, schedule: false });
  const deps: EmailDeps = { ...base, boss };
  await createEmailQueues(deps);
  const workers = opts.workers === false ? null : await startEmailWorkers(deps, { concurrency: 2 });
  const listener =
    opts.listener === false ? null : await startSmtpListener(deps, { port: 0, host: "127.0.0.1" });
  return {
    deps,
    schema,
    port: listener?.port ?? 0,
    async stop(graceful = true) {
      await listener?.close();
      await workers?.stop();
      await boss.stop({ graceful, timeout: 5000 });
    },
  };
}

/**
 * Hands a ticket's events that are new since the last call to `handle`, oldest first, each `times` times
 * (as a redelivery would): a test's stand-in for the dispatcher.
 */
export function ticketEventFeed(
  db: Database,
  ticketId: string,
  handle: (event: LiveEvent) => Promise<unknown>,
  times = 1,
) {
  let seen = 0;
  return async () => {
    const events = await db
      .selectFrom("domain_events")
      .selectAll()
      .where("ticket_id", "=", ticketId)
      .where("id", ">", seen)
      .orderBy("id")
      .execute();
    for (const e of events) {
      for (let i = 0; i < times; i++) await handle(toLiveEvent(e));
      seen = e.id;
    }
  };
}
