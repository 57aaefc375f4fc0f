import type { ProposeTimesRequest, PublicBookingDto } from "@switchboard/shared";
import type { z } from "zod";
import { AppError, invalid, notFound } from "../../http/errors.ts";
import { writeAudit } from "../audit/audit.ts";
import { type Actor, canSeeClient, requireUser, requireWriter, systemActor } from "../auth/actor.ts";
import { newSecret, sha256 } from "../auth/crypto.ts";
import { queueTemplated } from "../email/outbound.ts";
import { insertEntry } from "../tickets/timeline.ts";
import { bookInTx, loadAppointment, type SchedulingDeps } from "./appointments.ts";
import { clashError, clashOf, contactZone, describeInstant, describeSpan, resolveTime } from "./times.ts";

/**
 * "Propose times": the technician offers two or three slots; the contact gets an email with a link per
 * slot and picks one. The link's token is the only credential: 32 random bytes, stored as a SHA-256,
 * good once and until it expires; the slot it books must be one of the proposal's.
 */
export async function proposeTimes(
  deps: SchedulingDeps,
  actor: Actor,
  ticketId: string,
  input: z.output<typeof ProposeTimesRequest>,
  ctx: { baseUrl: string },
) {
  requireWriter(actor);
  const technicianId = input.technicianId ?? requireUser(actor);
  const slots = input.slots.map((s, i) => {
    const start = resolveTime(s, `body.slots.${i}`);
    if (start.getTime() < Date.now()) throw invalid(`body.slots.${i}`, "is in the past");
    return { start, end: new Date(start.getTime() + input.durationMinutes * 60_000) };
  });
  if (!deps.boss) throw new AppError("internal_error", 500, "The job queue is not running in this process");
  const emailDeps = { ...deps, boss: deps.boss };
  const token = newSecret("sbb_");
  const proposalId = await deps.db.transaction().execute(async (trx) => {
    const ticket = await trx
      .selectFrom("tickets")
      .select(["id", "client_id", "subject", "number"])
      .where("id", "=", ticketId)
      .executeTakeFirst();
    if (!ticket || !canSeeClient(actor, ticket.client_id)) throw notFound("Ticket");
    const contact = await trx
      .selectFrom("contacts")
      .select(["id", "client_id", "emails", "first_name"])
      .where("id", "=", input.contactId)
      .executeTakeFirst();
    if (contact?.client_id !== ticket.client_id)
      throw invalid("body.contactId", "is not a contact of this client");
    const to = contact.emails[0];
    if (!to) throw invalid("body.contactId", "has no email address to send the times to");
    const tech = await trx
      .selectFrom("users")
      .select(["id", "name", "active"])
      .where("id", "=", technicianId)
      .executeTakeFirst();
    if (!tech?.active) throw invalid("body.technicianId", "no such technician");
    for (const [i, s] of slots.entries()) {
      const clash = await clashOf(trx, technicianId, s.start, s.end);
      if (clash) throw invalid(`body.slots.${i}`, clashError(clash).message);
    }
    const proposal = await trx
      .insertInto("appointment_proposals")
      .values({
        client_id: ticket.client_id,
        ticket_id: ticket.id,
        contact_id: contact.id,
        technician_id: technicianId,
        kind: input.kind,
        title: input.title ?? ticket.subject,
        install_os: input.installOs ?? null,
        token_hash: sha256(token),
        expires_at: new Date(Date.now() + input.expiresInHours * 3600_000),
        created_by_user_id: actor.userId,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    const saved = await trx
      .insertInto("appointment_proposal_slots")
      .values(
        slots.map((s) => ({
          client_id: ticket.client_id,
          proposal_id: proposal.id,
          starts_at: s.start,
          ends_at: s.end,
        })),
      )
      .returning(["id", "starts_at", "ends_at"])
      .execute();
    const zone = await contactZone(trx, contact.id, ticket.client_id);
    const link = `${ctx.baseUrl}/book/${token}`;
    const options = saved
      .sort((a, b) => a.starts_at.getTime() - b.starts_at.getTime())
      .map((s) => `- ${describeSpan(s.starts_at, s.ends_at, zone)}: ${link}?slot=${s.id}`);
    await queueTemplated(emailDeps, trx, {
      template: "appointment_proposal",
      ticketId: ticket.id,
      to: [to],
      body: [
        `${tech.name} can ${input.kind === "remote" ? "connect remotely" : "come by"} about ticket #${ticket.number} at one of these times. Choose the one that suits you:`,
        "",
        ...options,
        "",
        `Or open ${link} to see them all. The link works once, until ${describeInstant(new Date(Date.now() + input.expiresInHours * 3600_000), zone)}.`,
      ].join("\n"),
    });
    await insertEntry(
      trx,
      actor,
      { id: ticket.id },
      {
        kind: "event",
        visibility: "internal",
        event: {
          type: "times_proposed",
          proposalId: proposal.id,
          slots: saved.map((s) => s.starts_at.toISOString()),
          contactId: contact.id,
        },
      },
    );
    await writeAudit(trx, actor, {
      action: "appointment.propose",
      entityType: "appointment_proposal",
      entityId: proposal.id,
      clientId: ticket.client_id,
      after: { ticketId, contactId: contact.id, technicianId, slots: saved.map((s) => s.starts_at) },
    });
    return proposal.id;
  });
  return proposalView(deps, proposalId);
}

export async function proposalView(deps: SchedulingDeps, id: string) {
  const p = await deps.db
    .selectFrom("appointment_proposals")
    .selectAll()
    .where("id", "=", id)
    .executeTakeFirstOrThrow();
  const slots = await deps.db
    .selectFrom("appointment_proposal_slots")
    .selectAll()
    .where("proposal_id", "=", id)
    .orderBy("starts_at")
    .execute();
  return {
    id: p.id,
    ticketId: p.ticket_id,
    contactId: p.contact_id,
    technicianId: p.technician_id,
    status: p.status,
    expiresAt: p.expires_at.toISOString(),
    appointmentId: p.appointment_id,
    slots: slots.map((s) => ({
      id: s.id,
      startsAt: s.starts_at.toISOString(),
      endsAt: s.ends_at.toISOString(),
    })),
  };
}

async function byToken(deps: SchedulingDeps, token: string) {
  // Shape first: anything else cannot be a token of ours, and costs no query.
  if (!/^sbb_[A-Za-z0-9_-]{20,100}$/.test(token)) throw notFound("Booking");
  const p = await deps.db
    .selectFrom("appointment_proposals")
    .selectAll()
    .where("token_hash", "=", sha256(token))
    .executeTakeFirst();
  if (!p) throw notFound("Booking");
  return p;
}

/** What the link shows. Run in the system scope by the route, once the token named a proposal. */
export async function publicBooking(deps: SchedulingDeps, token: string) {
  const p = await byToken(deps, token);
  const [ticket, tech, msp, slots] = await Promise.all([
    deps.db
      .selectFrom("tickets")
      .select(["number", "subject"])
      .where("id", "=", p.ticket_id)
      .executeTakeFirstOrThrow(),
    deps.db.selectFrom("users").select("name").where("id", "=", p.technician_id).executeTakeFirstOrThrow(),
    deps.db.selectFrom("msp").select("name").executeTakeFirst(),
    deps.db
      .selectFrom("appointment_proposal_slots")
      .selectAll()
      .where("proposal_id", "=", p.id)
      .orderBy("starts_at")
      .execute(),
  ]);
  const booked = p.appointment_id ? await loadAppointment(deps.db, p.appointment_id) : null;
  const first = slots[0];
  const status: z.infer<typeof PublicBookingDto>["status"] =
    p.status === "open" && p.expires_at.getTime() < Date.now() ? "expired" : p.status;
  return {
    mspName: msp?.name ?? "",
    technicianName: tech.name,
    ticketNumber: Number(ticket.number),
    ticketSubject: ticket.subject,
    kind: p.kind,
    durationMinutes: first ? Math.round((first.ends_at.getTime() - first.starts_at.getTime()) / 60_000) : 0,
    timeZone: await contactZone(deps.db, p.contact_id, p.client_id),
    status,
    slots:
      status === "open"
        ? slots.map((s) => ({
            id: s.id,
            startsAt: s.starts_at.toISOString(),
            endsAt: s.ends_at.toISOString(),
          }))
        : [],
    booked: booked ? { startsAt: booked.startsAt, endsAt: booked.endsAt } : null,
  };
}

/** The contact picks a slot: the appointment is booked once; a second use of the link is refused. */
export async function bookProposal(
  deps: SchedulingDeps,
  token: string,
  slotId: string,
  ctx: { baseUrl: string; ip: string },
) {
  const found = await byToken(deps, token);
  const actor = { ...systemActor("booking link"), ip: ctx.ip };
  await deps.db.transaction().execute(async (trx) => {
    const p = await trx
      .selectFrom("appointment_proposals")
      .selectAll()
      .where("id", "=", found.id)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (p.status === "booked")
      throw new AppError("invalid_transition", 409, "This link was already used to book a time");
    if (p.status === "cancelled") throw new AppError("invalid_transition", 409, "These times were withdrawn");
    if (p.expires_at.getTime() < Date.now())
      throw new AppError("invalid_transition", 409, "This link has expired; ask for new times");
    const slot = await trx
      .selectFrom("appointment_proposal_slots")
      .selectAll()
      .where("id", "=", slotId)
      .where("proposal_id", "=", p.id)
      .executeTakeFirst();
    if (!slot) throw invalid("body.slotId", "is not one of the offered times");
    const contact = await trx
      .selectFrom("contacts")
      .select("site_id")
      .where("id", "=", p.contact_id)
      .executeTakeFirst();
    const appointmentId = await bookInTx(
      deps,
      trx,
      actor,
      {
        clientId: p.client_id,
        ticketId: p.ticket_id,
        technicianId: p.technician_id,
        contactId: p.contact_id,
        siteId: contact?.site_id ?? null,
        kind: p.kind,
        title: p.title,
        start: slot.starts_at,
        end: slot.ends_at,
        notes: "",
        installOs: p.install_os,
        notifyContact: true,
      },
      ctx,
    ).catch((err: AppError) => {
      if (err.code === "conflict")
        throw new AppError("conflict", 409, "That time was just taken; choose another");
      throw err;
    });
    await trx
      .updateTable("appointment_proposals")
      .set({ status: "booked", appointment_id: appointmentId })
      .where("id", "=", p.id)
      .execute();
    await writeAudit(trx, actor, {
      action: "appointment.booked_by_link",
      entityType: "appointment_proposal",
      entityId: p.id,
      clientId: p.client_id,
      after: { appointmentId, slotId },
    });
  });
  return publicBooking(deps, token);
}
