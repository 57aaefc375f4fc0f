import type { EmailTemplateKey } from "../../db/schema.ts";

export const TEMPLATE_KEYS: EmailTemplateKey[] = [
  "acknowledgement",
  "reply",
  "resolved",
  "assigned",
  "new_reply",
  "appointment_proposal",
  "appointment_invite",
  "appointment_cancelled",
  "appointment_reminder",
];

/** Used until an admin saves their own (globally or for one client). */
export const DEFAULT_TEMPLATES: Record<EmailTemplateKey, { subject: string; body: string }> = {
  acknowledgement: {
    subject: "Re: {{ticket.subject}}",
    body:
      "Hello {{contact.name}},\n\nWe received your message and opened ticket #{{ticket.number}}. " +
      "Reply to this email to add to it.\n\n{{signature}}",
  },
  reply: { subject: "Re: {{ticket.subject}}", body: "{{body}}\n\n{{signature}}" },
  resolved: {
    subject: "Resolved: {{ticket.subject}}",
    body:
      "Hello {{contact.name}},\n\nTicket #{{ticket.number}} is resolved. If something is still wrong, " +
      "reply to this email and we will pick it up again.\n\n{{signature}}",
  },
  assigned: {
    subject: "Assigned to you: {{ticket.subject}}",
    body: "Ticket #{{ticket.number}} ({{client.name}}) is now assigned to you.\n\n{{body}}",
  },
  new_reply: {
    subject: "New reply: {{ticket.subject}}",
    body: "{{contact.name}} replied on ticket #{{ticket.number}} ({{client.name}}):\n\n{{body}}",
  },
  // The appointment mails' {{body}} is written per recipient: the times in their own time zone.
  appointment_proposal: {
    subject: "Choose a time: {{ticket.subject}}",
    body: "Hello {{contact.name}},\n\n{{body}}\n\n{{signature}}",
  },
  appointment_invite: { subject: "Appointment: {{ticket.subject}}", body: "{{body}}\n\n{{signature}}" },
  appointment_cancelled: { subject: "Cancelled: {{ticket.subject}}", body: "{{body}}\n\n{{signature}}" },
  appointment_reminder: { subject: "Reminder: {{ticket.subject}}", body: "{{body}}\n\n{{signature}}" },
};

/** How the resolution email asks for a rating (domains/csat): one click per answer. */
export const RATING_BLOCK =
  "How did we do?\n  Good: {{rating.good}}\n  Okay: {{rating.okay}}\n  Bad: {{rating.bad}}";

export type TemplateVars = Record<string, string | number | null | undefined>;

/** `{{name}}` placeholders; unknown ones render empty rather than leaking template syntax to a client. */
export function render(text: string, vars: TemplateVars): string {
  return text.replace(/\{\{\s*([a-z_.]+)\s*\}\}/gi, (_m, name: string) => String(vars[name] ?? ""));
}

/** The client's own template wins over the global one, which wins over the built-in default. */
export function pickTemplate(
  rows: Array<{ subject: string; body: string; client_id: string | null }>,
  key: EmailTemplateKey,
  clientId: string | null,
) {
  const own =
    rows.find((r) => r.client_id === clientId && clientId !== null) ?? rows.find((r) => r.client_id === null);
  return own ?? DEFAULT_TEMPLATES[key];
}
