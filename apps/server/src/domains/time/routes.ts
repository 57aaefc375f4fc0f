import {
  CreateTimeEntryRequest,
  ErrorResponse,
  IdParams,
  ReverseTimeEntryRequest,
  StartTimerRequest,
  StopTimerRequest,
  TimeEntryDto,
  TimeEntryListQuery,
  TimerDto,
  TimesheetDecisionRequest,
  TimesheetDto,
  TimesheetQuery,
  UpdateTimeEntryRequest,
} from "@switchboard/shared";
import { z } from "zod";
import type { App, AppDeps } from "../../app.ts";
import { actorOf } from "../../http/auth.ts";
import { rolesOnly, signedIn, writers } from "../../http/policy.ts";
import {
  createEntry,
  deleteEntry,
  listEntries,
  myTimer,
  reverseEntry,
  startTimer,
  stopTimer,
  updateEntry,
} from "./service.ts";
import { decideTimesheet, getTimesheet, submitTimesheet } from "./timesheets.ts";

const tags = ["time"];
const errors = { 400: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse };

export async function timeRoutes(app: App, deps: AppDeps) {
  const { db } = deps;
  app.get(
    "/api/v1/time-entries",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "Time entries (mine; anyone's for admins and dispatchers)",
        querystring: TimeEntryListQuery,
        response: { 200: z.array(TimeEntryDto) },
      },
    },
    async (req) => listEntries(db, actorOf(req), req.query),
  );
  app.post(
    "/api/v1/time-entries",
    {
      config: writers,
      schema: {
        tags,
        summary: "Log time by hand",
        body: CreateTimeEntryRequest,
        response: { 201: TimeEntryDto, ...errors },
      },
    },
    async (req, reply) => reply.code(201).send(await createEntry(db, actorOf(req), req.body)),
  );
  app.patch(
    "/api/v1/time-entries/:id",
    {
      config: writers,
      schema: {
        tags,
        summary: "Change an entry that is not locked",
        params: IdParams,
        body: UpdateTimeEntryRequest,
        response: { 200: TimeEntryDto, ...errors },
      },
    },
    async (req) => updateEntry(db, actorOf(req), req.params.id, req.body),
  );
  app.delete(
    "/api/v1/time-entries/:id",
    { config: writers, schema: { tags, summary: "Delete an entry that is not locked", params: IdParams } },
    async (req, reply) => {
      await deleteEntry(db, actorOf(req), req.params.id);
      return reply.code(204).send();
    },
  );
  app.post(
    "/api/v1/time-entries/:id/reverse",
    {
      config: writers,
      schema: {
        tags,
        summary: "Reverse an entry (the correction for locked time)",
        params: IdParams,
        body: ReverseTimeEntryRequest,
        response: { 201: TimeEntryDto, ...errors },
      },
    },
    async (req, reply) =>
      reply.code(201).send(await reverseEntry(db, actorOf(req), req.params.id, req.body.reason)),
  );
  app.get(
    "/api/v1/timer",
    { config: signedIn, schema: { tags, summary: "My running timer", response: { 200: TimerDto } } },
    async (req) => myTimer(db, actorOf(req)),
  );
  app.post(
    "/api/v1/timer/start",
    {
      config: writers,
      schema: {
        tags,
        summary: "Start my timer (stops the one running)",
        body: StartTimerRequest,
        response: { 200: TimerDto, ...errors },
      },
    },
    async (req) => startTimer(db, actorOf(req), req.body),
  );
  app.post(
    "/api/v1/timer/stop",
    {
      config: writers,
      schema: { tags, summary: "Stop my timer", body: StopTimerRequest, response: { 200: TimerDto } },
    },
    async (req) => stopTimer(db, actorOf(req), req.body.note),
  );
  app.get(
    "/api/v1/timesheets",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "A technician's week",
        querystring: TimesheetQuery,
        response: { 200: TimesheetDto, ...errors },
      },
    },
    async (req) => getTimesheet(db, actorOf(req), req.query),
  );
  app.post(
    "/api/v1/timesheets/submit",
    {
      config: writers,
      schema: {
        tags,
        summary: "Submit my week for approval",
        body: z.object({ week: z.iso.date() }),
        response: { 200: TimesheetDto, ...errors },
      },
    },
    async (req) => submitTimesheet(db, actorOf(req), req.body.week),
  );
  app.post(
    "/api/v1/timesheets/:id/decision",
    {
      config: rolesOnly(["admin", "dispatcher"], { allClients: true }),
      schema: {
        tags,
        summary: "Approve, reject or (admins) reopen a week",
        params: IdParams,
        body: TimesheetDecisionRequest,
        response: { 200: TimesheetDto, ...errors },
      },
    },
    async (req) => decideTimesheet(db, actorOf(req), req.params.id, req.body),
  );
}
