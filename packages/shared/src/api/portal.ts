import { z } from "zod";
import { Email, Id, Timestamp } from "./common.ts";
import { StatusCategory } from "./tickets.ts";

// The client portal's API (/api/v1/portal/...): what a signed-in contact sees. Never internal notes,
// call logs, assignees' teams or anything of another company.

export const PortalLinkRequest = z.object({ email: Email });
export const PortalRedeemRequest = z.object({ token: z.string().min(10).max(200) });
export const PortalLoginRequest = z.object({
  email: Email,
  password: z.string().min(1).max(1000),
  totpCode: z
    .string()
    .regex(/^\d{6,8}$/, { error: "must be the 6-digit code" })
    .optional(),
});

export const PortalMeDto = z.object({
  contactId: Id,
  name: z.string(),
  email: z.string(),
  client: z.object({ id: Id, name: z.string() }),
  companyAdmin: z.boolean(),
  hasPassword: z.boolean(),
  totpEnabled: z.boolean(),
  mspName: z.string(),
});
export type PortalMeDto = z.infer<typeof PortalMeDto>;

export const PortalPasswordRequest = z.object({
  password: z.string().min(12, { error: "must be at least 12 characters" }).max(1000),
  currentPassword: z.string().max(1000).optional(),
});
export const PortalTotpSetupDto = z.object({ secret: z.string(), uri: z.string() });
export const PortalTotpCodeRequest = z.object({
  code: z.string().regex(/^\d{6,8}$/, { error: "must be the 6-digit code" }),
});

export const PortalTicketSummaryDto = z.object({
  id: Id,
  number: z.number().int(),
  subject: z.string(),
  status: z.object({ name: z.string(), category: StatusCategory }),
  contactName: z.string().nullable(),
  createdAt: Timestamp,
  lastActivityAt: Timestamp,
  resolvedAt: Timestamp.nullable(),
});
export type PortalTicketSummaryDto = z.infer<typeof PortalTicketSummaryDto>;

export const PortalTicketListQuery = z.object({
  scope: z.enum(["mine", "company"]).default("mine"),
  status: z.enum(["open", "closed", "all"]).default("all"),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z.string().max(500).optional(),
});

export const PortalAttachmentDto = z.object({
  id: Id,
  filename: z.string(),
  contentType: z.string(),
  sizeBytes: z.number().int(),
});

export const PortalEntryDto = z.object({
  id: Id,
  kind: z.enum(["reply", "email"]),
  body: z.string(),
  author: z.object({ type: z.enum(["user", "contact"]), name: z.string() }).nullable(),
  attachments: z.array(PortalAttachmentDto),
  createdAt: Timestamp,
});

export const PortalTicketDto = PortalTicketSummaryDto.extend({
  description: z.string(),
  entries: z.array(PortalEntryDto),
  rating: z.enum(["good", "okay", "bad"]).nullable(),
});
export type PortalTicketDto = z.infer<typeof PortalTicketDto>;

export const PortalCreateTicketRequest = z.object({
  subject: z.string().trim().min(1, { error: "must not be empty" }).max(300),
  description: z.string().max(50_000).default(""),
});
export const PortalReplyRequest = z.object({
  body: z.string().trim().min(1, { error: "must not be empty" }).max(50_000),
});

/** Staff side: a contact's portal access. */
export const PortalAccountDto = z.object({
  contactId: Id,
  email: z.string(),
  enabled: z.boolean(),
  companyAdmin: z.boolean(),
  hasPassword: z.boolean(),
  totpEnabled: z.boolean(),
  lastSignInAt: Timestamp.nullable(),
});
export type PortalAccountDto = z.infer<typeof PortalAccountDto>;
export const PutPortalAccountRequest = z.object({
  email: Email.optional(),
  enabled: z.boolean().default(true),
  companyAdmin: z.boolean().default(false),
  /** Mail the contact a sign-in link now. */
  invite: z.boolean().default(false),
});
