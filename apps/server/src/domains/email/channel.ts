import type { EventDispatcher } from "../events/dispatcher.ts";
import type { EmailDeps } from "./deps.ts";
import { ImapPoller } from "./imap.ts";
import { createEmailQueues, startEmailWorkers } from "./jobs.ts";
import { notifyOnEvent } from "./notifications.ts";
import { mailPublicReply } from "./outbound.ts";
import { type SmtpListener, startSmtpListener } from "./smtp-listener.ts";

/**
 * Replies and notifications are mailed by one durable event handler (one job per event, not two):
 * delivered at least once, each message queued once (see the unique indexes in the migration).
 */
export function registerEmailHandlers(dispatcher: EventDispatcher, deps: EmailDeps) {
  dispatcher.register({
    name: "email",
    types: ["ticket.updated", "ticket.timeline_added"],
    wants: ({ type, payload }) => {
      const p = (payload ?? {}) as {
        changed?: string[];
        kind?: string;
        visibility?: string;
        assigneeId?: string | null;
        byContact?: boolean;
      };
      if (type === "ticket.updated") return !!p.changed?.some((c) => c === "assigneeId" || c === "statusId");
      // A technician's public reply is mailed; a customer's mail is news only for an assignee (events
      // written before payloads named the assignee have it undefined, and are handled).
      return (
        (p.kind === "reply" && p.visibility === "public" && !p.byContact) ||
        ((p.kind === "email" || p.byContact === true) && p.assigneeId !== null)
      );
    },
    handle: async (event) => {
      await mailPublicReply(deps, event);
      await notifyOnEvent(deps, event);
    },
  });
}

/**
 * The email channel of one process: workers (inbound processing, delivery, IMAP sessions) in the worker
 * role, and the SMTP listener wherever SWITCHBOARD_SMTP_PORT is set.
 */
export async function startEmailChannel(deps: EmailDeps, opts: { worker: boolean }) {
  await createEmailQueues(deps);
  const workers = opts.worker ? await startEmailWorkers(deps) : null;
  const imap = opts.worker && deps.config.SWITCHBOARD_IMAP_ENABLED ? new ImapPoller(deps) : null;
  await imap?.start();
  let smtp: SmtpListener | null = null;
  if (deps.config.SWITCHBOARD_SMTP_PORT !== undefined) {
    smtp = await startSmtpListener(deps, { port: deps.config.SWITCHBOARD_SMTP_PORT });
    deps.log?.info({ port: smtp.port }, "SMTP listener ready");
  }
  return {
    smtpPort: smtp?.port ?? null,
    async stop() {
      await smtp?.close();
      await imap?.stop();
      await workers?.stop();
    },
  };
}
