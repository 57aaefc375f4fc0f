import {
  AppointmentDto,
  BookSlotRequest,
  CancelAppointmentRequest,
  CreateAppointmentRequest,
  DispatchDto,
  DispatchQuery,
  ErrorResponse,
  FreeSlotsDto,
  FreeSlotsQuery,
  IdParams,
  ProposalDto,
  ProposeTimesRequest,
  PublicBookingDto,
  UpdateAppointmentRequest,
} from "@switchboard/shared";
import type { FastifyRequest } from "fastify";
import { z } from "zod";
import type { App, AppDeps } from "../../app.ts";
import { asSystem } from "../../db/scope.ts";
import { actorOf } from "../../http/auth.ts";
import { notFound } from "../../http/errors.ts";
import { publicRoute, signedIn, writers } from "../../http/policy.ts";
import { canSeeClient } from "../auth/actor.ts";
import {
  appointmentsOfTicket,
  cancelAppointment,
  createAppointment,
  listDispatch,
  loadAppointment,
  type SchedulingDeps,
  updateAppointment,
} from "./appointments.ts";
import { bookProposal, proposalView, proposeTimes, publicBooking } from "./proposals.ts";
import { freeSlots } from "./times.ts";

const tags = ["scheduling"];
const errors = { 400: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse };
const TokenParams = z.object({ token: z.string().min(1).max(200) });

export async function schedulingRoutes(app: App, deps: AppDeps) {
  // The same deps object the app holds (not a copy): the job queue is read when a request needs it.
  const sched: SchedulingDeps = deps;
  // Links in mail point where people reach this server.
  const baseUrl = (req: FastifyRequest) =>
    (deps.config.SWITCHBOARD_PUBLIC_URL ?? `${req.protocol}://${req.headers.host}`).replace(/\/$/, "");

  app.get(
    "/api/v1/dispatch",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "Technicians and their appointments in a window (the dispatch calendar)",
        querystring: DispatchQuery,
        response: { 200: DispatchDto, ...errors },
      },
    },
    async (req) => listDispatch(deps.db, actorOf(req), new Date(req.query.from), new Date(req.query.to)),
  );
  app.get(
    "/api/v1/users/:id/free-slots",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "A technician's free times in working hours",
        params: IdParams,
        querystring: FreeSlotsQuery,
        response: { 200: FreeSlotsDto, ...errors },
      },
    },
    async (req) =>
      freeSlots(deps.db, req.params.id, req.query.from, req.query.days, req.query.durationMinutes),
  );
  app.post(
    "/api/v1/appointments",
    {
      config: writers,
      schema: {
        tags,
        summary: "Book an appointment on a ticket (invites go out)",
        body: CreateAppointmentRequest,
        response: { 201: AppointmentDto, ...errors },
      },
    },
    async (req, reply) =>
      reply.code(201).send(await createAppointment(sched, actorOf(req), req.body, { baseUrl: baseUrl(req) })),
  );
  app.get(
    "/api/v1/appointments/:id",
    { config: signedIn, schema: { tags, params: IdParams, response: { 200: AppointmentDto, ...errors } } },
    async (req) => {
      const a = await loadAppointment(deps.db, req.params.id);
      if (!a || !canSeeClient(actorOf(req), a.clientId)) throw notFound("Appointment");
      return a;
    },
  );
  app.get(
    "/api/v1/tickets/:id/appointments",
    { config: signedIn, schema: { tags, params: IdParams, response: { 200: z.array(AppointmentDto) } } },
    async (req) => appointmentsOfTicket(deps.db, actorOf(req), req.params.id),
  );
  app.patch(
    "/api/v1/appointments/:id",
    {
      config: writers,
      schema: {
        tags,
        summary: "Move an appointment (the invites are updated)",
        params: IdParams,
        body: UpdateAppointmentRequest,
        response: { 200: AppointmentDto, ...errors },
      },
    },
    async (req) => updateAppointment(sched, actorOf(req), req.params.id, req.body, { baseUrl: baseUrl(req) }),
  );
  app.post(
    "/api/v1/appointments/:id/cancel",
    {
      config: writers,
      schema: {
        tags,
        summary: "Cancel (the invites are withdrawn)",
        params: IdParams,
        body: CancelAppointmentRequest,
        response: { 200: AppointmentDto, ...errors },
      },
    },
    async (req) =>
      cancelAppointment(sched, actorOf(req), req.params.id, req.body.reason, { baseUrl: baseUrl(req) }),
  );
  app.post(
    "/api/v1/tickets/:id/proposals",
    {
      config: writers,
      schema: {
        tags,
        summary: "Propose times to the contact (they pick one by a link)",
        params: IdParams,
        body: ProposeTimesRequest,
        response: { 201: ProposalDto, ...errors },
      },
    },
    async (req, reply) =>
      reply
        .code(201)
        .send(await proposeTimes(sched, actorOf(req), req.params.id, req.body, { baseUrl: baseUrl(req) })),
  );
  app.get(
    "/api/v1/proposals/:id",
    { config: signedIn, schema: { tags, params: IdParams, response: { 200: ProposalDto, ...errors } } },
    async (req) => {
      const p = await deps.db
        .selectFrom("appointment_proposals")
        .select("client_id")
        .where("id", "=", req.params.id)
        .executeTakeFirst();
      if (!p || !canSeeClient(actorOf(req), p.client_id)) throw notFound("Proposal");
      return proposalView(sched, req.params.id);
    },
  );
  // The booking link: its token is the credential, checked inside; then the work is the system's.
  app.get(
    "/api/v1/public/bookings/:token",
    {
      config: publicRoute,
      schema: {
        tags,
        summary: "What a booking link offers (no sign-in)",
        params: TokenParams,
        response: { 200: PublicBookingDto, ...errors },
      },
    },
    async (req) => asSystem(() => publicBooking(sched, req.params.token)),
  );
  app.post(
    "/api/v1/public/bookings/:token",
    {
      config: publicRoute,
      schema: {
        tags,
        summary: "Book one of the offered times (once)",
        params: TokenParams,
        body: BookSlotRequest,
        response: { 200: PublicBookingDto, ...errors },
      },
    },
    async (req) =>
      asSystem(() =>
        bookProposal(sched, req.params.token, req.body.slotId, { baseUrl: baseUrl(req), ip: req.ip }),
      ),
  );
}
