import { z } from "zod";
import { Id, Timestamp, Versioned } from "./common.ts";

export const WorkType = z.enum(["remote", "onsite", "project", "after_hours"]);
export type WorkType = z.infer<typeof WorkType>;

/** Time in whole minutes; a day holds at most 1,440 of them. */
const Minutes = z.number().int().min(1, { error: "must be at least 1 minute" }).max(1440);
const Note = z.string().trim().max(2000);

export const TimeEntryDto = z.object({
  id: Id,
  clientId: Id,
  clientName: z.string(),
  ticketId: Id.nullable(),
  ticketNumber: z.number().int().nullable(),
  projectTaskId: Id.nullable(),
  userId: Id,
  userName: z.string(),
  workType: WorkType,
  billable: z.boolean(),
  startedAt: Timestamp,
  endedAt: Timestamp.nullable(),
  /** Raw minutes as worked; null while the timer runs. Negative on a reversal. */
  minutes: z.number().int().nullable(),
  note: z.string(),
  reversesEntryId: Id.nullable(),
  reversedByEntryId: Id.nullable(),
  invoiceId: Id.nullable(),
  billedMinutes: z.number().int().nullable(),
  billedAmountMinor: z.number().int().nullable(),
  /** On an approved timesheet or an invoice: it can only be corrected by a reversal. */
  locked: z.boolean(),
  /** Overlaps another entry of the same technician. */
  overlaps: z.boolean(),
  version: z.number().int(),
});
export type TimeEntryDto = z.infer<typeof TimeEntryDto>;

/** Where the time goes: a ticket (its client follows), or a client directly. */
const Target = z.object({
  ticketId: Id.optional(),
  clientId: Id.optional(),
  projectTaskId: Id.optional(),
});

export const CreateTimeEntryRequest = Target.extend({
  workType: WorkType.default("remote"),
  billable: z.boolean().default(true),
  startedAt: Timestamp,
  /** Either the end or the length. */
  endedAt: Timestamp.optional(),
  minutes: Minutes.optional(),
  note: Note.default(""),
  /** An admin or dispatcher may log time for someone else. */
  userId: Id.optional(),
});
export type CreateTimeEntryRequest = z.infer<typeof CreateTimeEntryRequest>;

export const StartTimerRequest = Target.extend({
  workType: WorkType.default("remote"),
  billable: z.boolean().default(true),
  note: Note.default(""),
});

export const StopTimerRequest = z.object({ note: Note.optional() });

export const UpdateTimeEntryRequest = Versioned.extend({
  workType: WorkType.optional(),
  billable: z.boolean().optional(),
  startedAt: Timestamp.optional(),
  endedAt: Timestamp.optional(),
  note: Note.optional(),
  ticketId: Id.nullable().optional(),
});

export const ReverseTimeEntryRequest = z.object({ reason: z.string().trim().min(1).max(500) });

export const TimeEntryListQuery = z.object({
  userId: Id.optional(),
  clientId: Id.optional(),
  ticketId: Id.optional(),
  from: Timestamp.optional(),
  to: Timestamp.optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});

export const TimerDto = z.object({ running: TimeEntryDto.nullable(), stopped: TimeEntryDto.nullable() });

export const TimesheetDto = z.object({
  id: Id.nullable(),
  userId: Id,
  userName: z.string(),
  /** The Monday of the week, in the technician's time zone. */
  weekStart: z.iso.date(),
  timezone: z.string(),
  status: z.enum(["open", "submitted", "approved", "rejected"]),
  submittedAt: Timestamp.nullable(),
  decidedAt: Timestamp.nullable(),
  decisionNote: z.string(),
  /** Minutes per day, Monday first, split billable / non-billable. */
  days: z.array(z.object({ date: z.iso.date(), billable: z.number().int(), nonBillable: z.number().int() })),
  totalMinutes: z.number().int(),
  billableMinutes: z.number().int(),
  entries: z.array(TimeEntryDto),
  version: z.number().int(),
});
export type TimesheetDto = z.infer<typeof TimesheetDto>;

export const TimesheetQuery = z.object({ userId: Id.optional(), week: z.iso.date().optional() });
export const TimesheetDecisionRequest = z.object({
  decision: z.enum(["approve", "reject", "reopen"]),
  note: z.string().trim().max(1000).default(""),
});
