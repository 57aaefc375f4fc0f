import type { Transaction } from "kysely";
import type { DB } from "../../db/schema.ts";
import { systemActor } from "../auth/actor.ts";
import { queueSystemMail } from "../email/system-mail.ts";
import { emitEvent } from "../events/outbox.ts";
import { pageIfOutOfHours } from "../oncall/pages.ts";
import { insertEntry } from "../tickets/timeline.ts";
import type { BusinessCalendar } from "./calendar.ts";
import type { TicketForSla } from "./queries.ts";
import type { SlaDeps } from "./recompute.ts";

export interface SlaNotice {
  /** warning: the threshold passed; breach: due and unmet; missed: met after its due time. */
  kind: "warning" | "breach" | "missed";
  target: "first_response" | "resolution";
  dueAt: Date | null;
  /** Recorded (timeline, live event) but nobody mailed or paged: it happened long before it was found. */
  quiet: boolean;
}

const TARGET_NAME = { first_response: "first response", resolution: "resolution" } as const;
const actor = systemActor("sla");

/**
 * Runs the escalation of one warning or breach, in the transaction that claimed it: a timeline entry
 * (the ticket's record of it), the live event (the console's toast and queue colour), a mail to the
 * assignee (or the team when nobody is assigned), and, for a breach outside business hours, a page.
 */
export async function notifySla(
  deps: SlaDeps,
  trx: Transaction<DB>,
  t: TicketForSla,
  _calendar: BusinessCalendar,
  n: SlaNotice,
  now: Date,
) {
  const type = n.kind === "warning" ? "sla_warning" : n.kind === "breach" ? "sla_breached" : "sla_missed";
  const dueAt = n.dueAt?.toISOString() ?? null;
  await insertEntry(trx, actor, t, {
    kind: "event",
    visibility: "internal",
    event: { type, target: n.target, dueAt },
  });
  await emitEvent(trx, actor, {
    type: n.kind === "warning" ? "sla.warning" : "sla.breached",
    clientId: t.client_id,
    ticketId: t.id,
    payload: {
      number: t.number,
      subject: t.subject,
      target: n.target,
      dueAt,
      late: n.kind === "missed",
      quiet: n.quiet,
      assigneeId: t.assignee_id,
      teamId: t.team_id,
    },
  });
  if (n.kind === "missed" || n.quiet) return;
  if (deps.boss) {
    const recipients = await recipientsOf(trx, t);
    const what = TARGET_NAME[n.target];
    const subject =
      n.kind === "warning"
        ? `SLA warning: ${what} due soon on #${t.number}`
        : `SLA breached: ${what} on #${t.number}`;
    const text =
      n.kind === "warning"
        ? `Ticket #${t.number} "${t.subject}" is nearing its ${what} target, due ${dueAt}.`
        : `Ticket #${t.number} "${t.subject}" missed its ${what} target (due ${dueAt}).`;
    for (const to of recipients) {
      await queueSystemMail(deps, trx, { to, subject, text, template: `sla_${n.kind}`, ticketId: t.id });
    }
  }
  if (n.kind === "breach") {
    await pageIfOutOfHours(deps, trx, {
      clientId: t.client_id,
      ticketId: t.id,
      reason: `${n.target}_breach`,
      summary: `#${t.number} ${t.subject}: ${TARGET_NAME[n.target]} SLA breached`,
      now,
    });
  }
}

/** The assignee; when nobody is assigned, the team's members. Active users only. */
async function recipientsOf(trx: Transaction<DB>, t: TicketForSla): Promise<string[]> {
  if (t.assignee_id) {
    const u = await trx
      .selectFrom("users")
      .select("email")
      .where("id", "=", t.assignee_id)
      .where("active", "=", true)
      .executeTakeFirst();
    return u ? [u.email] : [];
  }
  if (!t.team_id) return [];
  const rows = await trx
    .selectFrom("team_members as m")
    .innerJoin("users as u", "u.id", "m.user_id")
    .select("u.email")
    .where("m.team_id", "=", t.team_id)
    .where("u.active", "=", true)
    .orderBy("u.email")
    .limit(25)
    .execute();
  return rows.map((r) => r.email);
}
