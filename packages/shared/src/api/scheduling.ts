import { z } from "zod";
import { Id, Timestamp, TimeZone, Versioned } from "./common.ts";

export const AppointmentKind = z.enum(["remote", "onsite"]);
export const InstallOs = z.enum(["windows", "macos", "linux"]);

/**
 * A time as a person means it: an instant, or a wall-clock time in a named zone ("2027-03-14T09:00" in
 * America/Chicago). A wall-clock time the clocks skip (daylight saving begins) is refused with the reason.
 */
export const TimeInput = z.union([
  z.object({ at: Timestamp }),
  z.object({
    local: z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/, { error: "must be YYYY-MM-DDTHH:mm" }),
    timeZone: TimeZone,
  }),
]);
export type TimeInput = z.infer<typeof TimeInput>;

const Duration = z
  .number()
  .int()
  .min(15, { error: "must be at least 15 minutes" })
  .max(12 * 60);

export const AppointmentDto = z.object({
  id: Id,
  clientId: Id,
  clientName: z.string(),
  ticketId: Id.nullable(),
  ticketNumber: z.number().int().nullable(),
  technicianId: Id,
  technicianName: z.string(),
  contactId: Id.nullable(),
  contactName: z.string().nullable(),
  siteId: Id.nullable(),
  siteName: z.string().nullable(),
  kind: AppointmentKind,
  title: z.string(),
  startsAt: Timestamp,
  endsAt: Timestamp,
  status: z.enum(["confirmed", "cancelled", "completed"]),
  sequence: z.number().int(),
  notes: z.string(),
  installOs: InstallOs.nullable(),
  deviceId: Id.nullable(),
  version: z.number().int(),
});
export type AppointmentDto = z.infer<typeof AppointmentDto>;

/** An appointment is always about a ticket: its client, contact and timeline go with it. */
export const CreateAppointmentRequest = z.object({
  technicianId: Id,
  ticketId: Id,
  contactId: Id.optional(),
  siteId: Id.optional(),
  kind: AppointmentKind.default("remote"),
  title: z.string().trim().min(1).max(200).optional(),
  start: TimeInput,
  durationMinutes: Duration.default(60),
  notes: z.string().trim().max(2000).default(""),
  installOs: InstallOs.optional(),
  /** Send the contact an invite (the technician always gets one). */
  notifyContact: z.boolean().default(true),
});

export const UpdateAppointmentRequest = Versioned.extend({
  technicianId: Id.optional(),
  start: TimeInput.optional(),
  durationMinutes: Duration.optional(),
  notes: z.string().trim().max(2000).optional(),
  kind: AppointmentKind.optional(),
});

export const CancelAppointmentRequest = z.object({ reason: z.string().trim().max(500).default("") });

export const ProposeTimesRequest = z.object({
  contactId: Id,
  technicianId: Id.optional(),
  kind: AppointmentKind.default("remote"),
  title: z.string().trim().min(1).max(200).optional(),
  durationMinutes: Duration.default(60),
  slots: z.array(TimeInput).min(1).max(5),
  installOs: InstallOs.optional(),
  expiresInHours: z
    .number()
    .int()
    .min(1)
    .max(24 * 14)
    .default(72),
});

export const ProposalDto = z.object({
  id: Id,
  ticketId: Id,
  contactId: Id,
  technicianId: Id,
  status: z.enum(["open", "booked", "cancelled"]),
  expiresAt: Timestamp,
  slots: z.array(z.object({ id: Id, startsAt: Timestamp, endsAt: Timestamp })),
  appointmentId: Id.nullable(),
});

/** What the person with the booking link sees (no sign-in): enough to decide, nothing more. */
export const PublicBookingDto = z.object({
  mspName: z.string(),
  technicianName: z.string(),
  ticketNumber: z.number().int(),
  ticketSubject: z.string(),
  kind: AppointmentKind,
  durationMinutes: z.number().int(),
  /** The contact's zone: the times are shown in it. */
  timeZone: z.string(),
  status: z.enum(["open", "booked", "cancelled", "expired"]),
  slots: z.array(z.object({ id: Id, startsAt: Timestamp, endsAt: Timestamp })),
  booked: z.object({ startsAt: Timestamp, endsAt: Timestamp }).nullable(),
});

export const BookSlotRequest = z.object({ slotId: Id });

export const DispatchQuery = z.object({ from: Timestamp, to: Timestamp });
export const DispatchDto = z.object({
  technicians: z.array(z.object({ id: Id, name: z.string(), timezone: z.string() })),
  appointments: z.array(AppointmentDto),
});

export const FreeSlotsQuery = z.object({
  from: z.iso.date(),
  days: z.coerce.number().int().min(1).max(14).default(5),
  durationMinutes: z.coerce.number().int().min(15).max(480).default(60),
});
export const FreeSlotsDto = z.object({
  timeZone: z.string(),
  slots: z.array(z.object({ startsAt: Timestamp, endsAt: Timestamp })),
});
