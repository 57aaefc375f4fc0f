import {
  ClientSlaRequest,
  ErrorResponse,
  IdParams,
  SaveSlaCalendarRequest,
  SaveSlaPolicyRequest,
  SlaCalendarDto,
  SlaPolicyDto,
  SlaReportDto,
  SlaReportQuery,
  TicketSlaDto,
} from "@switchboard/shared";
import { z } from "zod";
import type { App, AppDeps } from "../../app.ts";
import { actorOf } from "../../http/auth.ts";
import { rolesOnly, signedIn } from "../../http/policy.ts";
import { listCalendars, listPolicies, saveCalendar, savePolicy, setClientPolicy } from "./admin.ts";
import { slaReport, ticketSla } from "./view.ts";

const tags = ["sla"];
const errors = { 400: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse };
const adminsOfAll = rolesOnly(["admin"], { allClients: true });

export async function slaRoutes(app: App, deps: AppDeps) {
  app.get(
    "/api/v1/sla/calendars",
    {
      config: signedIn,
      schema: { tags, summary: "Business-hours calendars", response: { 200: z.array(SlaCalendarDto) } },
    },
    async () => listCalendars(deps.db),
  );
  app.post(
    "/api/v1/sla/calendars",
    {
      config: adminsOfAll,
      schema: {
        tags,
        summary: "Create a calendar (weekday hours in a zone, holidays; or 24/7)",
        body: SaveSlaCalendarRequest,
        response: { 201: SlaCalendarDto, ...errors },
      },
    },
    async (req, reply) => reply.code(201).send(await saveCalendar(deps, actorOf(req), null, req.body)),
  );
  app.put(
    "/api/v1/sla/calendars/:id",
    {
      config: adminsOfAll,
      schema: {
        tags,
        summary: "Replace a calendar; open tickets' clocks are recomputed",
        params: IdParams,
        body: SaveSlaCalendarRequest,
        response: { 200: SlaCalendarDto, ...errors },
      },
    },
    async (req) => saveCalendar(deps, actorOf(req), req.params.id, req.body),
  );
  app.get(
    "/api/v1/sla/policies",
    {
      config: signedIn,
      schema: { tags, summary: "SLA policies with their clients", response: { 200: z.array(SlaPolicyDto) } },
    },
    async () => listPolicies(deps.db),
  );
  app.post(
    "/api/v1/sla/policies",
    {
      config: adminsOfAll,
      schema: {
        tags,
        summary: "Create an SLA policy (targets per priority on a calendar)",
        body: SaveSlaPolicyRequest,
        response: { 201: SlaPolicyDto, ...errors },
      },
    },
    async (req, reply) => reply.code(201).send(await savePolicy(deps, actorOf(req), null, req.body)),
  );
  app.put(
    "/api/v1/sla/policies/:id",
    {
      config: adminsOfAll,
      schema: {
        tags,
        summary: "Replace an SLA policy; open tickets' clocks are recomputed",
        params: IdParams,
        body: SaveSlaPolicyRequest,
        response: { 200: SlaPolicyDto, ...errors },
      },
    },
    async (req) => savePolicy(deps, actorOf(req), req.params.id, req.body),
  );
  app.put(
    "/api/v1/clients/:id/sla-policy",
    {
      config: rolesOnly(["admin", "dispatcher"]),
      schema: {
        tags,
        summary: "Assign a client's SLA policy (null: the MSP default)",
        params: IdParams,
        body: ClientSlaRequest,
        response: { 200: ClientSlaRequest, ...errors },
      },
    },
    async (req) => setClientPolicy(deps, actorOf(req), req.params.id, req.body.policyId),
  );
  app.get(
    "/api/v1/tickets/:id/sla",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "A ticket's SLA clock now, with the intervals that counted and paused",
        params: IdParams,
        response: { 200: TicketSlaDto, ...errors },
      },
    },
    async (req) => ticketSla(deps.db, actorOf(req), req.params.id),
  );
  app.get(
    "/api/v1/reports/sla",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "Met and breached per client and priority for tickets created in a month",
        querystring: SlaReportQuery,
        response: { 200: SlaReportDto, ...errors },
      },
    },
    async (req) => slaReport(deps.db, req.query.month),
  );
}
