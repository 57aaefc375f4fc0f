import type { LiveEvent } from "@switchboard/shared";
import { sql } from "kysely";
import pg from "pg";
import type { Database } from "../../db/database.ts";
import { type Actor, canSeeClient } from "../auth/actor.ts";
import { toLiveEvent } from "./queries.ts";

export const EVENTS_CHANNEL = "switchboard_events";
export const SIGNALS_CHANNEL = "switchboard_signals";

/** Ephemeral notices that are never stored: presence and typing on a ticket. */
export interface Signal {
  type: string;
  clientId: string | null;
  ticketId: string | null;
  userId: string | null;
  payload: Record<string, unknown>;
}

type Listener = { actor: Actor; onEvent(e: LiveEvent): void; onSignal(s: Signal): void };

/**
 * One LISTEN connection per process fans domain events and signals out to subscribers in this process.
 * PostgreSQL's NOTIFY reaches every process on the database, so the console's live stream works the
 * same whether one process or ten serve it. Events are read back by id in small batches.
 */
export class LiveHub {
  private readonly listeners = new Set<Listener>();
  private client: pg.Client | null = null;
  private pending: number[] = [];
  private flushTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly internalHandlers = new Set<(id: number) => void>();
  private readonly db: Database;
  private readonly url: string;

  constructor(db: Database, url: string) {
    this.db = db;
    this.url = url;
  }

  async start() {
    const client = new pg.Client({ connectionString: this.url, application_name: "switchboard-live" });
    client.on("error", () => this.reconnect());
    client.on("notification", (msg) => this.onNotification(msg.channel, msg.payload ?? ""));
    await client.connect();
    await client.query(`listen ${EVENTS_CHANNEL}; listen ${SIGNALS_CHANNEL}`);
    this.client = client;
  }

  private reconnect() {
    if (this.closed) return;
    this.client = null;
    setTimeout(() => this.start().catch(() => this.reconnect()), 1000).unref();
  }

  /** In-process hook on every committed event id (the dispatcher uses it as a wake-up). */
  onCommitted(fn: (id: number) => void) {
    this.internalHandlers.add(fn);
    return () => this.internalHandlers.delete(fn);
  }

  subscribe(actor: Actor, onEvent: (e: LiveEvent) => void, onSignal: (s: Signal) => void) {
    const l: Listener = { actor, onEvent, onSignal };
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

  private onNotification(channel: string, payload: string) {
    let data: unknown;
    try {
      data = JSON.parse(payload);
    } catch {
      return;
    }
    if (channel === SIGNALS_CHANNEL) {
      const s = data as Signal;
      for (const l of this.listeners) {
        if (s.clientId === null || canSeeClient(l.actor, s.clientId)) l.onSignal(s);
      }
      return;
    }
    const id = (data as { id: number }).id;
    for (const fn of this.internalHandlers) fn(id);
    if (this.listeners.size === 0) return;
    this.pending.push(id);
    // A burst of commits becomes one read: 10 ms adds little latency and saves a query per event.
    this.flushTimer ??= setTimeout(() => void this.flush(), 10);
  }

  private async flush() {
    this.flushTimer = null;
    const ids = this.pending;
    this.pending = [];
    if (ids.length === 0) return;
    try {
      const rows = await this.db
        .selectFrom("domain_events")
        .selectAll()
        .where("id", "in", ids)
        .orderBy("id")
        .execute();
      for (const row of rows) {
        const e = toLiveEvent(row);
        for (const l of this.listeners) {
          if (e.clientId === null || canSeeClient(l.actor, e.clientId)) l.onEvent(e);
        }
      }
    } catch {
      // The database is away; subscribers catch up from Last-Event-ID when they reconnect.
    }
  }

  async close() {
    this.closed = true;
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.listeners.clear();
    await this.client?.end().catch(() => {});
    this.client = null;
  }
}
