import { z } from "zod";
import { UserRole } from "./auth.ts";
import { Email, Id, Timestamp, TimeZone, Versioned } from "./common.ts";
import { StatusCategory } from "./tickets.ts";

// ---- invitations: a user is created without a password and sets one through a one-time link

const Name = z.string().trim().min(1).max(200);

export const InviteUserRequest = z.object({
  email: Email,
  name: Name,
  role: UserRole,
  allClients: z.boolean().default(true),
  clientIds: z.array(Id).max(10_000).default([]),
  teamIds: z.array(Id).max(500).default([]),
  timezone: TimeZone.default("UTC"),
});

/** The latest invitation of a user: when it expires and whether its mail went out. */
export const InviteDto = z.object({
  id: Id,
  userId: Id,
  expiresAt: Timestamp,
  usedAt: Timestamp.nullable(),
  sentAt: Timestamp.nullable(),
  /** Why the mail did not go out (no relay yet, the server's refusal): "Resend" mints a new link. */
  lastError: z.string().nullable(),
  createdAt: Timestamp,
});
export type InviteDto = z.infer<typeof InviteDto>;

/** Answered once, when the invitation is made: the link itself is stored only as a hash. */
export const CreatedInviteDto = z.object({
  user: z.object({ id: Id, email: z.string(), name: z.string(), role: UserRole }),
  invite: InviteDto,
  /** The set-password link, to pass on by hand if the mail cannot go out. Shown once. */
  inviteUrl: z.string(),
});
export type CreatedInviteDto = z.infer<typeof CreatedInviteDto>;

export const InviteTokenParams = z.object({ token: z.string().min(20).max(200) });
export const InviteInfoDto = z.object({ email: z.string(), name: z.string(), mspName: z.string() });
export const AcceptInviteRequest = z.object({
  token: z.string().min(20).max(200),
  password: z.string().min(12, { error: "must be at least 12 characters" }).max(256),
});

// ---- MSP-wide email settings: the outbound relay and the default From address

const Tls = z.enum(["implicit", "starttls", "none"]);

export const EmailSettingsDto = z.object({
  relay: z
    .object({
      host: z.string(),
      port: z.number().int(),
      tls: Tls,
      user: z.string().nullable(),
      /** Write-only: whether a password is stored, never the password. */
      passwordSet: z.boolean(),
    })
    .nullable(),
  /** SWITCHBOARD_SMTP_RELAY_URL is set: used when no relay is configured here (its URL is not shown). */
  environmentRelay: z.boolean(),
  defaultFromAddress: z.string().nullable(),
  /** SWITCHBOARD_EMAIL_FROM, used when no default From is configured here. */
  environmentFrom: z.string().nullable(),
  version: z.number().int(),
});
export type EmailSettingsDto = z.infer<typeof EmailSettingsDto>;

export const UpdateEmailSettingsRequest = Versioned.extend({
  relay: z
    .object({
      host: z.string().trim().min(1).max(253),
      port: z.number().int().min(1).max(65535).default(587),
      tls: Tls.default("starttls"),
      user: z.string().min(1).max(320).nullable().default(null),
      /** Leave out to keep the stored password; it is never sent back. */
      password: z.string().min(1).max(1000).optional(),
    })
    .nullable()
    .optional(),
  defaultFromAddress: Email.nullable().optional(),
});

export const SendTestEmailRequest = z.object({ to: Email });
/** What the relay answered: the test mail's outcome, success or not, with the server's own words. */
export const SendTestEmailResult = z.object({
  ok: z.boolean(),
  from: z.string().nullable(),
  via: z.string(),
  response: z.string().nullable(),
  error: z.string().nullable(),
});
export type SendTestEmailResult = z.infer<typeof SendTestEmailResult>;

const Check = z.object({ ok: z.boolean(), message: z.string() });
export const MailboxTestResult = z.object({ imap: Check.nullable(), smtp: Check.nullable() });
export type MailboxTestResult = z.infer<typeof MailboxTestResult>;

export const TemplatePreviewRequest = z.object({
  subject: z.string().max(500),
  body: z.string().max(20_000),
});
export const TemplatePreviewDto = z.object({ subject: z.string(), body: z.string() });

export const EmailClientSettingsDto = z.object({
  clientId: Id,
  clientName: z.string(),
  fromAddress: z.string().nullable(),
  signature: z.string(),
});
export type EmailClientSettingsDto = z.infer<typeof EmailClientSettingsDto>;

// ---- contacts: merging duplicates

export const MergeContactsRequest = z.object({
  /** The duplicates to fold into the contact in the path; they become pointers to it. */
  duplicateIds: z.array(Id).min(1).max(20),
});
export const MergeContactsResult = z.object({
  survivorId: Id,
  merged: z.array(Id),
  moved: z.object({
    tickets: z.number().int(),
    timelineEntries: z.number().int(),
    emails: z.number().int(),
  }),
});

// ---- statuses

export const UpdateStatusRequest = z.object({
  name: z.string().trim().min(1).max(100).optional(),
  /** Only statuses an admin added can move to another category. */
  category: StatusCategory.optional(),
  sortOrder: z.number().int().min(0).max(10_000).optional(),
});

// ---- CSV import of clients and contacts

export const IMPORT_FIELDS = [
  "client.name",
  "client.phone",
  "client.website",
  "client.domain",
  "site.name",
  "site.addressLine1",
  "site.addressLine2",
  "site.city",
  "site.region",
  "site.postalCode",
  "site.country",
  "contact.firstName",
  "contact.lastName",
  "contact.fullName",
  "contact.email",
  "contact.phone",
  "contact.mobile",
  "contact.title",
] as const;
export const ImportField = z.enum(IMPORT_FIELDS);
export type ImportField = z.infer<typeof ImportField>;

export const ImportQuery = z.object({
  /** true: read and check everything, write nothing (the preview). */
  dryRun: z.stringbool({ error: "must be true or false" }).default(false),
  /**
   * Column overrides as JSON: `{"Header in the file": "contact.email" | null}`. Columns not named keep
   * the automatic mapping; null ignores a column.
   */
  mapping: z.string().max(20_000).optional(),
});

export const ImportRowOutcome = z.object({
  row: z.number().int(),
  outcome: z.enum(["created", "updated", "skipped", "error"]),
  client: z.string().nullable(),
  contact: z.string().nullable(),
  reason: z.string().nullable(),
});
export type ImportRowOutcome = z.infer<typeof ImportRowOutcome>;

export const ImportResult = z.object({
  dryRun: z.boolean(),
  /** Which product's export the headers look like (connectwise, autotask, halopsa) or generic. */
  format: z.string(),
  columns: z.array(z.object({ header: z.string(), field: ImportField.nullable() })),
  rows: z.number().int(),
  clients: z.object({ created: z.number().int(), updated: z.number().int(), unchanged: z.number().int() }),
  contacts: z.object({
    created: z.number().int(),
    updated: z.number().int(),
    skipped: z.number().int(),
  }),
  errors: z.number().int(),
  /** Every row that was not simply created, and the first 20 rows either way (the preview). */
  outcomes: z.array(ImportRowOutcome),
});
export type ImportResult = z.infer<typeof ImportResult>;
