import { type Kysely, sql, type Transaction } from "kysely";
import type { DB } from "../../db/schema.ts";
import { asSystem } from "../../db/scope.ts";
import { bossDb } from "../../lib/jobs.ts";
import { serverKeys, signToken, verifyToken } from "../../lib/server-keys.ts";
import { SmsError } from "../../lib/sms.ts";
import { type Actor, systemActor } from "../auth/actor.ts";
import { queueSystemMail } from "../email/system-mail.ts";
import { emitEvent } from "../events/outbox.ts";
import { isOpenAt } from "../sla/calendar.ts";
import { loadCalendar } from "../sla/queries.ts";
import type { SlaDeps } from "../sla/recompute.ts";
import { insertEntry } from "../tickets/timeline.ts";
import { escalationChain, type Override, type Rota } from "./rota.ts";

/**
 * Paging: a page fixes its escalation chain when it starts (the on-call technician, then the rota's
 * next members, `max_rounds` times over), and moves through it with two durable jobs: `oncall.page`
 * delivers the current level (SMS and mail, each recorded with its outcome) and schedules
 * `oncall.escalate` N minutes later, which moves to the next level only if the page is still at that
 * level and unacknowledged (a conditional UPDATE). Acknowledging is one UPDATE of the page's status:
 * every pending job then finds nothing to do, whichever process runs it.
 */
export const PAGE_QUEUE = "oncall.page";
export const ESCALATE_QUEUE = "oncall.escalate";
export const PAGE_JOB_POLICY = { retryLimit: 3, retryDelay: 30, retryBackoff: true };
const ACK_PURPOSE = "oncall-ack";
const ACK_TTL_SECONDS = 24 * 3600;
const actor = systemActor("oncall");

type Q = Kysely<DB> | Transaction<DB>;

export async function loadRota(db: Q, rotationId: string) {
  const row = await db
    .selectFrom("oncall_rotations")
    .selectAll()
    .where("id", "=", rotationId)
    .executeTakeFirst();
  if (!row) return null;
  const members = await db
    .selectFrom("oncall_members")
    .select("user_id")
    .where("rotation_id", "=", rotationId)
    .orderBy("position")
    .execute();
  const overrides = await db
    .selectFrom("oncall_overrides")
    .selectAll()
    .where("rotation_id", "=", rotationId)
    .orderBy("starts_at")
    .execute();
  const rota: Rota = {
    timeZone: row.time_zone,
    period: row.period,
    handoverMinute: row.handover_minute,
    anchorDate: row.anchor_date,
    members: members.map((m) => m.user_id),
  };
  const ovs: Override[] = overrides.map((o) => ({
    id: o.id,
    userId: o.user_id,
    startsAt: o.starts_at,
    endsAt: o.ends_at,
    createdAt: o.created_at,
  }));
  return { row, rota, overrides: ovs };
}

export interface PageInput {
  clientId: string;
  ticketId: string;
  /** 'p1', 'first_response_breach', 'resolution_breach': once per ticket and reason. */
  reason: string;
  summary: string;
  now: Date;
}

/**
 * Pages the paging rota's on-call technician when `now` is outside the rota's calendar hours (no
 * calendar: at any hour). Returns the page id, or null when nothing was paged.
 */
export async function pageIfOutOfHours(deps: SlaDeps, trx: Transaction<DB>, input: PageInput) {
  const rot = await trx
    .selectFrom("oncall_rotations")
    .select(["id", "calendar_id"])
    .where("pages", "=", true)
    .executeTakeFirst();
  if (!rot) return null;
  if (rot.calendar_id) {
    const cal = await loadCalendar(trx, rot.calendar_id);
    if (cal && isOpenAt(cal, input.now)) return null;
  }
  return startPage(deps, trx, rot.id, input);
}

export async function startPage(deps: SlaDeps, trx: Transaction<DB>, rotationId: string, input: PageInput) {
  const loaded = await loadRota(trx, rotationId);
  if (!loaded) return null;
  const chain = escalationChain(loaded.rota, loaded.overrides, input.now);
  const page = await trx
    .insertInto("pages")
    .values({
      client_id: input.clientId,
      ticket_id: input.ticketId,
      rotation_id: rotationId,
      reason: input.reason,
      summary: input.summary.slice(0, 300),
      // Nobody on the rota: the page is visible as undeliverable at once, never silently dropped.
      status: chain.length ? "paging" : "exhausted",
      chain,
      max_levels: chain.length * loaded.row.max_rounds,
      escalate_after_minutes: loaded.row.escalate_after_minutes,
    })
    .onConflict((oc) => oc.columns(["ticket_id", "reason"]).doNothing())
    .returning(["id", "status"])
    .executeTakeFirst();
  if (!page) return null;
  const names = await userNames(trx, chain.slice(0, 1));
  await insertEntry(
    trx,
    actor,
    { id: input.ticketId },
    {
      kind: "event",
      visibility: "internal",
      event: {
        type: "page_started",
        pageId: page.id,
        reason: input.reason,
        to: chain.length ? { id: chain[0], name: names.get(chain[0]!) ?? null } : null,
      },
    },
  );
  await emitEvent(trx, actor, {
    type: chain.length ? "page.started" : "page.exhausted",
    clientId: input.clientId,
    ticketId: input.ticketId,
    payload: { pageId: page.id, reason: input.reason, summary: input.summary, userId: chain[0] ?? null },
  });
  if (chain.length && deps.boss) {
    await deps.boss.send(PAGE_QUEUE, { pageId: page.id, level: 0 }, { ...PAGE_JOB_POLICY, db: bossDb(trx) });
  }
  return page.id;
}

async function userNames(db: Q, ids: string[]) {
  if (!ids.length) return new Map<string, string>();
  const rows = await db.selectFrom("users").select(["id", "name"]).where("id", "in", ids).execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}

export async function ackToken(deps: Pick<SlaDeps, "config">, pageId: string, userId: string) {
  return signToken(await serverKeys(deps.config), ACK_PURPOSE, { p: pageId, u: userId }, ACK_TTL_SECONDS);
}

export async function verifyAckToken(deps: Pick<SlaDeps, "config">, token: string) {
  return verifyToken<{ p: string; u: string }>(await serverKeys(deps.config), ACK_PURPOSE, token);
}

const baseUrl = (deps: SlaDeps) =>
  (deps.config.SWITCHBOARD_PUBLIC_URL ?? `http://localhost:${deps.config.PORT}`).replace(/\/+$/, "");

type Delivery = {
  channel: "sms" | "email";
  status: "sent" | "failed" | "skipped";
  error: string | null;
  providerId: string | null;
};

/**
 * Delivers one level of a page: SMS (outside any transaction: the provider is a network call) and mail,
 * each recorded with its outcome; a channel already sent at this level is not sent again (a job retry or
 * a technician's "retry" re-sends only what failed). The first attempt at a level schedules its
 * escalation. Returns the retryable SMS failure, if any, for the job to be retried.
 */
export async function deliverPage(deps: SlaDeps, pageId: string, level: number) {
  return asSystem(async () => {
    const page = await deps.db.selectFrom("pages").selectAll().where("id", "=", pageId).executeTakeFirst();
    if (page?.status !== "paging" || page.level !== level || !page.chain.length) return { retry: null };
    const userId = page.chain[level % page.chain.length]!;
    const user = await deps.db
      .selectFrom("users")
      .select(["name", "email", "phone", "active"])
      .where("id", "=", userId)
      .executeTakeFirst();
    const earlier = await deps.db
      .selectFrom("page_deliveries")
      .select(["channel", "status"])
      .where("page_id", "=", pageId)
      .where("level", "=", level)
      .execute();
    const sent = new Set(earlier.filter((d) => d.status === "sent").map((d) => d.channel));
    const link = `${baseUrl(deps)}/page-ack#t=${await ackToken(deps, pageId, userId)}`;
    const text = `Switchboard page: ${page.summary}. Acknowledge: ${link}`;
    const out: Delivery[] = [];
    let retry: SmsError | null = null;
    if (!sent.has("sms")) {
      const skip = (error: string) =>
        out.push({ channel: "sms", status: "skipped", error, providerId: null });
      if (!deps.sms) skip("SMS is not set up on this server (SMS_ACCOUNT_SID, SMS_AUTH_TOKEN, SMS_FROM)");
      else if (!user?.phone) skip(`${user?.name ?? "The technician"} has no phone number`);
      else {
        try {
          const r = await deps.sms.send({ to: user.phone, body: text });
          out.push({ channel: "sms", status: "sent", error: null, providerId: r.providerId });
        } catch (err) {
          const e = err instanceof SmsError ? err : new SmsError((err as Error).message, true);
          out.push({ channel: "sms", status: "failed", error: e.message.slice(0, 500), providerId: null });
          if (e.retryable) retry = e;
        }
      }
    }
    await deps.db.transaction().execute(async (trx) => {
      if (!sent.has("email") && user?.active) {
        if (deps.boss) {
          await queueSystemMail(deps, trx, {
            to: user.email,
            subject: `PAGE: ${page.summary}`,
            text: `Switchboard page: ${page.summary}. Acknowledge from the link sent to you, or in the console.`,
            secretText: text,
            template: "oncall_page",
            ticketId: page.ticket_id ?? undefined,
          });
          out.push({ channel: "email", status: "sent", error: null, providerId: null });
        } else {
          out.push({
            channel: "email",
            status: "skipped",
            error: "the job queue is not running",
            providerId: null,
          });
        }
      }
      if (out.length) {
        await trx
          .insertInto("page_deliveries")
          .values(
            out.map((d) => ({
              page_id: pageId,
              user_id: userId,
              level,
              channel: d.channel,
              status: d.status,
              error: d.error,
              provider_id: d.providerId,
            })),
          )
          .execute();
      }
      if (earlier.length === 0 && deps.boss) {
        await deps.boss.send(
          ESCALATE_QUEUE,
          { pageId, level },
          { ...PAGE_JOB_POLICY, startAfter: page.escalate_after_minutes * 60, db: bossDb(trx) },
        );
      }
      const failed = out.filter((d) => d.status !== "sent");
      await emitEvent(trx, actor, {
        type: failed.length ? "page.failed" : "page.delivered",
        clientId: page.client_id,
        ticketId: page.ticket_id,
        payload: {
          pageId,
          level,
          userId,
          failed: failed.map((d) => ({ channel: d.channel, error: d.error })),
        },
      });
    });
    return { retry };
  });
}

/**
 * Moves an unacknowledged page from `level` to the next (or marks it exhausted after the last). A stale
 * or repeated job finds the page elsewhere and changes nothing.
 */
export async function escalatePage(deps: SlaDeps, pageId: string, level: number) {
  return asSystem(() =>
    deps.db.transaction().execute(async (trx) => {
      const next = await trx
        .updateTable("pages")
        .set({ level: level + 1, updated_at: new Date() })
        .where("id", "=", pageId)
        .where("status", "=", "paging")
        .where("level", "=", level)
        .where(sql<boolean>`level + 1 < max_levels`)
        .returningAll()
        .executeTakeFirst();
      const page =
        next ??
        (await trx
          .updateTable("pages")
          .set({ status: "exhausted", updated_at: new Date() })
          .where("id", "=", pageId)
          .where("status", "=", "paging")
          .where("level", "=", level)
          .returningAll()
          .executeTakeFirst());
      if (!page) return null;
      const to = next ? page.chain[(level + 1) % page.chain.length]! : null;
      const names = await userNames(trx, to ? [to] : []);
      if (page.ticket_id) {
        await insertEntry(
          trx,
          actor,
          { id: page.ticket_id },
          {
            kind: "event",
            visibility: "internal",
            event: next
              ? {
                  type: "page_escalated",
                  pageId,
                  level: level + 1,
                  to: { id: to, name: names.get(to!) ?? null },
                }
              : { type: "page_exhausted", pageId },
          },
        );
      }
      await emitEvent(trx, actor, {
        type: next ? "page.escalated" : "page.exhausted",
        clientId: page.client_id,
        ticketId: page.ticket_id,
        payload: { pageId, level: page.level, userId: to, summary: page.summary },
      });
      if (next && deps.boss) {
        await deps.boss.send(
          PAGE_QUEUE,
          { pageId, level: level + 1 },
          { ...PAGE_JOB_POLICY, db: bossDb(trx) },
        );
      }
      return page.status;
    }),
  );
}

/**
 * Acknowledges a page: one UPDATE that every pending delivery and escalation job checks, so nobody else
 * is paged for it from this moment. Acknowledging twice answers the first acknowledgement.
 */
export async function acknowledgePage(
  db: Kysely<DB>,
  by: Actor,
  pageId: string,
  userId: string,
  via: "link" | "console",
) {
  return db.transaction().execute(async (trx) => {
    const page = await trx
      .updateTable("pages")
      .set({
        status: "acknowledged",
        acknowledged_at: new Date(),
        acknowledged_by_user_id: userId,
        acknowledged_via: via,
        updated_at: new Date(),
      })
      .where("id", "=", pageId)
      .where("status", "in", ["paging", "exhausted"])
      .returningAll()
      .executeTakeFirst();
    if (!page) return trx.selectFrom("pages").selectAll().where("id", "=", pageId).executeTakeFirst();
    const names = await userNames(trx, [userId]);
    if (page.ticket_id) {
      await insertEntry(
        trx,
        by,
        { id: page.ticket_id },
        {
          kind: "event",
          visibility: "internal",
          event: {
            type: "page_acknowledged",
            pageId,
            by: { id: userId, name: names.get(userId) ?? null },
            via,
          },
        },
      );
    }
    await emitEvent(trx, by, {
      type: "page.acknowledged",
      clientId: page.client_id,
      ticketId: page.ticket_id,
      payload: { pageId, userId, via, summary: page.summary },
    });
    return page;
  });
}
