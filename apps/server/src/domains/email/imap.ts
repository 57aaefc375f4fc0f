import { randomUUID } from "node:crypto";
import { ImapFlow } from "imapflow";
import type { Selectable } from "kysely";
import { sql } from "kysely";
import type { EmailMailboxesTable } from "../../db/schema.ts";
import { ownerGoneSql, processTag } from "../../lib/job-recovery.ts";
import type { EmailDeps } from "./deps.ts";
import { acceptMessage } from "./ingest.ts";
import { secretBox } from "./secrets.ts";

type Mailbox = Selectable<EmailMailboxesTable>;

export interface ImapOptions {
  /** How often the supervisor looks for mailboxes to start or stop. */
  scanMs?: number;
  /** Longest wait between two syncs of one mailbox when IDLE reports nothing (a backstop for lost IDLE). */
  resyncMs?: number;
  /** How long a process's claim on a mailbox lasts without renewal. */
  leaseMs?: number;
}

/**
 * Polls every IMAP mailbox, each in its own session (connect, fetch what is new, then IDLE until the
 * server says more arrived), so a slow or broken mailbox never delays another. A lease row in the
 * database gives each mailbox to one worker process at a time. Every fetched message goes through the
 * same accept step as SMTP (raw to the blob store, row, job) before the mailbox's last UID advances.
 */
export class ImapPoller {
  private readonly deps: EmailDeps;
  // The process's job registration when it has one (lib/job-recovery.ts): a lease of a killed process is
  // then free at once, not after leaseMs.
  private readonly owner = processTag() ?? `${process.pid}:${randomUUID()}`;
  private readonly sessions = new Map<string, Session>();
  private timer: NodeJS.Timeout | null = null;
  private readonly opts: Required<ImapOptions>;
  private stopped = false;

  constructor(deps: EmailDeps, opts: ImapOptions = {}) {
    this.deps = deps;
    this.opts = { scanMs: 15_000, resyncMs: 60_000, leaseMs: 90_000, ...opts };
  }

  start() {
    this.timer = setInterval(() => void this.scan().catch(() => {}), this.opts.scanMs);
    this.timer.unref();
    return this.scan();
  }

  /** Starts sessions for mailboxes nobody else holds; ends those that were removed or deactivated. */
  async scan() {
    if (this.stopped) return;
    const boxes = await this.deps.db
      .selectFrom("email_mailboxes")
      .select(["id"])
      .where("active", "=", true)
      .where("imap_host", "is not", null)
      .execute();
    const wanted = new Set(boxes.map((b) => b.id));
    for (const [id, s] of this.sessions) {
      if (wanted.has(id) && !s.done) continue;
      this.sessions.delete(id);
      void s.stop();
    }
    for (const { id } of boxes) {
      if (this.sessions.has(id) || !(await this.claim(id))) continue;
      const session = new Session(this.deps, id, this.opts, () => this.claim(id));
      this.sessions.set(id, session);
      void session.run().finally(() => {
        session.done = true;
        void this.release(id);
      });
    }
  }

  /** Takes or renews the lease; false when another live process holds it. */
  async claim(id: string): Promise<boolean> {
    const r = await sql`update email_mailboxes
        set imap_lease_owner = ${this.owner}, imap_lease_until = now() + ${`${this.opts.leaseMs} milliseconds`}::interval
        where id = ${id} and (imap_lease_owner is null or imap_lease_owner = ${this.owner} or imap_lease_until < now()
          or ${sql.raw(ownerGoneSql("imap_lease_owner"))})`.execute(this.deps.db);
    return Number(r.numAffectedRows ?? 0) > 0;
  }

  private async release(id: string) {
    await this.deps.db
      .updateTable("email_mailboxes")
      .set({ imap_lease_owner: null, imap_lease_until: null })
      .where("id", "=", id)
      .where("imap_lease_owner", "=", this.owner)
      .execute()
      .catch(() => {});
  }

  /** Runs one sync of a mailbox now (the sessions do this themselves; tests and the API use it). */
  nudge(id: string) {
    this.sessions.get(id)?.wake();
  }

  async stop() {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    const all = [...this.sessions.values()];
    this.sessions.clear();
    await Promise.all(all.map((s) => s.stop()));
  }
}

class Session {
  done = false;
  private stopping = false;
  private client: ImapFlow | null = null;
  private wakeUp: (() => void) | null = null;
  private readonly deps: EmailDeps;
  private readonly id: string;
  private readonly opts: Required<ImapOptions>;
  private readonly renew: () => Promise<boolean>;
  private finished: Promise<void> | null = null;

  constructor(deps: EmailDeps, id: string, opts: Required<ImapOptions>, renew: () => Promise<boolean>) {
    this.deps = deps;
    this.id = id;
    this.opts = opts;
    this.renew = renew;
  }

  /** A wake while a sync is running is remembered, so mail that arrived during it is not left for resyncMs. */
  private pending = false;

  wake() {
    if (this.wakeUp) this.wakeUp();
    else this.pending = true;
  }

  run() {
    this.finished = this.loop();
    return this.finished;
  }

  private async loop() {
    let failures = 0;
    while (!this.stopping) {
      try {
        await this.session();
        failures = 0;
      } catch (err) {
        failures++;
        await this.note({ last_error: (err as Error).message.slice(0, 500) });
        this.deps.log?.warn({ mailboxId: this.id, err: (err as Error).message }, "imap session failed");
      }
      if (this.stopping || !(await this.renew().catch(() => false))) return;
      // Back off a broken mailbox (bad password, server down) up to five minutes; others carry on.
      await this.sleep(Math.min(300_000, 1000 * 2 ** Math.min(failures, 9)));
    }
  }

  private async session() {
    const mb = await this.deps.db
      .selectFrom("email_mailboxes")
      .selectAll()
      .where("id", "=", this.id)
      .executeTakeFirst();
    if (!mb?.active || !mb.imap_host || !mb.imap_port) {
      this.stopping = true;
      return;
    }
    const pass = mb.imap_secret ? (await secretBox(this.deps.config)).open(mb.imap_secret) : "";
    const client = new ImapFlow({
      host: mb.imap_host,
      port: mb.imap_port,
      secure: mb.imap_tls === "implicit",
      doSTARTTLS: mb.imap_tls === "starttls" ? true : mb.imap_tls === "none" ? false : undefined,
      auth: { user: mb.imap_user ?? mb.address, pass },
      logger: false,
      connectionTimeout: 20_000,
      socketTimeout: 5 * 60_000,
      maxIdleTime: 5 * 60_000,
    });
    this.client = client;
    client.on("error", () => {});
    client.on("exists", () => this.wake());
    await client.connect();
    try {
      const lock = await client.getMailboxLock(mb.imap_folder);
      try {
        while (!this.stopping) {
          await this.sync(client, mb);
          if (!(await this.renew())) return;
          // Explicit IDLE: imapflow does not idle on its own while we hold the mailbox lock. The next
          // command (the sync after an EXISTS wakes us) ends it.
          void client.idle().catch(() => {});
          await this.sleep(Math.min(this.opts.resyncMs, this.opts.leaseMs / 3));
        }
      } finally {
        lock.release();
      }
    } finally {
      this.client = null;
      await client.logout().catch(() => client.close());
    }
  }

  /** Fetches every message above the last UID we stored, oldest first, advancing the UID after each. */
  private async sync(client: ImapFlow, mb: Mailbox) {
    const status = client.mailbox;
    if (!status) throw new Error("no mailbox selected");
    const validity = Number(status.uidValidity);
    let last = Number(mb.imap_last_uid);
    // A new UIDVALIDITY means the server renumbered the folder: start over; dedupe drops what we had.
    if (mb.imap_uid_validity !== null && Number(mb.imap_uid_validity) !== validity) last = 0;
    mb.imap_uid_validity = validity;
    // Not uidNext: an EXISTS seen during IDLE does not update it, so ask the server for UIDs past ours.
    if (status.exists > 0) {
      const uids: number[] = [];
      for await (const m of client.fetch(`${last + 1}:*`, { uid: true }, { uid: true }))
        if (m.uid > last) uids.push(m.uid);
      uids.sort((a, b) => a - b);
      for (const uid of uids) {
        if (this.stopping) break;
        const msg = await client.fetchOne(String(uid), { source: true }, { uid: true });
        if (msg !== false && msg.source) {
          await acceptMessage(this.deps, {
            raw: msg.source,
            source: "imap",
            mailboxId: mb.id,
            envelopeTo: [mb.address],
          });
        }
        last = uid;
        mb.imap_last_uid = uid;
        await this.note({ imap_last_uid: uid, imap_uid_validity: validity });
      }
    }
    await this.note({ imap_uid_validity: validity, last_polled_at: new Date(), last_error: null });
  }

  private async note(set: {
    imap_last_uid?: number;
    imap_uid_validity?: number;
    last_polled_at?: Date;
    last_error?: string | null;
  }) {
    await this.deps.db.updateTable("email_mailboxes").set(set).where("id", "=", this.id).execute();
  }

  private sleep(ms: number) {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise<void>((resolve) => {
      const t = setTimeout(done, ms);
      function done() {
        clearTimeout(t);
        resolve();
      }
      this.wakeUp = () => {
        this.wakeUp = null;
        done();
      };
    });
  }

  async stop() {
    this.stopping = true;
    this.wake();
    this.client?.close();
    await this.finished?.catch(() => {});
  }
}
