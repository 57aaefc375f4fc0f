import { z } from "zod";
import { Id, Timestamp, Versioned } from "./common.ts";
import { WorkType } from "./time.ts";

/** Money in minor units (cents): integers, never floats. */
const Money = z.number().int().min(0).max(1_000_000_000_00);
const Day = z.iso.date();

export const ContractLineKind = z.enum(["managed_device", "managed_user", "fixed", "hourly", "block"]);

export const ContractLineInput = z.object({
  kind: ContractLineKind,
  description: z.string().trim().min(1).max(200),
  /** hourly and block lines: the work type they price (null: any). */
  workType: WorkType.nullable().default(null),
  /** managed_device / managed_user / fixed: the monthly price per unit. */
  unitPriceMinor: Money.default(0),
  /** hourly lines: the price of an hour. */
  rateMinor: Money.default(0),
  roundingMinimumMinutes: z.number().int().min(0).max(1440).default(0),
  roundingIncrementMinutes: z.number().int().min(1).max(240).default(1),
  /** Charged for after-hours time, in percent of the rate (150 = time and a half). */
  afterHoursMultiplierPct: z.number().int().min(100).max(500).default(100),
});

export const ContractLineDto = ContractLineInput.extend({ id: Id });

export const BlockHoursDto = z.object({
  id: Id,
  purchasedMinutes: z.number().int(),
  usedMinutes: z.number().int(),
  remainingMinutes: z.number().int(),
  priceMinor: z.number().int(),
  purchasedOn: Day,
  expiresOn: Day,
  note: z.string(),
  expired: z.boolean(),
});

export const ContractDto = z.object({
  id: Id,
  clientId: Id,
  clientName: z.string(),
  name: z.string(),
  currency: z.string(),
  startsOn: Day,
  endsOn: Day.nullable(),
  active: z.boolean(),
  lines: z.array(ContractLineDto),
  blocks: z.array(BlockHoursDto),
  version: z.number().int(),
});
export type ContractDto = z.infer<typeof ContractDto>;

export const CreateContractRequest = z.object({
  clientId: Id,
  name: z.string().trim().min(1).max(200),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, { error: "must be an ISO 4217 code such as USD" })
    .default("USD"),
  startsOn: Day,
  endsOn: Day.nullable().default(null),
  lines: z.array(ContractLineInput).max(50).default([]),
});

export const UpdateContractRequest = Versioned.extend({
  name: z.string().trim().min(1).max(200).optional(),
  endsOn: Day.nullable().optional(),
  active: z.boolean().optional(),
  /** Replaces every line. */
  lines: z.array(ContractLineInput).max(50).optional(),
});

export const AddBlockRequest = z.object({
  purchasedMinutes: z.number().int().min(15).max(100_000),
  priceMinor: Money.default(0),
  purchasedOn: Day,
  expiresOn: Day,
  note: z.string().trim().max(500).default(""),
});

export const InvoiceLineDto = z.object({
  id: Id,
  kind: z.string(),
  description: z.string(),
  quantity: z.number(),
  unit: z.string(),
  unitPriceMinor: z.number().int(),
  amountMinor: z.number().int(),
  minutes: z.number().int().nullable(),
});

export const InvoiceDto = z.object({
  id: Id,
  number: z.number().int(),
  clientId: Id,
  clientName: z.string(),
  periodStart: Day,
  periodEnd: Day,
  status: z.enum(["draft", "approved"]),
  currency: z.string(),
  totalMinor: z.number().int(),
  issuedOn: Day.nullable(),
  approvedAt: Timestamp.nullable(),
  lines: z.array(InvoiceLineDto),
  timeEntryCount: z.number().int(),
  version: z.number().int(),
});
export type InvoiceDto = z.infer<typeof InvoiceDto>;

export const InvoiceListQuery = z.object({
  /** The first day of the billed month. */
  period: Day.optional(),
  clientId: Id.optional(),
  status: z.enum(["draft", "approved"]).optional(),
});

export const BillingRunRequest = z.object({
  /** Any day of the month to bill; the run covers that calendar month. */
  month: Day,
  /** One client only; all clients otherwise. */
  clientId: Id.optional(),
});

export const BillingRunDto = z.object({
  periodStart: Day,
  periodEnd: Day,
  invoices: z.number().int(),
  skippedApproved: z.number().int(),
  timeEntries: z.number().int(),
  totalMinor: z.number().int(),
  /** Clients that could not be billed, with the reason (the others were). */
  failures: z.array(z.object({ clientId: Id, reason: z.string() })),
  tookMs: z.number().int(),
});

export const ExportQuery = z.object({
  period: Day,
  format: z.enum(["quickbooks", "xero"]).default("quickbooks"),
  status: z.enum(["approved", "all"]).default("approved"),
});

export const UtilisationRow = z.object({
  userId: Id,
  userName: z.string(),
  billableMinutes: z.number().int(),
  nonBillableMinutes: z.number().int(),
  availableMinutes: z.number().int(),
  /** Billable / available, 0-1 (above 1 for overtime). */
  utilisation: z.number(),
});

export const ProfitabilityRow = z.object({
  clientId: Id,
  clientName: z.string(),
  invoicedMinor: z.number().int(),
  workedMinutes: z.number().int(),
  billableMinutes: z.number().int(),
  /** Invoiced per hour worked, in minor units. */
  revenuePerHourMinor: z.number().int(),
});

export const BlockBalanceRow = z.object({
  clientId: Id,
  clientName: z.string(),
  blockId: Id,
  expiresOn: Day,
  purchasedMinutes: z.number().int(),
  remainingMinutes: z.number().int(),
});

export const ReportQuery = z.object({ from: Day, to: Day });

// ---- projects ----

export const ProjectStatus = z.enum(["planning", "active", "on_hold", "done", "cancelled"]);
export const ProjectTaskDto = z.object({
  id: Id,
  phaseId: Id.nullable(),
  title: z.string(),
  description: z.string(),
  status: z.enum(["todo", "in_progress", "done"]),
  estimateMinutes: z.number().int(),
  /** Minutes logged against the task (reversals netted). */
  actualMinutes: z.number().int(),
  assigneeId: Id.nullable(),
  assigneeName: z.string().nullable(),
  version: z.number().int(),
});
export const ProjectDto = z.object({
  id: Id,
  clientId: Id,
  clientName: z.string(),
  ticketId: Id,
  ticketNumber: z.number().int(),
  name: z.string(),
  description: z.string(),
  status: ProjectStatus,
  quoteMinor: z.number().int().nullable(),
  currency: z.string(),
  quoteStatus: z.enum(["none", "sent", "approved", "declined"]),
  quoteDecidedAt: Timestamp.nullable(),
  quoteDecisionNote: z.string(),
  phases: z.array(z.object({ id: Id, name: z.string(), position: z.number().int() })),
  tasks: z.array(ProjectTaskDto),
  estimateMinutes: z.number().int(),
  actualMinutes: z.number().int(),
  version: z.number().int(),
});
export type ProjectDto = z.infer<typeof ProjectDto>;

export const CreateProjectRequest = z.object({
  clientId: Id,
  name: z.string().trim().min(1).max(200),
  description: z.string().trim().max(5000).default(""),
  contactId: Id.optional(),
  phases: z.array(z.string().trim().min(1).max(200)).max(20).default([]),
});
export const UpdateProjectRequest = Versioned.extend({
  name: z.string().trim().min(1).max(200).optional(),
  description: z.string().trim().max(5000).optional(),
  status: ProjectStatus.optional(),
  quoteMinor: Money.nullable().optional(),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/)
    .optional(),
});
export const CreateProjectTaskRequest = z.object({
  phaseId: Id.nullable().default(null),
  title: z.string().trim().min(1).max(300),
  description: z.string().trim().max(5000).default(""),
  estimateMinutes: z.number().int().min(0).max(100_000).default(0),
  assigneeId: Id.nullable().default(null),
});
export const UpdateProjectTaskRequest = Versioned.extend({
  title: z.string().trim().min(1).max(300).optional(),
  status: z.enum(["todo", "in_progress", "done"]).optional(),
  estimateMinutes: z.number().int().min(0).max(100_000).optional(),
  assigneeId: Id.nullable().optional(),
  phaseId: Id.nullable().optional(),
});
export const SendQuoteRequest = z.object({
  contactId: Id,
  expiresInDays: z.number().int().min(1).max(90).default(30),
});
export const PublicQuoteDto = z.object({
  mspName: z.string(),
  clientName: z.string(),
  projectName: z.string(),
  description: z.string(),
  phases: z.array(
    z.object({
      name: z.string(),
      tasks: z.array(z.object({ title: z.string(), estimateMinutes: z.number().int() })),
    }),
  ),
  quoteMinor: z.number().int(),
  currency: z.string(),
  status: z.enum(["sent", "approved", "declined", "expired"]),
});
export const QuoteDecisionRequest = z.object({
  decision: z.enum(["approve", "decline"]),
  name: z.string().trim().min(1).max(200),
  note: z.string().trim().max(2000).default(""),
});
