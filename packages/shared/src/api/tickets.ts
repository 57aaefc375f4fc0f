import { z } from "zod";
import { Email, Id, PageQuery, Timestamp, Versioned } from "./common.ts";

export const StatusCategory = z.enum([
  "new",
  "open",
  "in_progress",
  "waiting_client",
  "waiting_third_party",
  "scheduled",
  "resolved",
  "closed",
]);
export type StatusCategory = z.infer<typeof StatusCategory>;
export const OPEN_CATEGORIES: StatusCategory[] = [
  "new",
  "open",
  "in_progress",
  "waiting_client",
  "waiting_third_party",
  "scheduled",
];
export const WAITING_CATEGORIES: StatusCategory[] = ["waiting_client", "waiting_third_party"];

export const TicketType = z.enum([
  "incident",
  "service_request",
  "problem",
  "alert",
  "project_task",
  "maintenance",
]);
export const TicketSource = z.enum(["phone", "email", "portal", "monitoring", "api", "walk_in"]);
/** The console and these docs say P1-P4; the API carries the number. */
export const PRIORITY_DESCRIPTION = "Priority 1-4, shown as P1 (critical), P2 (high), P3 (medium), P4 (low)";
/** 1 critical, 2 high, 3 medium, 4 low. */
export const Priority = z
  .number()
  .int()
  .min(1, { error: "must be 1 (P1, critical) to 4 (P4, low)" })
  .max(4, { error: "must be 1 (P1, critical) to 4 (P4, low)" })
  .describe(PRIORITY_DESCRIPTION);
export const PRIORITY_LABELS = { 1: "P1 Critical", 2: "P2 High", 3: "P3 Medium", 4: "P4 Low" } as const;

const Tag = z
  .string()
  .trim()
  .toLowerCase()
  .min(1)
  .max(50)
  .regex(/^[\p{L}\p{N}][\p{L}\p{N} _\-.:/]*$/u, { error: "must start with a letter or digit" });

export const StatusDto = z.object({
  id: Id,
  name: z.string(),
  category: StatusCategory,
  builtin: z.boolean(),
  sortOrder: z.number().int(),
});
export type StatusDto = z.infer<typeof StatusDto>;
export const CreateStatusRequest = z.object({
  name: z.string().trim().min(1).max(60),
  category: StatusCategory,
  sortOrder: z.number().int().min(0).max(10_000).default(100),
});

const Ref = z.object({ id: Id, name: z.string() });

export const TicketSummaryDto = z.object({
  id: Id,
  number: z.number().int(),
  subject: z.string(),
  type: TicketType,
  source: TicketSource,
  priority: z.number().int().min(1).max(4).describe(PRIORITY_DESCRIPTION),
  status: z.object({ id: Id, name: z.string(), category: StatusCategory }),
  client: Ref,
  contact: z.object({ id: Id, name: z.string(), vip: z.boolean() }).nullable(),
  team: Ref.nullable(),
  assignee: Ref.nullable(),
  tags: z.array(z.string()),
  followUpAt: Timestamp.nullable(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  lastActivityAt: Timestamp,
  statusChangedAt: Timestamp,
  resolvedAt: Timestamp.nullable(),
  version: z.number().int(),
  /** The SLA clock: the nearest unmet target's due time (past when breached); null without a policy. */
  sla: z
    .object({ state: z.enum(["running", "paused", "breached", "met"]), dueAt: Timestamp.nullable() })
    .nullable(),
});
export type TicketSummaryDto = z.infer<typeof TicketSummaryDto>;

export const TicketDto = TicketSummaryDto.extend({
  description: z.string(),
  site: Ref.nullable(),
  contact: z
    .object({
      id: Id,
      name: z.string(),
      vip: z.boolean(),
      emails: z.array(z.string()),
      phones: z.array(z.object({ label: z.string(), number: z.string() })),
      title: z.string().nullable(),
    })
    .nullable(),
  parent: z.object({ id: Id, number: z.number().int(), subject: z.string() }).nullable(),
  children: z.array(
    z.object({ id: Id, number: z.number().int(), subject: z.string(), statusCategory: StatusCategory }),
  ),
  otherContacts: z.array(z.object({ id: Id, name: z.string() })),
  mergedInto: z.object({ id: Id, number: z.number().int() }).nullable(),
  closedAt: Timestamp.nullable(),
});
export type TicketDto = z.infer<typeof TicketDto>;

export const CallLog = z.object({
  direction: z.enum(["inbound", "outbound"]),
  number: z.string().trim().max(40).nullable().optional(),
  durationSeconds: z
    .number()
    .int()
    .min(0)
    .max(24 * 3600),
});

export const CreateTicketRequest = z.object({
  subject: z.string().trim().min(1).max(500),
  description: z.string().max(100_000).default(""),
  clientId: Id,
  siteId: Id.nullable().optional(),
  contactId: Id.nullable().optional(),
  type: TicketType.default("incident"),
  source: TicketSource.default("api"),
  priority: Priority.default(3),
  statusId: Id.optional(),
  teamId: Id.nullable().optional(),
  assigneeId: Id.nullable().optional(),
  tags: z.array(Tag).max(30).default([]),
  followUpAt: Timestamp.nullable().optional(),
  parentId: Id.nullable().optional(),
  /** Phone intake: log the call that opened the ticket. */
  call: CallLog.extend({ notes: z.string().max(100_000).default("") }).optional(),
});
export type CreateTicketRequest = z.input<typeof CreateTicketRequest>;

export const UpdateTicketRequest = Versioned.extend({
  subject: z.string().trim().min(1).max(500).optional(),
  description: z.string().max(100_000).optional(),
  siteId: Id.nullable().optional(),
  contactId: Id.nullable().optional(),
  type: TicketType.optional(),
  priority: Priority.optional(),
  statusId: Id.optional(),
  teamId: Id.nullable().optional(),
  assigneeId: Id.nullable().optional(),
  tags: z.array(Tag).max(30).optional(),
  followUpAt: Timestamp.nullable().optional(),
  parentId: Id.nullable().optional(),
});
export type UpdateTicketRequest = z.input<typeof UpdateTicketRequest>;

export const MergeTicketRequest = z.object({
  /** The ticket that survives; this one's timeline and contacts move to it. */
  intoTicketId: Id,
});

export const BulkUpdateRequest = z.object({
  ticketIds: z.array(Id).min(1).max(500),
  assigneeId: Id.nullable().optional(),
  teamId: Id.nullable().optional(),
  statusId: Id.optional(),
  addTags: z.array(Tag).max(30).optional(),
  removeTags: z.array(Tag).max(30).optional(),
});

export const Queue = z.enum(["mine", "unassigned", "team", "waiting", "follow_ups", "all"]);
export const TicketSort = z.enum(["priority", "age", "newest", "follow_up", "activity", "sla_due"]);
const csv = <T extends z.ZodType>(item: T) =>
  z.preprocess((v) => (typeof v === "string" ? v.split(",").filter(Boolean) : v), z.array(item).max(50));

export const TicketListQuery = PageQuery.extend({
  queue: Queue.default("all"),
  /** open (default), closed (resolved or closed) or any. */
  state: z.enum(["open", "closed", "any"]).default("open"),
  clientId: csv(Id).optional(),
  contactId: Id.optional(),
  teamId: csv(Id).optional(),
  assigneeId: csv(Id).optional(),
  statusId: csv(Id).optional(),
  category: csv(StatusCategory).optional(),
  priority: csv(z.coerce.number().int().min(1).max(4))
    .optional()
    .describe("Comma-separated priorities 1-4 (P1-P4), e.g. 1,2"),
  type: csv(TicketType).optional(),
  tag: csv(z.string().max(50)).optional(),
  resolvedSince: Timestamp.optional(),
  /** For follow_ups: follow-ups due before this instant (default: end of the viewer's today). */
  dueBefore: Timestamp.optional(),
  sort: TicketSort.default("priority"),
  /** Tickets whose SLA clock is due (or breached) before this instant: what will breach overnight. */
  slaDueBefore: Timestamp.optional(),
});
export type TicketListQuery = z.input<typeof TicketListQuery>;

export const TimelineEntryDto = z.object({
  id: Id,
  seq: z.number().int(),
  ticketId: Id,
  kind: z.enum(["reply", "note", "call", "event", "email"]),
  visibility: z.enum(["public", "internal"]),
  body: z.string(),
  author: z.object({ type: z.enum(["user", "contact"]), id: Id, name: z.string() }).nullable(),
  call: z
    .object({
      direction: z.enum(["inbound", "outbound"]),
      number: z.string().nullable(),
      durationSeconds: z.number().int(),
    })
    .nullable(),
  event: z.record(z.string(), z.unknown()).nullable(),
  attachments: z.array(
    z.object({ id: Id, filename: z.string(), contentType: z.string(), sizeBytes: z.number().int() }),
  ),
  /**
   * The mail behind this entry: for a reply, each outgoing message with its delivery status (queued,
   * sent, failed or bounced, with the reason); for an email entry, the message it came from (`hasHtml`:
   * its sanitised HTML can be shown, at GET /api/v1/email/messages/{id}/content).
   */
  emails: z.array(
    z.object({
      id: Id,
      direction: z.enum(["inbound", "outbound"]),
      status: z.string(),
      to: z.array(z.string()),
      cc: z.array(z.string()),
      /** Why it failed or bounced. */
      error: z.string().nullable(),
      sentAt: Timestamp.nullable(),
      hasHtml: z.boolean(),
    }),
  ),
  createdAt: Timestamp,
});
export type TimelineEntryDto = z.infer<typeof TimelineEntryDto>;

/** Files uploaded first (POST /tickets/{id}/attachments without an entry), tied to the entry as it is saved. */
const AttachmentIds = z.array(Id).max(10).optional();
const Recipients = z.array(Email).max(20);

export const CreateTimelineEntryRequest = z.discriminatedUnion("kind", [
  z.object({
    kind: z.literal("reply"),
    body: z.string().trim().min(1).max(200_000),
    /** Who the mail goes to; default: the ticket's contact (or the last sender) and the conversation's CCs. */
    to: Recipients.min(1, { error: "add at least one address" }).optional(),
    cc: Recipients.optional(),
    attachmentIds: AttachmentIds,
  }),
  z.object({
    kind: z.literal("note"),
    body: z.string().trim().min(1).max(200_000),
    attachmentIds: AttachmentIds,
  }),
  z.object({
    kind: z.literal("call"),
    body: z.string().max(200_000).default(""),
    call: CallLog,
    contactId: Id.nullable().optional(),
    attachmentIds: AttachmentIds,
  }),
]);

/** Where a reply on this ticket would go and from where, checked before the technician sends. */
export const ReplyRouteDto = z.object({
  from: z.string().nullable(),
  via: z.enum(["mailbox", "relay"]).nullable(),
  to: z.array(z.string()),
  cc: z.array(z.string()),
  problem: z.string().nullable(),
});
export type ReplyRouteDto = z.infer<typeof ReplyRouteDto>;

export const TimelineQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** Entries older than this seq (keyset). */
  before: z.coerce.number().int().min(1).optional(),
});

/**
 * GET /tickets/{id}: the ticket itself at the top level (the same TicketDto that POST and PATCH return,
 * so `id`, `version`, `status`... read the same everywhere), plus its newest timeline entries. `ticket`
 * repeats the TicketDto for clients written against the earlier shape; new code reads the top level.
 */
export const TicketWithTimelineDto = TicketDto.extend({
  /** @deprecated The same TicketDto as the top level; kept for clients of the earlier shape. */
  ticket: TicketDto,
  timeline: z.array(TimelineEntryDto),
  /** seq to pass as `before` for older entries; null when this is the start. */
  olderBefore: z.number().int().nullable(),
});
