import { randomUUID } from "node:crypto";
import type { AppointmentDto, CreateAppointmentRequest, UpdateAppointmentRequest } from "@switchboard/shared";
import { sql, type Transaction } from "kysely";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import type { AppointmentKind, DB, InstallOs } from "../../db/schema.ts";
import { AppError, invalid, notFound, versionConflict } from "../../http/errors.ts";
import type { Boss } from "../../lib/jobs.ts";
import { bossDb } from "../../lib/jobs.ts";
import { writeAudit } from "../audit/audit.ts";
import { type Actor, assertClientVisible, canSeeClient, requireWriter } from "../auth/actor.ts";
import type { EmailDeps } from "../email/deps.ts";
import { BUILTIN_STATUS, lockTicket } from "../tickets/queries.ts";
import { insertEntry } from "../tickets/timeline.ts";
import { applyChanges } from "../tickets/update.ts";
import { sendInvites } from "./invites.ts";
import { clashError, clashOf, resolveTime } from "./times.ts";

type Trx = Transaction<DB>;

export const REMINDER_QUEUE = "appointment.reminder";
export const ENDED_QUEUE = "appointment.ended";
/** Reminders go out this long before the start. */
export const REMINDER_MINUTES = 60;

export interface SchedulingDeps extends Omit<EmailDeps, "boss"> {
  boss: Boss | null;
}

function bossOf(deps: SchedulingDeps): Boss {
  if (!deps.boss) throw new AppError("internal_error", 500, "The job queue is not running in this process");
  return deps.boss;
}

/** Appointments with the names the screens show beside them. */
function selectAppointments(db: Database | Trx) {
  return db
    .selectFrom("appointments as a")
    .innerJoin("clients as c", "c.id", "a.client_id")
    .innerJoin("users as u", "u.id", "a.technician_id")
    .leftJoin("tickets as t", "t.id", "a.ticket_id")
    .leftJoin("contacts as p", "p.id", "a.contact_id")
    .leftJoin("sites as s", "s.id", "a.site_id")
    .selectAll("a")
    .select([
      "c.name as client_name",
      "u.name as technician_name",
      "t.number as ticket_number",
      sql<string | null>`nullif(trim(p.first_name || ' ' || p.last_name), '')`.as("contact_name"),
      "s.name as site_name",
    ]);
}

export async function loadAppointment(db: Database | Trx, id: string): Promise<AppointmentDto | null> {
  const r = await selectAppointments(db).where("a.id", "=", id).executeTakeFirst();
  return r ? toAppointmentDto(r) : null;
}

export async function appointmentsOfTicket(db: Database, actor: Actor, ticketId: string) {
  const rows = await selectAppointments(db)
    .where("a.ticket_id", "=", ticketId)
    .orderBy("a.starts_at")
    .execute();
  return rows.filter((r) => canSeeClient(actor, r.client_id)).map(toAppointmentDto);
}

export function toAppointmentDto(r: {
  id: string;
  client_id: string;
  client_name: string;
  ticket_id: string | null;
  ticket_number: number | null;
  technician_id: string;
  technician_name: string;
  contact_id: string | null;
  contact_name: string | null;
  site_id: string | null;
  site_name: string | null;
  kind: AppointmentKind;
  title: string;
  starts_at: Date;
  ends_at: Date;
  status: "confirmed" | "cancelled" | "completed";
  sequence: number;
  notes: string;
  install_os: InstallOs | null;
  device_id: string | null;
  version: number;
}): AppointmentDto {
  return {
    id: r.id,
    clientId: r.client_id,
    clientName: r.client_name,
    ticketId: r.ticket_id,
    ticketNumber: r.ticket_number,
    technicianId: r.technician_id,
    technicianName: r.technician_name,
    contactId: r.contact_id,
    contactName: r.contact_name,
    siteId: r.site_id,
    siteName: r.site_name,
    kind: r.kind,
    title: r.title,
    startsAt: r.starts_at.toISOString(),
    endsAt: r.ends_at.toISOString(),
    status: r.status,
    sequence: r.sequence,
    notes: r.notes,
    installOs: r.install_os,
    deviceId: r.device_id,
    version: r.version,
  };
}

/** Puts the ticket in the built-in Scheduled status (or back to Open), unless it is closed or resolved. */
async function moveTicket(trx: Trx, actor: Actor, ticketId: string | null, to: "scheduled" | "open") {
  if (!ticketId) return;
  const row = await lockTicket(trx, ticketId);
  if (!row || row.merged_into_id || row.status_category === "resolved" || row.status_category === "closed")
    return;
  if (to === "open" && row.status_category !== "scheduled") return;
  if (to === "scheduled" && row.status_category === "scheduled") return;
  await applyChanges(trx, actor, row, { statusId: BUILTIN_STATUS[to].id });
}

/** The reminder before the start and the hand-back after the end: jobs that check they are still due. */
async function scheduleJobs(
  deps: SchedulingDeps,
  trx: Trx,
  a: { id: string; sequence: number; starts_at: Date; ends_at: Date },
) {
  const boss = bossOf(deps);
  const remindAt = new Date(a.starts_at.getTime() - REMINDER_MINUTES * 60_000);
  const opts = { db: bossDb(trx), retryLimit: 5, retryDelay: 60 };
  if (remindAt.getTime() > Date.now()) {
    await boss.send(REMINDER_QUEUE, { id: a.id, sequence: a.sequence }, { ...opts, startAfter: remindAt });
  }
  await boss.send(ENDED_QUEUE, { id: a.id, sequence: a.sequence }, { ...opts, startAfter: a.ends_at });
}

export interface NewAppointment {
  clientId: string;
  ticketId: string | null;
  technicianId: string;
  contactId: string | null;
  siteId: string | null;
  kind: AppointmentKind;
  title: string;
  start: Date;
  end: Date;
  notes: string;
  installOs: InstallOs | null;
  notifyContact: boolean;
}

/**
 * Books an appointment in the caller's transaction: refuses a clash with the technician's other
 * appointments, moves the ticket to Scheduled with a timeline note, queues the invites (ICS REQUEST to
 * the technician and the contact) and the reminder and end jobs; with an agent install, mints a
 * single-use enrollment token whose install command goes in the contact's invite.
 */
export async function bookInTx(
  deps: SchedulingDeps,
  trx: Trx,
  actor: Actor,
  n: NewAppointment,
  ctx: { baseUrl: string },
) {
  if (n.start.getTime() < Date.now() - 5 * 60_000) throw invalid("body.start", "is in the past");
  const clash = await clashOf(trx, n.technicianId, n.start, n.end);
  if (clash) throw clashError(clash);
  const row = await trx
    .insertInto("appointments")
    .values({
      client_id: n.clientId,
      ticket_id: n.ticketId,
      technician_id: n.technicianId,
      contact_id: n.contactId,
      site_id: n.siteId,
      kind: n.kind,
      title: n.title,
      starts_at: n.start,
      ends_at: n.end,
      notes: n.notes,
      install_os: n.installOs,
      ical_uid: `${randomUUID()}@switchboard`,
      created_by_user_id: actor.userId,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  await moveTicket(trx, actor, n.ticketId, "scheduled");
  if (n.ticketId) {
    await insertEntry(
      trx,
      actor,
      { id: n.ticketId },
      {
        kind: "event",
        visibility: "internal",
        event: {
          type: "appointment_booked",
          appointmentId: row.id,
          startsAt: row.starts_at.toISOString(),
          endsAt: row.ends_at.toISOString(),
          kind: row.kind,
        },
      },
    );
  }
  await writeAudit(trx, actor, {
    action: "appointment.book",
    entityType: "appointment",
    entityId: row.id,
    clientId: n.clientId,
    after: {
      technicianId: n.technicianId,
      ticketId: n.ticketId,
      startsAt: row.starts_at,
      endsAt: row.ends_at,
      kind: n.kind,
    },
  });
  await sendInvites(deps, trx, row.id, {
    method: "REQUEST",
    notifyContact: n.notifyContact,
    baseUrl: ctx.baseUrl,
    mintInstallToken: !!n.installOs,
  });
  await scheduleJobs(deps, trx, row);
  return row.id;
}

/** Dispatch books directly: a technician, a ticket (or a client), a time. */
export async function createAppointment(
  deps: SchedulingDeps,
  actor: Actor,
  input: z.output<typeof CreateAppointmentRequest>,
  ctx: { baseUrl: string },
) {
  requireWriter(actor);
  const start = resolveTime(input.start, "body.start");
  const end = new Date(start.getTime() + input.durationMinutes * 60_000);
  const id = await deps.db.transaction().execute(async (trx) => {
    const t = await trx
      .selectFrom("tickets")
      .select(["id", "client_id", "subject", "contact_id"])
      .where("id", "=", input.ticketId)
      .executeTakeFirst();
    if (!t || !canSeeClient(actor, t.client_id)) throw invalid("body.ticketId", "no such ticket");
    const clientId = t.client_id;
    const title = input.title ?? t.subject;
    const contactId = input.contactId ?? t.contact_id;
    const tech = await trx
      .selectFrom("users")
      .select(["id", "active", "all_clients"])
      .where("id", "=", input.technicianId)
      .executeTakeFirst();
    if (!tech?.active) throw invalid("body.technicianId", "no such technician");
    if (contactId) {
      const c = await trx
        .selectFrom("contacts")
        .select("client_id")
        .where("id", "=", contactId)
        .executeTakeFirst();
      if (c?.client_id !== clientId) throw invalid("body.contactId", "is not a contact of this client");
    }
    if (input.siteId) {
      const s = await trx
        .selectFrom("sites")
        .select("client_id")
        .where("id", "=", input.siteId)
        .executeTakeFirst();
      if (s?.client_id !== clientId) throw invalid("body.siteId", "is not a site of this client");
    }
    return bookInTx(
      deps,
      trx,
      actor,
      {
        clientId,
        ticketId: input.ticketId ?? null,
        technicianId: input.technicianId,
        contactId,
        siteId: input.siteId ?? null,
        kind: input.kind,
        title,
        start,
        end,
        notes: input.notes,
        installOs: input.installOs ?? null,
        notifyContact: input.notifyContact,
      },
      ctx,
    );
  });
  return (await loadAppointment(deps.db, id))!;
}

async function lockAppointment(trx: Trx, actor: Actor, id: string) {
  const row = await trx
    .selectFrom("appointments")
    .selectAll()
    .where("id", "=", id)
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw notFound("Appointment");
  assertClientVisible(actor, row.client_id, "Appointment");
  return row;
}

/** A new time or technician: the invite is updated in place (same UID, SEQUENCE + 1). */
export async function updateAppointment(
  deps: SchedulingDeps,
  actor: Actor,
  id: string,
  input: z.output<typeof UpdateAppointmentRequest>,
  ctx: { baseUrl: string },
) {
  requireWriter(actor);
  await deps.db.transaction().execute(async (trx) => {
    const before = await lockAppointment(trx, actor, id);
    if (before.version !== input.version)
      throw versionConflict("appointment", await loadAppointment(trx, id));
    if (before.status !== "confirmed")
      throw new AppError("invalid_transition", 409, `The appointment is ${before.status}`);
    const start = input.start ? resolveTime(input.start, "body.start") : before.starts_at;
    const minutes =
      input.durationMinutes ?? Math.round((before.ends_at.getTime() - before.starts_at.getTime()) / 60_000);
    const end = new Date(start.getTime() + minutes * 60_000);
    const technicianId = input.technicianId ?? before.technician_id;
    if (input.start && start.getTime() < Date.now() - 5 * 60_000)
      throw invalid("body.start", "is in the past");
    const clash = await clashOf(trx, technicianId, start, end, id);
    if (clash) throw clashError(clash);
    const timing =
      start.getTime() !== before.starts_at.getTime() ||
      end.getTime() !== before.ends_at.getTime() ||
      technicianId !== before.technician_id;
    const after = await trx
      .updateTable("appointments")
      .set((eb) => ({
        starts_at: start,
        ends_at: end,
        technician_id: technicianId,
        notes: input.notes,
        kind: input.kind,
        sequence: timing || input.kind ? eb("sequence", "+", 1) : eb.ref("sequence"),
        version: eb("version", "+", 1),
        updated_at: new Date(),
      }))
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await writeAudit(trx, actor, {
      action: "appointment.update",
      entityType: "appointment",
      entityId: id,
      clientId: before.client_id,
      before: { startsAt: before.starts_at, endsAt: before.ends_at, technicianId: before.technician_id },
      after: { startsAt: after.starts_at, endsAt: after.ends_at, technicianId: after.technician_id },
    });
    if (timing || input.kind) {
      if (after.ticket_id) {
        await insertEntry(
          trx,
          actor,
          { id: after.ticket_id },
          {
            kind: "event",
            visibility: "internal",
            event: {
              type: "appointment_moved",
              appointmentId: id,
              startsAt: after.starts_at.toISOString(),
              endsAt: after.ends_at.toISOString(),
            },
          },
        );
      }
      // The technician who lost the visit is told it is off their calendar.
      if (technicianId !== before.technician_id) {
        await sendInvites(deps, trx, id, {
          method: "CANCEL",
          notifyContact: false,
          baseUrl: ctx.baseUrl,
          technicianId: before.technician_id,
        });
      }
      await sendInvites(deps, trx, id, { method: "REQUEST", notifyContact: true, baseUrl: ctx.baseUrl });
      await scheduleJobs(deps, trx, after);
    }
  });
  return (await loadAppointment(deps.db, id))!;
}

export async function cancelAppointment(
  deps: SchedulingDeps,
  actor: Actor,
  id: string,
  reason: string,
  ctx: { baseUrl: string },
) {
  requireWriter(actor);
  await deps.db.transaction().execute(async (trx) => {
    const before = await lockAppointment(trx, actor, id);
    if (before.status !== "confirmed")
      throw new AppError("invalid_transition", 409, `The appointment is ${before.status}`);
    await trx
      .updateTable("appointments")
      .set((eb) => ({
        status: "cancelled",
        sequence: eb("sequence", "+", 1),
        version: eb("version", "+", 1),
        updated_at: new Date(),
      }))
      .where("id", "=", id)
      .execute();
    if (before.ticket_id) {
      await insertEntry(
        trx,
        actor,
        { id: before.ticket_id },
        {
          kind: "event",
          visibility: "internal",
          event: {
            type: "appointment_cancelled",
            appointmentId: id,
            startsAt: before.starts_at.toISOString(),
            reason,
          },
        },
      );
    }
    await moveTicket(trx, actor, before.ticket_id, "open");
    await writeAudit(trx, actor, {
      action: "appointment.cancel",
      entityType: "appointment",
      entityId: id,
      clientId: before.client_id,
      after: { reason },
    });
    await sendInvites(deps, trx, id, { method: "CANCEL", notifyContact: true, baseUrl: ctx.baseUrl, reason });
  });
  return (await loadAppointment(deps.db, id))!;
}

/** The end job: a confirmed appointment whose time has passed is completed and its ticket handed back. */
export async function completeIfDue(deps: SchedulingDeps, actor: Actor, id: string, sequence: number) {
  await deps.db.transaction().execute(async (trx) => {
    const a = await trx
      .selectFrom("appointments")
      .selectAll()
      .where("id", "=", id)
      .forUpdate()
      .executeTakeFirst();
    // A moved or cancelled appointment has a newer sequence (or another status): this job is stale.
    if (a?.status !== "confirmed" || a.sequence !== sequence || a.ends_at.getTime() > Date.now()) return;
    await trx
      .updateTable("appointments")
      .set({ status: "completed", updated_at: new Date() })
      .where("id", "=", id)
      .execute();
    if (a.ticket_id) {
      await insertEntry(
        trx,
        actor,
        { id: a.ticket_id },
        {
          kind: "event",
          visibility: "internal",
          event: { type: "appointment_completed", appointmentId: id, endsAt: a.ends_at.toISOString() },
        },
      );
    }
    await moveTicket(trx, actor, a.ticket_id, "open");
  });
}

export async function listDispatch(db: Database, actor: Actor, from: Date, to: Date) {
  if (to.getTime() - from.getTime() > 45 * 86_400_000)
    throw invalid("query.to", "the calendar shows at most 45 days");
  if (to <= from) throw invalid("query.to", "must be after from");
  const technicians = await db
    .selectFrom("users")
    .select(["id", "name", "timezone"])
    .where("active", "=", true)
    .where("role", "in", ["admin", "dispatcher", "technician"])
    .orderBy("name")
    .execute();
  let q = selectAppointments(db)
    .where("a.starts_at", "<", to)
    .where("a.ends_at", ">", from)
    .where("a.status", "!=", "cancelled")
    .orderBy("a.starts_at");
  if (actor.clientIds) {
    if (!actor.clientIds.length) return { technicians, appointments: [] };
    q = q.where("a.client_id", "in", [...actor.clientIds]);
  }
  return { technicians, appointments: (await q.limit(5000).execute()).map(toAppointmentDto) };
}
