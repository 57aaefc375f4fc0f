import { z } from "zod";
import { Id, Timestamp } from "./common.ts";
import { StatusCategory } from "./tickets.ts";

// SLA calendars and policies, a ticket's clock, the SLA report; on-call rotas and pages.

const Hhmm = z.string().regex(/^\d{2}:\d{2}$/, { error: "use HH:MM" });
const LocalDate = z.iso.date({ error: "use YYYY-MM-DD" });

export const CalendarHours = z.object({
  /** ISO weekday: 1 = Monday ... 7 = Sunday. */
  day: z.number().int().min(1).max(7),
  start: Hhmm,
  /** Up to 24:00 (end of the day). */
  end: Hhmm,
});

export const SlaCalendarDto = z.object({
  id: Id,
  name: z.string(),
  timeZone: z.string(),
  alwaysOpen: z.boolean(),
  hours: z.array(CalendarHours),
  holidays: z.array(z.object({ date: LocalDate, name: z.string() })),
  version: z.number().int(),
});
export type SlaCalendarDto = z.infer<typeof SlaCalendarDto>;

export const SaveSlaCalendarRequest = z.object({
  name: z.string().trim().min(1).max(100),
  /** Checked against the zones the server knows (400 naming body.timeZone). */
  timeZone: z.string().min(1).max(64),
  alwaysOpen: z.boolean().default(false),
  hours: z.array(CalendarHours).max(50).default([]),
  holidays: z
    .array(z.object({ date: LocalDate, name: z.string().trim().min(1).max(100) }))
    .max(500)
    .default([]),
});

const Minutes = z.number().int().min(1).max(525_600).nullable();
export const SlaTargetsDto = z.record(
  z.enum(["1", "2", "3", "4"]),
  z.object({ firstResponse: Minutes, resolution: Minutes }),
);

export const SlaPolicyDto = z.object({
  id: Id,
  name: z.string(),
  calendar: z.object({ id: Id, name: z.string() }),
  /** Business minutes per priority ("1" = P1). */
  targets: SlaTargetsDto,
  warnPercent: z.number().int(),
  pauseCategories: z.array(StatusCategory),
  isDefault: z.boolean(),
  clients: z.array(z.object({ id: Id, name: z.string() })),
  version: z.number().int(),
});
export type SlaPolicyDto = z.infer<typeof SlaPolicyDto>;

export const SaveSlaPolicyRequest = z.object({
  name: z.string().trim().min(1).max(100),
  calendarId: Id,
  targets: SlaTargetsDto,
  warnPercent: z.number().int().min(1).max(99).default(75),
  pauseCategories: z
    .array(z.enum(["new", "open", "in_progress", "waiting_client", "waiting_third_party", "scheduled"]))
    .max(6)
    .default(["waiting_client", "waiting_third_party"]),
  isDefault: z.boolean().default(false),
});

export const ClientSlaRequest = z.object({ policyId: Id.nullable() });

const TargetDto = z.object({
  status: z.enum(["none", "running", "paused", "met", "breached"]),
  targetMinutes: z.number().int().nullable(),
  elapsedMinutes: z.number().int(),
  dueAt: Timestamp.nullable(),
  warnAt: Timestamp.nullable(),
  metAt: Timestamp.nullable(),
  breachedAt: Timestamp.nullable(),
});

export const TicketSlaDto = z.object({
  policy: z.object({ id: Id, name: z.string(), calendarName: z.string(), timeZone: z.string() }).nullable(),
  paused: z.boolean(),
  firstResponse: TargetDto,
  resolution: TargetDto,
  /** The clock's audit: which intervals counted, which paused, and why. */
  segments: z.array(
    z.object({
      from: Timestamp,
      to: Timestamp.nullable(),
      state: z.enum(["running", "paused", "stopped"]),
      reason: z.string(),
    }),
  ),
});
export type TicketSlaDto = z.infer<typeof TicketSlaDto>;

export const SlaReportQuery = z.object({
  /** Month as YYYY-MM (tickets created in it, in the MSP's time zone). */
  month: z.string().regex(/^\d{4}-(0[1-9]|1[0-2])$/, { error: "use YYYY-MM" }),
});

export const SlaReportDto = z.object({
  month: z.string(),
  rows: z.array(
    z.object({
      client: z.object({ id: Id, name: z.string() }),
      priority: z.number().int(),
      tickets: z.number().int(),
      firstResponseMet: z.number().int(),
      firstResponseBreached: z.number().int(),
      resolutionMet: z.number().int(),
      resolutionBreached: z.number().int(),
      medianFirstResponseMinutes: z.number().nullable(),
    }),
  ),
});
export type SlaReportDto = z.infer<typeof SlaReportDto>;

// --- on-call ---

export const RotationDto = z.object({
  id: Id,
  name: z.string(),
  timeZone: z.string(),
  period: z.enum(["daily", "weekly"]),
  handover: Hhmm,
  anchorDate: LocalDate,
  escalateAfterMinutes: z.number().int(),
  maxRounds: z.number().int(),
  pages: z.boolean(),
  calendar: z.object({ id: Id, name: z.string() }).nullable(),
  members: z.array(z.object({ id: Id, name: z.string(), phone: z.string().nullable() })),
  overrides: z.array(
    z.object({
      id: Id,
      user: z.object({ id: Id, name: z.string() }),
      startsAt: Timestamp,
      endsAt: Timestamp,
      note: z.string(),
    }),
  ),
  onCallNow: z.object({ id: Id, name: z.string(), until: Timestamp }).nullable(),
  version: z.number().int(),
});
export type RotationDto = z.infer<typeof RotationDto>;

export const SaveRotationRequest = z.object({
  name: z.string().trim().min(1).max(100),
  timeZone: z.string().min(1).max(64),
  period: z.enum(["daily", "weekly"]),
  /** Wall-clock time of the hand-over in the rota's zone. */
  handover: Hhmm,
  /** The first shift starts at the hand-over on this date (weekly: and the same weekday after). */
  anchorDate: LocalDate,
  escalateAfterMinutes: z.number().int().min(1).max(1440).default(10),
  maxRounds: z.number().int().min(1).max(10).default(2),
  pages: z.boolean().default(false),
  calendarId: Id.nullable().default(null),
  memberIds: z.array(Id).max(50).default([]),
});

export const CreateOverrideRequest = z.object({
  userId: Id,
  startsAt: Timestamp,
  endsAt: Timestamp,
  note: z.string().trim().max(200).default(""),
});

export const ShiftsQuery = z.object({ from: Timestamp, to: Timestamp });
export const ShiftsDto = z.object({
  shifts: z.array(
    z.object({
      user: z.object({ id: Id, name: z.string() }).nullable(),
      start: Timestamp,
      end: Timestamp,
      override: z.boolean(),
    }),
  ),
});

export const PageDto = z.object({
  id: Id,
  ticket: z.object({ id: Id, number: z.number().int(), subject: z.string() }).nullable(),
  client: z.object({ id: Id, name: z.string() }),
  reason: z.string(),
  summary: z.string(),
  status: z.enum(["paging", "acknowledged", "exhausted"]),
  level: z.number().int(),
  maxLevels: z.number().int(),
  paging: z.object({ id: Id, name: z.string() }).nullable(),
  acknowledgedAt: Timestamp.nullable(),
  acknowledgedBy: z.object({ id: Id, name: z.string() }).nullable(),
  createdAt: Timestamp,
  deliveries: z.array(
    z.object({
      user: z.object({ id: Id, name: z.string() }).nullable(),
      level: z.number().int(),
      channel: z.enum(["sms", "email"]),
      status: z.enum(["sent", "failed", "skipped"]),
      error: z.string().nullable(),
      at: Timestamp,
    }),
  ),
});
export type PageDto = z.infer<typeof PageDto>;

export const PagesQuery = z.object({ status: z.enum(["active", "all"]).default("active") });
export const AckLinkRequest = z.object({ token: z.string().min(1).max(2000) });
export const AckLinkDto = z.object({
  status: z.enum(["paging", "acknowledged", "exhausted"]),
  summary: z.string(),
});
