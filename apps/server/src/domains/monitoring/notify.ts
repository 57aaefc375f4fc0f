import type { LiveEvent } from "@switchboard/shared";
import { sql } from "kysely";
import type { EmailDeps } from "../email/deps.ts";
import { queueSystemMail } from "../email/system-mail.ts";
import type { EventDispatcher } from "../events/dispatcher.ts";

const TEMPLATE = "monitoring_p1";

/**
 * A P1 from monitoring (a site down, a critical check) is mailed at once to its assignee (from the
 * client's ticket rule), or else to the people who dispatch for that client: active admins and
 * dispatchers who see it; unless they turned it off
 * (user_notification_preferences.monitoring_p1). The `monitoring.ticket_opened` event is what a paging
 * integration subscribes to as well. At least once: a redelivered event mails nobody twice.
 */
export async function mailP1(deps: EmailDeps, event: LiveEvent) {
  const p = event.payload as {
    priority?: number;
    number?: number;
    subject?: string;
    assigneeId?: string | null;
  };
  if (p.priority !== 1 || !event.ticketId || !event.clientId) return;
  const ticketId = event.ticketId;
  await deps.db.transaction().execute(async (trx) => {
    const { rows } = await sql<{ email: string; client_name: string }>`
      select u.email, c.name as client_name from users u
      join clients c on c.id = ${event.clientId}
      left join user_notification_preferences np on np.user_id = u.id
      where u.active and coalesce(np.monitoring_p1, true)
        -- The ticket rule's assignee when there is one, else whoever dispatches for the client.
        and (case when ${p.assigneeId ?? null}::uuid is null then u.role in ('admin', 'dispatcher')
             else u.id = ${p.assigneeId ?? null}::uuid end)
        and (u.all_clients or exists (select 1 from user_clients uc where uc.user_id = u.id and uc.client_id = c.id))
        and not exists (select 1 from email_messages m
          where m.ticket_id = ${ticketId} and m.template = ${TEMPLATE} and u.email = any(m.to_addresses))
      order by u.email limit 50`.execute(trx);
    const base = deps.config.SWITCHBOARD_PUBLIC_URL?.replace(/\/$/, "") ?? "";
    for (const r of rows) {
      await queueSystemMail(deps, trx, {
        to: r.email,
        subject: `P1 #${p.number}: ${p.subject ?? "monitoring alert"}`,
        text:
          `Monitoring opened a P1 ticket for ${r.client_name}:\n\n#${p.number} ${p.subject ?? ""}\n\n` +
          (base ? `${base}/tickets/${p.number}\n` : "") +
          "You get this because you dispatch for this client; turn it off in Settings.",
        template: TEMPLATE,
        ticketId,
      });
    }
  });
}

export function registerMonitoringHandlers(dispatcher: EventDispatcher, deps: EmailDeps) {
  dispatcher.register({
    name: "monitoring",
    types: ["monitoring.ticket_opened"],
    wants: ({ payload }) => (payload as { priority?: number } | null)?.priority === 1,
    handle: (event) => mailP1(deps, event),
  });
}
