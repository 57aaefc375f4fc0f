import type { LiveEvent } from "@switchboard/shared";
import type { EmailDeps } from "./deps.ts";
import { queueTemplated } from "./outbound.ts";

/**
 * Mail that follows from what happened on a ticket: the technician it was assigned to, the assignee when
 * the customer writes again, the contact when it is resolved, with the rating links (only on tickets that came by email or the portal: a
 * phone ticket's caller did not ask for mail). Driven by domain events, so it is mailed once per event.
 * The assignee's own choices (user_notification_preferences, see domains/users/notification-preferences.ts)
 * are read in the same queries: a missing row, or a null from the left join, means "send".
 */
export async function notifyOnEvent(deps: EmailDeps, event: LiveEvent) {
  if (!event.ticketId) return;
  const ticketId = event.ticketId;
  const p = event.payload as { changed?: string[]; kind?: string; entryId?: string; byContact?: boolean };
  const assigned = event.type === "ticket.updated" && p.changed?.includes("assigneeId");
  const statusChanged = event.type === "ticket.updated" && p.changed?.includes("statusId");
  // The customer wrote: by mail, or in the portal.
  const customerWrote =
    event.type === "ticket.timeline_added" && (p.kind === "email" || p.byContact === true);
  if (!assigned && !statusChanged && !customerWrote) return;

  // Most events concern tickets nobody is to be told about: find out before opening a transaction.
  // The assignee's preferences come with the ticket (no row: every email on), so a technician who
  // turned these emails off costs no transaction either.
  const peek = await deps.db
    .selectFrom("tickets as t")
    .leftJoin("user_notification_preferences as np", "np.user_id", "t.assignee_id")
    .select([
      "t.assignee_id",
      "t.status_category",
      "np.assigned as wants_assigned",
      "np.new_reply as wants_new_reply",
    ])
    .where("t.id", "=", ticketId)
    .executeTakeFirst();
  if (!peek) return;
  const mayTellAssignee =
    !!peek.assignee_id &&
    peek.assignee_id !== event.actorUserId &&
    ((assigned && peek.wants_assigned !== false) || (customerWrote && peek.wants_new_reply !== false));
  const mayTellContact = statusChanged && peek.status_category === "resolved";
  if (!mayTellAssignee && !mayTellContact) return;

  await deps.db.transaction().execute(async (trx) => {
    const t = await trx
      .selectFrom("tickets as t")
      .leftJoin("users as u", (j) => j.onRef("u.id", "=", "t.assignee_id").on("u.active", "=", true))
      .leftJoin("user_notification_preferences as np", "np.user_id", "t.assignee_id")
      .leftJoin("contacts as c", "c.id", "t.contact_id")
      .select([
        "t.id",
        "t.status_category",
        "t.assignee_id",
        "u.email as assignee_email",
        "np.assigned as wants_assigned",
        "np.new_reply as wants_new_reply",
        "c.emails",
        "t.source",
      ])
      .where("t.id", "=", ticketId)
      .executeTakeFirst();
    if (!t) return;
    // Nobody is told about their own action.
    const assigneeToTell = t.assignee_email && t.assignee_id !== event.actorUserId ? t.assignee_email : null;

    if (assigned && assigneeToTell && t.wants_assigned !== false) {
      await queueTemplated(deps, trx, {
        template: "assigned",
        ticketId,
        to: [assigneeToTell],
        sourceEventId: event.id,
      });
    }
    if (customerWrote && assigneeToTell && p.entryId && t.wants_new_reply !== false) {
      const entry = await trx
        .selectFrom("timeline_entries")
        .select("body")
        .where("id", "=", p.entryId)
        .executeTakeFirst();
      await queueTemplated(deps, trx, {
        template: "new_reply",
        ticketId,
        to: [assigneeToTell],
        body: entry?.body.slice(0, 5000),
        sourceEventId: event.id,
      });
    }
    if (statusChanged && t.status_category === "resolved") {
      const lastInbound = await trx
        .selectFrom("email_messages")
        .select(["from_address", "mailbox_id"])
        .where("ticket_id", "=", ticketId)
        .where("direction", "=", "inbound")
        .where("status", "=", "processed")
        .orderBy("received_at", "desc")
        .executeTakeFirst();
      const to = t.emails?.[0]?.toLowerCase() ?? lastInbound?.from_address ?? null;
      // A ticket the contact asked for by mail or in the portal; a phone caller did not ask for mail.
      if ((lastInbound || t.source === "portal") && to) {
        await queueTemplated(deps, trx, {
          template: "resolved",
          ticketId,
          to: [to],
          mailboxId: lastInbound?.mailbox_id ?? null,
          sourceEventId: event.id,
        });
      }
    }
  });
}
