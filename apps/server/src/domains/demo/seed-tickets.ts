import { CreateTicketRequest } from "@switchboard/shared";
import { sql, type Transaction } from "kysely";
import type { DB, StatusCategory } from "../../db/schema.ts";
import { systemActor } from "../auth/actor.ts";
import { lockTicket } from "../tickets/queries.ts";
import { createTicketInTx } from "../tickets/service.ts";
import { addTimelineEntryInTx } from "../tickets/timeline.ts";
import { applyChanges, type TicketChanges } from "../tickets/update.ts";
import type { Directory } from "./seed-directory.ts";
import type { DemoTicket, Step } from "./stories.ts";

const MINUTE = 60_000;

/**
 * Everything below runs in one transaction, so every row written gets the same `now()`. After each
 * service call the rows it wrote still carry that timestamp, which is how they are found and moved
 * to the moment the story says it happened: timelines, audit rows and events read like a real week.
 */
async function backdate(trx: Transaction<DB>, at: Date) {
  await sql`update timeline_entries set created_at = ${at} where created_at = now()`.execute(trx);
  await sql`update audit_log set at = ${at} where at = now()`.execute(trx);
  await sql`update domain_events set created_at = ${at} where created_at = now()`.execute(trx);
}

async function statusIds(trx: Transaction<DB>) {
  const rows = await trx
    .selectFrom("ticket_statuses")
    .select(["id", "category"])
    .where("builtin", "=", true)
    .execute();
  return new Map(rows.map((r) => [r.category, r.id]));
}

interface Times {
  opened: Date;
  lastActivity: Date;
  lastChange: Date;
  statusChanged: Date;
  resolved: Date | null;
  closed: Date | null;
}

export class TicketSeeder {
  private readonly ids = new Map<string, string>();
  private readonly trx: Transaction<DB>;
  private readonly dir: Directory;
  /** When the story's "now" is: opening times and steps count back from it. */
  private readonly clock: Date;
  /** The real time: follow-ups count from it, so "due today" is about the real today. */
  private readonly now: Date;
  private statuses = new Map<string, string>();
  private readonly email = systemActor("email");

  constructor(trx: Transaction<DB>, dir: Directory, clock: Date, now: Date) {
    this.trx = trx;
    this.dir = dir;
    this.clock = clock;
    this.now = now;
  }

  ticketId(key: string) {
    return this.ids.get(key);
  }

  async seed(t: DemoTicket) {
    if (this.statuses.size === 0) this.statuses = await statusIds(this.trx);
    const client = this.dir.clients[t.client];
    const contact = t.contact ? client.contacts[t.contact] : undefined;
    if (t.contact && !contact) throw new Error(`demo ticket ${t.key}: unknown contact ${t.contact}`);
    const opened = new Date(Math.round(this.clock.getTime() - t.openedHoursAgo * 3600_000));
    const actor = t.by
      ? this.dir.techs[t.by]
      : systemActor(t.source === "monitoring" ? "monitoring" : "email");
    const row = await createTicketInTx(
      this.trx,
      actor,
      CreateTicketRequest.parse({
        subject: t.subject,
        description: t.description,
        clientId: client.id,
        siteId: t.site === undefined ? null : client.sites[t.site],
        contactId: contact?.id ?? null,
        type: t.type,
        source: t.source,
        priority: t.priority,
        teamId: t.team ? this.dir.teams[t.team] : null,
        assigneeId: t.assignee ? this.dir.techs[t.assignee].userId : null,
        tags: t.tags ?? [],
        parentId: t.parent ? this.ids.get(t.parent) : null,
        call: t.intake
          ? {
              direction: "inbound",
              number: contact?.phone ?? null,
              durationSeconds: t.intake.seconds,
              notes: t.intake.notes,
            }
          : undefined,
      }),
    );
    this.ids.set(t.key, row.id);
    await backdate(this.trx, opened);
    const times: Times = {
      opened,
      lastActivity: opened,
      lastChange: opened,
      statusChanged: opened,
      resolved: null,
      closed: null,
    };
    let at = opened;
    for (const step of t.steps) {
      // Never in the future, never before the previous step.
      const wanted = Math.min(opened.getTime() + step.at * MINUTE, this.clock.getTime() - MINUTE);
      at = new Date(Math.max(at.getTime(), wanted));
      await this.step(row.id, t, step, at, times);
      await backdate(this.trx, at);
    }
    await this.trx
      .updateTable("tickets")
      .set({
        updated_at: times.lastChange,
        last_activity_at: times.lastActivity,
        status_changed_at: times.statusChanged,
        resolved_at: times.resolved,
        closed_at: times.closed,
      })
      .where("id", "=", row.id)
      .execute();
    await sql`update tickets set created_at = ${opened} where id = ${row.id}`.execute(this.trx);
  }

  private async step(ticketId: string, t: DemoTicket, step: Step, at: Date, times: Times) {
    times.lastChange = at;
    const phone = t.contact ? (this.dir.clients[t.client].contacts[t.contact]?.phone ?? null) : null;
    if ("from" in step) {
      const contact = this.dir.clients[t.client].contacts[step.from];
      if (!contact) throw new Error(`demo ticket ${t.key}: unknown contact ${step.from}`);
      await addTimelineEntryInTx(this.trx, this.email, ticketId, {
        kind: "email",
        body: step.email,
        contactId: contact.id,
      });
      times.lastActivity = at;
      return;
    }
    const actor = this.dir.techs[step.by];
    if ("reply" in step || "note" in step) {
      const kind = "reply" in step ? "reply" : "note";
      await addTimelineEntryInTx(this.trx, actor, ticketId, {
        kind,
        body: "reply" in step ? step.reply : step.note,
      });
      times.lastActivity = at;
      return;
    }
    if ("call" in step) {
      await addTimelineEntryInTx(this.trx, actor, ticketId, {
        kind: "call",
        body: step.text,
        call: { direction: step.call, number: phone, durationSeconds: step.seconds },
      });
      times.lastActivity = at;
      return;
    }
    const changes: TicketChanges = {};
    if ("status" in step) {
      changes.statusId = this.statusId(step.status);
      times.statusChanged = at;
      if (step.status === "resolved") times.resolved = at;
      if (step.status === "closed") times.closed = at;
      if (step.status !== "resolved" && step.status !== "closed") times.resolved = null;
    }
    if ("assign" in step) {
      changes.assigneeId = this.dir.techs[step.assign].userId;
      if (step.team) changes.teamId = this.dir.teams[step.team];
    }
    if ("priority" in step) changes.priority = step.priority;
    if ("followUpInHours" in step) {
      changes.followUpAt = new Date(this.now.getTime() + step.followUpInHours * 3600_000).toISOString();
    }
    const row = await lockTicket(this.trx, ticketId);
    if (!row) throw new Error(`demo ticket ${t.key} vanished`);
    await applyChanges(this.trx, actor, row, changes);
  }

  private statusId(category: StatusCategory) {
    const id = this.statuses.get(category);
    if (!id) throw new Error(`no built-in status in category ${category}`);
    return id;
  }
}
