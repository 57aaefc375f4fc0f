import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import { sql } from "kysely";
import { SMTPServer, type SMTPServerDataStream } from "smtp-server";
import type { EmailDeps } from "./deps.ts";
import { acceptMessage } from "./ingest.ts";

export interface SmtpListener {
  port: number;
  close(): Promise<void>;
}

class SmtpReply extends Error {
  readonly responseCode: number;
  constructor(code: number, message: string) {
    super(message);
    this.responseCode = code;
  }
}

/**
 * In-flow delay, as Postfix's `in_flow_delay` does for its queue: while more accepted messages wait for
 * processing than the configured backlog, a new mail transaction's MAIL FROM is answered only once the
 * backlog is below it again (or after 30 s, then accepted anyway). Sending servers hold their mail a
 * moment instead of our queue growing without bound, so accept -> ticket stays in seconds under a flood.
 * Nothing is refused. The backlog is read from the database (every worker process drains the same
 * queue), at most every 100 ms for all waiting sessions together, and counted up locally in between.
 */
export class InFlowDelay {
  private backlog = 0;
  private checkedAt = 0;
  private reading: Promise<void> | null = null;
  private readonly deps: EmailDeps;
  private readonly limit: number;
  private readonly maxWaitMs: number;
  constructor(deps: EmailDeps, limit: number, maxWaitMs = 30_000) {
    this.deps = deps;
    this.limit = limit;
    this.maxWaitMs = maxWaitMs;
  }

  private async read() {
    try {
      const { rows } = await sql<{ n: number }>`/*prepared*/
        select count(*)::int as n from (select 1 from email_messages where status = 'received' limit ${this.limit + 1}) b`.execute(
        this.deps.db,
      );
      this.backlog = rows[0]?.n ?? 0;
    } catch {
      // Unknown: let the mail through; storing it will answer 451 if the database is really gone.
      this.backlog = 0;
    }
    this.checkedAt = Date.now();
  }

  /** Resolves when a new message may be taken (immediately unless the backlog is full). */
  async wait(): Promise<void> {
    if (this.limit <= 0) return;
    const until = Date.now() + this.maxWaitMs;
    for (let i = 0; ; i++) {
      if (Date.now() - this.checkedAt >= 100) {
        this.reading ??= this.read().finally(() => {
          this.reading = null;
        });
        await this.reading;
      }
      if (this.backlog < this.limit || Date.now() >= until) return;
      // Sessions woken together are let in a few at a time, not all at once.
      await new Promise((r) => setTimeout(r, 50 + (i % 4) * 25 + Math.floor(Math.random() * 25)));
    }
  }

  accepted() {
    this.backlog++;
  }
}

function collect(stream: SMTPServerDataStream): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    // Past the limit we keep draining (the client must finish DATA to read our 552) but stop buffering.
    stream.on("data", (c: Buffer) => {
      if (!stream.sizeExceeded) chunks.push(c);
    });
    stream.on("end", () => resolve(stream.sizeExceeded ? null : Buffer.concat(chunks)));
    stream.on("error", reject);
  });
}

/**
 * The built-in MX: accepts mail for the configured domains (or any, when none is set), stores it raw and
 * answers 250 only after the message and its processing job are committed. A storage or database error
 * answers 451, so the sending server keeps the message and tries again: nothing accepted is lost.
 */
export async function startSmtpListener(
  deps: EmailDeps,
  opts: { port: number; host?: string } = { port: deps.config.SWITCHBOARD_SMTP_PORT ?? 2525 },
): Promise<SmtpListener> {
  const domains = new Set(deps.config.SWITCHBOARD_SMTP_DOMAINS);
  const certFile = deps.config.SWITCHBOARD_SMTP_TLS_CERT;
  const keyFile = deps.config.SWITCHBOARD_SMTP_TLS_KEY;
  const tls = certFile && keyFile ? { cert: readFileSync(certFile), key: readFileSync(keyFile) } : null;
  const flow = new InFlowDelay(deps, deps.config.SWITCHBOARD_SMTP_BACKLOG);
  const server = new SMTPServer({
    name: deps.config.SWITCHBOARD_PUBLIC_URL
      ? new URL(deps.config.SWITCHBOARD_PUBLIC_URL).hostname
      : undefined,
    banner: "Switchboard",
    // An MX takes mail from anyone for its own domains; there is nobody to authenticate.
    authOptional: true,
    // Without a configured certificate STARTTLS stays off rather than offering smtp-server's public test key.
    disabledCommands: tls ? ["AUTH"] : ["AUTH", "STARTTLS"],
    ...(tls ?? {}),
    size: deps.config.SWITCHBOARD_SMTP_MAX_BYTES,
    rejectOversized: true,
    maxClients: 200,
    socketTimeout: 60_000,
    disableReverseLookup: true,
    logger: false,
    onMailFrom(_address, _session, callback) {
      flow.wait().then(
        () => callback(),
        () => callback(),
      );
    },
    onRcptTo(address, _session, callback) {
      const domain = address.address.split("@")[1]?.toLowerCase() ?? "";
      if (domains.size > 0 && !domains.has(domain)) {
        callback(new SmtpReply(550, `5.7.1 Relaying to ${domain} is not permitted`));
        return;
      }
      callback();
    },
    onData(stream, session, callback) {
      collect(stream)
        .then(async (raw) => {
          if (!raw) return callback(new SmtpReply(552, "5.3.4 Message exceeds fixed maximum message size"));
          const id = await acceptMessage(deps, {
            raw,
            source: "smtp",
            envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
            envelopeTo: session.envelope.rcptTo.map((r) => r.address),
          });
          flow.accepted();
          callback(null, `2.0.0 Ok: queued as ${id}`);
        })
        .catch((err: Error) => {
          deps.log?.error({ err }, "smtp: could not store an incoming message");
          callback(new SmtpReply(451, "4.3.0 Temporary failure, please try again later"));
        });
    },
  });
  server.on("error", (err) => deps.log?.warn({ err }, "smtp listener error"));
  const port = await new Promise<number>((resolve, reject) => {
    server.server.once("error", reject);
    server.listen(opts.port, opts.host ?? deps.config.SWITCHBOARD_SMTP_HOST, () => {
      resolve((server.server.address() as AddressInfo).port);
    });
  });
  return {
    port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
