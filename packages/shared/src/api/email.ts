import { z } from "zod";
import { Email, Id, Timestamp } from "./common.ts";

export const EmailMessageStatus = z.enum([
  "received",
  "processed",
  "duplicate",
  "quarantined",
  "review",
  "unmatched",
  "queued",
  "sent",
  "failed",
  "bounced",
]);

/** One message in or out; on a ticket's timeline it explains an `email` or reply entry's delivery. */
export const EmailMessageDto = z.object({
  id: Id,
  direction: z.enum(["inbound", "outbound"]),
  source: z.string(),
  status: EmailMessageStatus,
  statusReason: z.string().nullable(),
  messageId: z.string().nullable(),
  subject: z.string().nullable(),
  from: z.string().nullable(),
  to: z.array(z.string()),
  cc: z.array(z.string()),
  isAutoReply: z.boolean(),
  autoReplyReason: z.string().nullable(),
  ticketId: Id.nullable(),
  relatedTicketId: Id.nullable(),
  timelineEntryId: Id.nullable(),
  mailboxId: Id.nullable(),
  attempts: z.number().int(),
  lastError: z.string().nullable(),
  /** The receiving server's answer to our delivery ("250 2.0.0 Ok: queued as ..."). */
  smtpResponse: z.string().nullable(),
  sizeBytes: z.number().int(),
  receivedAt: Timestamp,
  processedAt: Timestamp.nullable(),
  sentAt: Timestamp.nullable(),
});
export type EmailMessageDto = z.infer<typeof EmailMessageDto>;

export const EmailMessageQuery = z.object({
  status: EmailMessageStatus.default("quarantined"),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

/** Retry a held message. Optionally tell it where to go: append to a ticket, or open one for a client. */
export const RetryEmailRequest = z
  .object({ ticketId: Id.optional(), clientId: Id.optional() })
  .refine((v) => !(v.ticketId && v.clientId), { error: "give ticketId or clientId, not both" });

const Tls = z.enum(["implicit", "starttls", "none"]);
const Host = z.string().trim().min(1).max(253);
const Port = z.number().int().min(1).max(65535);

export const MailboxDto = z.object({
  id: Id,
  address: z.string(),
  name: z.string(),
  active: z.boolean(),
  imap: z
    .object({
      host: z.string(),
      port: z.number().int(),
      tls: Tls,
      user: z.string().nullable(),
      folder: z.string(),
    })
    .nullable(),
  smtp: z
    .object({ host: z.string(), port: z.number().int(), tls: Tls, user: z.string().nullable() })
    .nullable(),
  /** Passwords are write-only: the API says whether one is stored, never what it is. */
  imapPasswordSet: z.boolean(),
  smtpPasswordSet: z.boolean(),
  defaultTeamId: Id.nullable(),
  defaultClientId: Id.nullable(),
  strangerPolicy: z.enum(["new_ticket", "review"]),
  sendAcknowledgement: z.boolean(),
  lastPolledAt: Timestamp.nullable(),
  lastError: z.string().nullable(),
  version: z.number().int(),
});
export type MailboxDto = z.infer<typeof MailboxDto>;

const MailboxFields = {
  name: z.string().trim().max(200),
  active: z.boolean(),
  imap: z
    .object({
      host: Host,
      port: Port.default(993),
      tls: Tls.default("implicit"),
      user: z.string().min(1).max(320),
      password: z.string().min(1).max(1000).optional(),
      folder: z.string().min(1).max(200).default("INBOX"),
    })
    .nullable(),
  smtp: z
    .object({
      host: Host,
      port: Port.default(587),
      tls: Tls.default("starttls"),
      user: z.string().min(1).max(320).nullable().default(null),
      password: z.string().min(1).max(1000).optional(),
    })
    .nullable(),
  defaultTeamId: Id.nullable(),
  defaultClientId: Id.nullable(),
  strangerPolicy: z.enum(["new_ticket", "review"]),
  sendAcknowledgement: z.boolean(),
};

export const CreateMailboxRequest = z.object({
  address: Email,
  name: MailboxFields.name.default(""),
  active: MailboxFields.active.default(true),
  imap: MailboxFields.imap.default(null),
  smtp: MailboxFields.smtp.default(null),
  defaultTeamId: MailboxFields.defaultTeamId.default(null),
  defaultClientId: MailboxFields.defaultClientId.default(null),
  strangerPolicy: MailboxFields.strangerPolicy.default("new_ticket"),
  sendAcknowledgement: MailboxFields.sendAcknowledgement.default(true),
});
export type CreateMailboxRequest = z.input<typeof CreateMailboxRequest>;

export const UpdateMailboxRequest = z.object({
  version: z.number().int().min(1),
  name: MailboxFields.name.optional(),
  active: MailboxFields.active.optional(),
  imap: MailboxFields.imap.optional(),
  smtp: MailboxFields.smtp.optional(),
  defaultTeamId: MailboxFields.defaultTeamId.optional(),
  defaultClientId: MailboxFields.defaultClientId.optional(),
  strangerPolicy: MailboxFields.strangerPolicy.optional(),
  sendAcknowledgement: MailboxFields.sendAcknowledgement.optional(),
});

export const EmailTemplateKey = z.enum([
  "acknowledgement",
  "reply",
  "resolved",
  "assigned",
  "new_reply",
  "appointment_proposal",
  "appointment_invite",
  "appointment_cancelled",
  "appointment_reminder",
]);
export const EmailTemplateDto = z.object({
  key: EmailTemplateKey,
  clientId: Id.nullable(),
  subject: z.string(),
  body: z.string(),
  /** True while the built-in text is in use. */
  isDefault: z.boolean(),
});
export const SaveEmailTemplateRequest = z.object({
  clientId: Id.nullable().default(null),
  subject: z.string().trim().min(1).max(500),
  body: z.string().min(1).max(20_000),
});

export const EmailClientSettingsRequest = z.object({
  fromAddress: Email.nullable(),
  signature: z.string().max(5000).default(""),
});

/** What the view shows of one message: HTML safe to render, text with its quoted part folded. */
export const EmailContentDto = z.object({
  id: Id,
  ticketId: Id.nullable(),
  /** Sanitized: no script, no remote loads; inline images point at /api/v1/attachments/:id. */
  html: z.string().nullable(),
  text: z.string(),
  /** What the sender wrote... */
  main: z.string(),
  /** ...and the quoted history, forwarded part or signature, kept but folded. */
  folded: z.string(),
  attachments: z.array(
    z.object({
      id: Id,
      filename: z.string(),
      contentType: z.string(),
      sizeBytes: z.number().int(),
      inline: z.boolean(),
      contentId: z.string().nullable(),
    }),
  ),
});
