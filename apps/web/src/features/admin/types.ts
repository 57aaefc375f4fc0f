// Types only: importing values from @switchboard/shared would pull zod into the bundle.
import type {
  AuditEntryDto as AuditEntrySchema,
  EmailTemplateDto as EmailTemplateSchema,
  MailboxDto as MailboxSchema,
} from "@switchboard/shared";
import type { z } from "zod";

export type {
  CreatedInviteDto,
  EmailClientSettingsDto,
  EmailMessageDto,
  EmailSettingsDto,
  ImportField,
  ImportResult,
  InviteDto,
  MailboxTestResult,
  SendTestEmailResult,
  StatusCategory,
  StatusDto,
  TeamDto,
  UserDto,
} from "@switchboard/shared";
export type MailboxDto = z.infer<typeof MailboxSchema>;
export type EmailTemplateDto = z.infer<typeof EmailTemplateSchema>;
export type AuditEntry = z.infer<typeof AuditEntrySchema>;
