import type { LiveEvent } from "@switchboard/shared";
import { sql } from "kysely";
import pg from "pg";
import type { Database } from "../../db/database.ts";
import { runInScope, SYSTEM_SCOPE } from "../../db/scope.ts";
import { type Actor, canSeeClient } from "../auth/actor.ts";
import { actorFromCredential } from "../auth/service.ts";
import { AUTH_CHANGED } from "./internal.ts";
import { latestEventId, toLiveEvent } from "./queries.ts";

const POLL_BATCH = 1000;
const GAP_TTL_MS = 60_000;
const MAX_GAPS = 10_000;
export const SIGNALS_CHANNEL = "switchboard_signals";

/** Ephemeral notices that are never stored: presence and typing on a ticket. */
export interface Signal {
  type: string;
  clientId: string | null;
  ticketId: string | null;
  userId: string | null;
  payload: Record<string, unknown>;
}

type Listener = {
  actor: Actor;
  onEvent(e: LiveEvent): void;
  onSignal(s: Signal): void;
  /** The credential behind the stream ended (signed out, revoked, expired, deactivated). */
  onRevoked(): void;
  /** The user's access changed (role, client limits): what the client shows may be stale. */
  onRescoped(): void;
};

/** Every open stream's credential is checked again this often, for what no event announces (expiry). */
const RECHECK_MS = 15_000;

/**
 * Fans committed domain events and signals out to this process's subscribers (SSE streams, the
 * dispatcher). Events are read from the outbox table by polling every `pollMs`: a NOTIFY in each
 * writing transaction would serialise their commits on PostgreSQL's global notify lock (measured here:
 * ticket creates capped near one per WAL flush). Polling reaches every process on the database alike.
 *
 * Ids are allocated at insert but become visible at commit, so a lower id can appear after a higher
 * one: ids skipped over are remembered as gaps and looked for again until GAP_TTL_MS, then forgotten
 * (a rolled-back insert leaves a gap forever).
 *
 * Signals (presence, typing) are never stored: they travel by NOTIFY outside any write transaction.
 */
export class LiveHub {
  private readonly listeners = new Set<Listener>();
  private client: pg.Client | null = null;
  private closed = false;
  private readonly internalHandlers = new Set<(id: number) => void>();
  private readonly db: Database;
  private readonly url: string;
  private readonly pollMs: number;
  private watermark = 0;
  private readonly gaps = new Map<number, number>();
  private pollTimer: NodeJS.Timeout | null = null;
  private lastRecheck = Date.now();
  private polling: Promise<void> | null = null;

  constructor(db: Database, url: string, opts: { pollMs?: number } = {}) {
    this.db = db;
    this.url = url;
    this.pollMs = opts.pollMs ?? 100;
  }

  async start() {
    this.watermark = await latestEventId(this.db);
    await this.listen();
    const tick = () => {
      if (this.closed) return;
      this.polling = this.poll()
        .catch(() => {})
        .finally(() => {
          this.polling = null;
          if (!this.closed) this.pollTimer = setTimeout(tick, this.pollMs);
        });
    };
    this.pollTimer = setTimeout(tick, this.pollMs);
  }

  private async listen() {
    const client = new pg.Client({ connectionString: this.url, application_name: "switchboard-live" });
    client.on("error", () => this.reconnect());
    client.on("notification", (msg) => this.onSignal(msg.payload ?? ""));
    await client.connect();
    await client.query(`listen ${SIGNALS_CHANNEL}`);
    this.client = client;
  }

  private reconnect() {
    if (this.closed) return;
    this.client = null;
    setTimeout(() => this.listen().catch(() => this.reconnect()), 1000).unref();
  }

  /** Reads what committed since the last poll (and any gap that has since committed) and delivers it. */
  private async poll() {
    for (let round = 0; round < 20; round++) {
      const now = Date.now();
      for (const [id, since] of this.gaps) if (now - since > GAP_TTL_MS) this.gaps.delete(id);
      const gapIds = [...this.gaps.keys()];
      const rows = await this.db
        .selectFrom("domain_events")
        .selectAll()
        .where((eb) =>
          eb.or([eb("id", ">", this.watermark), ...(gapIds.length ? [eb("id", "in", gapIds)] : [])]),
        )
        .orderBy("id")
        .limit(POLL_BATCH)
        .execute();
      for (const row of rows) {
        if (row.id > this.watermark) {
          for (let missing = this.watermark + 1; missing < row.id && this.gaps.size < MAX_GAPS; missing++) {
            this.gaps.set(missing, now);
          }
          this.watermark = row.id;
        } else {
          this.gaps.delete(row.id);
        }
        if (row.type === AUTH_CHANGED) {
          // Before anything later in the batch: an event of a client the user just lost must not reach them.
          await this.reauthorise((l) => l.actor.userId === (row.payload as { userId?: string }).userId);
          continue;
        }
        this.deliver(toLiveEvent(row));
      }
      if (rows.length < POLL_BATCH) break;
    }
    if (Date.now() - this.lastRecheck > RECHECK_MS) {
      this.lastRecheck = Date.now();
      await this.reauthorise(() => true);
    }
  }

  /**
   * Resolves the credentials of the matching streams again: a stream whose credential ended is closed,
   * the others continue under the user's access as it is now (role, client limits). Runs in the system
   * scope: sessions and tokens are looked up for the stream, not as it.
   */
  private async reauthorise(match: (l: Listener) => boolean) {
    const affected = [...this.listeners].filter((l) => l.actor.credential && match(l));
    for (const l of affected) {
      const now = await runInScope(SYSTEM_SCOPE, () => actorFromCredential(this.db, l.actor.credential!));
      if (!now) {
        this.listeners.delete(l);
        l.onRevoked();
      } else {
        const before = l.actor;
        l.actor = { ...now, ip: before.ip, requestId: before.requestId };
        if (before.role !== now.role || JSON.stringify(before.clientIds) !== JSON.stringify(now.clientIds)) {
          l.onRescoped();
        }
      }
    }
  }

  private deliver(e: LiveEvent) {
    for (const fn of this.internalHandlers) fn(e.id);
    for (const l of this.listeners) {
      if (e.clientId === null || canSeeClient(l.actor, e.clientId)) l.onEvent(e);
    }
  }

  /** In-process hook on every committed event id (the dispatcher uses it as a wake-up). */
  onCommitted(fn: (id: number) => void) {
    this.internalHandlers.add(fn);
    return () => this.internalHandlers.delete(fn);
  }

  subscribe(
    actor: Actor,
    onEvent: (e: LiveEvent) => void,
    onSignal: (s: Signal) => void,
    onRevoked: () => void = () => {},
    onRescoped: () => void = () => {},
  ) {
    const l: Listener = { actor, onEvent, onSignal, onRevoked, onRescoped };
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  }

  get subscriberCount() {
    return this.listeners.size;
  }

  /** Sends an ephemeral signal to every process's subscribers (via NOTIFY; nothing is stored). */
  async signal(s: Signal) {
    await sql`select pg_notify(${SIGNALS_CHANNEL}, ${JSON.stringify(s)})`.execute(this.db);
  }

  private onSignal(payload: string) {
    let s: Signal;
    try {
      s = JSON.parse(payload) as Signal;
    } catch {
      return;
    }
    for (const l of this.listeners) {
      if (s.clientId === null || canSeeClient(l.actor, s.clientId)) l.onSignal(s);
    }
  }

  async close() {
    this.closed = true;
    if (this.pollTimer) clearTimeout(this.pollTimer);
    await this.polling;
    this.listeners.clear();
    await this.client?.end().catch(() => {});
    this.client = null;
  }
}
