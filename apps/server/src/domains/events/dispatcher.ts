import type { LiveEvent } from "@switchboard/shared";
import { sql } from "kysely";
import type { Database } from "../../db/database.ts";
import { type Boss, bossDb } from "../../lib/jobs.ts";
import type { LiveHub } from "./live.ts";
import { toLiveEvent } from "./queries.ts";

export interface EventHandler {
  /** Unique; the pg-boss queue is `event.<name>`. */
  name: string;
  /** Event types this handler receives ("ticket.created"), or "*" for all. */
  types: string[] | "*";
  /**
   * Decided at dispatch from the event alone: false means the handler would do nothing with it, so no
   * job is made (most events concern nobody a handler serves). Must be cheap, pure and conservative.
   */
  wants?(event: { type: string; payload: unknown }): boolean;
  handle(event: LiveEvent): Promise<void>;
}

const BATCH = 500;
const HANDLER_POLICY = { retryLimit: 10, retryDelay: 5, retryBackoff: true };

/**
 * Moves committed outbox rows to durable pg-boss jobs, one per (event, handler), in the same
 * transaction that marks the rows dispatched: a crash either way leaves each event enqueued exactly
 * once. Handlers then run with pg-boss retries (at least once, so they must be idempotent).
 */
export class EventDispatcher {
  private readonly handlers: EventHandler[] = [];
  private running = false;
  private again = false;
  private timer: NodeJS.Timeout | null = null;
  private kickTimer: NodeJS.Timeout | null = null;
  private unhook: (() => void) | null = null;
  private readonly db: Database;
  private readonly boss: Boss;

  constructor(db: Database, boss: Boss) {
    this.db = db;
    this.boss = boss;
  }

  register(handler: EventHandler) {
    this.handlers.push(handler);
  }

  async start(hub: LiveHub | null, pollMs = 5000) {
    for (const h of this.handlers) {
      const queue = `event.${h.name}`;
      await this.boss.createQueue(queue, HANDLER_POLICY);
      // Batches of 10 with burst fetching: a backlog drains continuously instead of one job per poll.
      // A failure retries the batch, which at-least-once handlers tolerate.
      await this.boss.work<{ eventId: number }>(
        queue,
        { batchSize: 10, burstWhenBatchFull: true, pollingIntervalSeconds: 1 },
        async (jobs) => {
          const rows = await this.db
            .selectFrom("domain_events")
            .selectAll()
            .where(
              "id",
              "in",
              jobs.map((j) => j.data.eventId),
            )
            .orderBy("id")
            .execute();
          for (const row of rows) await h.handle(toLiveEvent(row));
        },
      );
    }
    this.unhook = hub?.onCommitted(() => this.kick()) ?? null;
    this.timer = setInterval(() => this.kick(), pollMs);
    this.timer.unref();
    this.kick();
  }

  /**
   * Schedules a dispatch pass shortly (or right after the one in progress). Commits arriving within the
   * delay share one pass: under load that is one dispatch transaction per batch, not per event.
   */
  kick(delayMs = 25) {
    if (this.kickTimer) return;
    this.kickTimer = setTimeout(() => {
      this.kickTimer = null;
      this.runNow();
    }, delayMs);
  }

  private runNow() {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = true;
    void this.drain()
      .catch(() => {})
      .finally(() => {
        this.running = false;
        if (this.again) {
          this.again = false;
          this.runNow();
        }
      });
  }

  /** Dispatches until nothing is pending; returns how many events it moved. */
  async drain(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.dispatchBatch();
      total += n;
      if (n < BATCH) return total;
    }
  }

  private async dispatchBatch(): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      const rows = await trx
        .selectFrom("domain_events")
        .select(["id", "type", "payload"])
        .where("dispatched_at", "is", null)
        .orderBy("id")
        .limit(BATCH)
        .forUpdate()
        .skipLocked()
        .execute();
      if (rows.length === 0) return 0;
      const adapter = bossDb(trx);
      // One multi-row insert per handler queue, not one statement per job.
      for (const h of this.handlers) {
        const jobs = rows
          .filter((row) => (h.types === "*" || h.types.includes(row.type)) && (h.wants?.(row) ?? true))
          .map((row) => ({ data: { eventId: row.id }, ...HANDLER_POLICY }));
        if (jobs.length) await this.boss.insert(`event.${h.name}`, jobs, { db: adapter });
      }
      await sql`update domain_events set dispatched_at = now() where id = any(${rows.map((r) => r.id)})`.execute(
        trx,
      );
      return rows.length;
    });
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    if (this.kickTimer) clearTimeout(this.kickTimer);
    this.unhook?.();
  }
}
