import type { Transaction } from "kysely";
import type { DB } from "../../db/schema.ts";
import { systemActor } from "../auth/actor.ts";
import { queueSystemMail } from "../email/system-mail.ts";
import { pageIfOutOfHours } from "../oncall/pages.ts";
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
 * Runs the escalation of the warnings and breaches a recompute claimed, in the transaction that claimed
 * them: per notice a timeline entry (the ticket's record of it), the live event (the console's toast and
 * queue colour), a mail to the assignee (or the team when nobody is assigned), and, for a breach outside
 * business hours, a page. The entries and events of a whole batch are one statement each, the recipients
 * two: a burst of timers costs a handful of statements, not several per ticket.
 */
export async function notifySlaMany(
  deps: SlaDeps,
  trx: Transaction<DB>,
  notices: Array<{ t: TicketForSla; n: SlaNotice }>,
  now: Date,
) {
  if (!notices.length) return;
  const typeOf = (n: SlaNotice) =>
    n.kind === "warning" ? "sla_warning" : n.kind === "breach" ? "sla_breached" : "sla_missed";
  // One multi-row insert: rows take their seq in this order, so a ticket's entries keep the order of its notices.
  await trx
    .insertInto("timeline_entries")
    .values(
      notices.map(({ t, n }) => ({
        ticket_id: t.id,
        kind: "event" as const,
        visibility: "internal" as const,
        author_user_id: actor.userId,
        body: "",
        event: JSON.stringify({ type: typeOf(n), target: n.target, dueAt: n.dueAt?.toISOString() ?? null }),
      })),
    )
    .execute();
  await trx
    .insertInto("domain_events")
    .values(
      notices.map(({ t, n }) => ({
        type: n.kind === "warning" ? "sla.warning" : "sla.breached",
        client_id: t.client_id,
        ticket_id: t.id,
        actor_user_id: actor.userId,
        payload: JSON.stringify({
          number: t.number,
          subject: t.subject,
          target: n.target,
          dueAt: n.dueAt?.toISOString() ?? null,
          late: n.kind === "missed",
          quiet: n.quiet,
          assigneeId: t.assignee_id,
          teamId: t.team_id,
        }),
      })),
    )
    .execute();
  const loud = notices.filter(({ n }) => n.kind !== "missed" && !n.quiet);
  if (!loud.length) return;
  if (deps.boss) {
    const recipients = await recipientsOf(
      trx,
      loud.map(({ t }) => t),
    );
    for (const { t, n } of loud) {
      const what = TARGET_NAME[n.target];
      const dueAt = n.dueAt?.toISOString() ?? null;
      const subject =
        n.kind === "warning"
          ? `SLA warning: ${what} due soon on #${t.number}`
          : `SLA breached: ${what} on #${t.number}`;
      const text =
        n.kind === "warning"
          ? `Ticket #${t.number} "${t.subject}" is nearing its ${what} target, due ${dueAt}.`
          : `Ticket #${t.number} "${t.subject}" missed its ${what} target (due ${dueAt}).`;
      for (const to of recipients(t)) {
        await queueSystemMail(deps, trx, { to, subject, text, template: `sla_${n.kind}`, ticketId: t.id });
      }
    }
  }
  const breaches = loud.filter(({ n }) => n.kind === "breach");
  if (!breaches.length) return;
  // No rotation pages: nothing to ask per breach (pageIfOutOfHours would find the same).
  const pages = await trx
    .selectFrom("oncall_rotations")
    .select("id")
    .where("pages", "=", true)
    .executeTakeFirst();
  if (!pages) return;
  for (const { t, n } of breaches) {
    await pageIfOutOfHours(deps, trx, {
      clientId: t.client_id,
      ticketId: t.id,
      reason: `${n.target}_breach`,
      summary: `#${t.number} ${t.subject}: ${TARGET_NAME[n.target]} SLA breached`,
      now,
    });
  }
}

/**
 * Who hears of each ticket's notice: the assignee; when nobody is assigned, the team's members (the first
 * 25 by email). Active users only. Read for all the tickets at once.
 */
async function recipientsOf(trx: Transaction<DB>, tickets: TicketForSla[]) {
  const userIds = [...new Set(tickets.flatMap((t) => (t.assignee_id ? [t.assignee_id] : [])))];
  const teamIds = [...new Set(tickets.flatMap((t) => (!t.assignee_id && t.team_id ? [t.team_id] : [])))];
  const users = new Map(
    userIds.length
      ? (
          await trx
            .selectFrom("users")
            .select(["id", "email"])
            .where("id", "in", userIds)
            .where("active", "=", true)
            .execute()
        ).map((u) => [u.id, [u.email]])
      : [],
  );
  const teams = new Map<string, string[]>();
  if (teamIds.length) {
    const rows = await trx
      .selectFrom("team_members as m")
      .innerJoin("users as u", "u.id", "m.user_id")
      .select(["m.team_id", "u.email"])
      .where("m.team_id", "in", teamIds)
      .where("u.active", "=", true)
      .orderBy("m.team_id")
      .orderBy("u.email")
      .execute();
    for (const r of rows) {
      const list = teams.get(r.team_id) ?? [];
      if (list.length < 25) list.push(r.email);
      teams.set(r.team_id, list);
    }
  }
  return (t: TicketForSla): string[] =>
    t.assignee_id ? (users.get(t.assignee_id) ?? []) : t.team_id ? (teams.get(t.team_id) ?? []) : [];
}
