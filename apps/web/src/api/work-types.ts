import type {
  AppointmentDto as AppointmentSchema,
  BillingRunDto as BillingRunSchema,
  BlockBalanceRow as BlockBalanceSchema,
  ContractLineInput as ContractLineSchema,
  ContractDto as ContractSchema,
  DispatchDto as DispatchSchema,
  FreeSlotsDto as FreeSlotsSchema,
  InvoiceDto as InvoiceSchema,
  ProfitabilityRow as ProfitabilitySchema,
  ProjectDto as ProjectSchema,
  PublicBookingDto as PublicBookingSchema,
  PublicQuoteDto as PublicQuoteSchema,
  TimeEntryDto as TimeEntrySchema,
  TimerDto as TimerSchema,
  TimesheetDto as TimesheetSchema,
  UtilisationRow as UtilisationSchema,
} from "@switchboard/shared";
import type { z } from "zod";

// Types only (see types.ts): time, scheduling, billing and projects.
export type TimeEntry = z.infer<typeof TimeEntrySchema>;
export type Timer = z.infer<typeof TimerSchema>;
export type Timesheet = z.infer<typeof TimesheetSchema>;
export type Appointment = z.infer<typeof AppointmentSchema>;
export type Dispatch = z.infer<typeof DispatchSchema>;
export type FreeSlots = z.infer<typeof FreeSlotsSchema>;
export type PublicBooking = z.infer<typeof PublicBookingSchema>;
export type Contract = z.infer<typeof ContractSchema>;
export type ContractLine = z.input<typeof ContractLineSchema>;
export type Invoice = z.infer<typeof InvoiceSchema>;
export type BillingRun = z.infer<typeof BillingRunSchema>;
export type UtilisationRow = z.infer<typeof UtilisationSchema>;
export type ProfitabilityRow = z.infer<typeof ProfitabilitySchema>;
export type BlockBalanceRow = z.infer<typeof BlockBalanceSchema>;
export type Project = z.infer<typeof ProjectSchema>;
export type PublicQuote = z.infer<typeof PublicQuoteSchema>;
export type WorkType = TimeEntry["workType"];

export const WORK_TYPES: Array<{ value: WorkType; label: string }> = [
  { value: "remote", label: "Remote" },
  { value: "onsite", label: "On site" },
  { value: "project", label: "Project" },
  { value: "after_hours", label: "After hours" },
];

/** "1 h 05 m" for a number of minutes (negative for a reversal). */
export function hm(minutes: number | null): string {
  if (minutes === null) return "running";
  const sign = minutes < 0 ? "-" : "";
  const m = Math.abs(minutes);
  return `${sign}${Math.floor(m / 60)} h ${String(m % 60).padStart(2, "0")} m`;
}

/** Minor units as money: "1,234.56 USD". */
export function money(minor: number, currency = "USD"): string {
  return new Intl.NumberFormat("en-US", { style: "currency", currency }).format(minor / 100);
}
