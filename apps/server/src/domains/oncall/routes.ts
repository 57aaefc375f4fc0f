import {
  AckLinkDto,
  AckLinkRequest,
  CreateOverrideRequest,
  ErrorResponse,
  IdParams,
  PageDto,
  PagesQuery,
  RotationDto,
  SaveRotationRequest,
  ShiftsDto,
  ShiftsQuery,
} from "@switchboard/shared";
import { z } from "zod";
import type { App, AppDeps } from "../../app.ts";
import { actorOf } from "../../http/auth.ts";
import { publicRoute, rolesOnly, signedIn, writers } from "../../http/policy.ts";
import { smsProviderFromConfig } from "../../lib/sms.ts";
import type { SlaDeps } from "../sla/recompute.ts";
import {
  acknowledgeFromConsole,
  acknowledgeFromLink,
  addOverride,
  deleteOverride,
  listPages,
  listRotations,
  retryPage,
  rotationShifts,
  saveRotation,
} from "./service.ts";

const tags = ["on-call"];
const errors = { 400: ErrorResponse, 404: ErrorResponse, 409: ErrorResponse };
const adminsOfAll = rolesOnly(["admin"], { allClients: true });
const RotationParams = z.object({ id: z.uuid(), overrideId: z.uuid() });

export async function oncallRoutes(app: App, deps: AppDeps) {
  // The app's deps object itself (the job queue is read when a request needs it), with the SMS provider.
  const sms = smsProviderFromConfig(deps.config);
  const slaDeps = (): SlaDeps => ({
    db: deps.db,
    config: deps.config,
    blobs: deps.blobs,
    boss: deps.boss,
    sms,
  });

  app.get(
    "/api/v1/oncall/rotations",
    {
      config: signedIn,
      schema: { tags, summary: "Rotas, with who is on call now", response: { 200: z.array(RotationDto) } },
    },
    async () => listRotations(deps.db),
  );
  app.post(
    "/api/v1/oncall/rotations",
    {
      config: adminsOfAll,
      schema: {
        tags,
        summary: "Create a rota",
        body: SaveRotationRequest,
        response: { 201: RotationDto, ...errors },
      },
    },
    async (req, reply) => reply.code(201).send(await saveRotation(deps.db, actorOf(req), null, req.body)),
  );
  app.put(
    "/api/v1/oncall/rotations/:id",
    {
      config: adminsOfAll,
      schema: {
        tags,
        summary: "Replace a rota (members in order, hand-over, escalation)",
        params: IdParams,
        body: SaveRotationRequest,
        response: { 200: RotationDto, ...errors },
      },
    },
    async (req) => saveRotation(deps.db, actorOf(req), req.params.id, req.body),
  );
  app.get(
    "/api/v1/oncall/rotations/:id/shifts",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "Who is on call when (the on-call calendar); gaps have no user",
        params: IdParams,
        querystring: ShiftsQuery,
        response: { 200: ShiftsDto, ...errors },
      },
    },
    async (req) => rotationShifts(deps.db, req.params.id, new Date(req.query.from), new Date(req.query.to)),
  );
  app.post(
    "/api/v1/oncall/rotations/:id/overrides",
    {
      config: writers,
      schema: {
        tags,
        summary: "Take (or give) a stretch of the rota",
        params: IdParams,
        body: CreateOverrideRequest,
        response: { 201: z.object({ id: z.uuid() }), ...errors },
      },
    },
    async (req, reply) =>
      reply.code(201).send(await addOverride(deps.db, actorOf(req), req.params.id, req.body)),
  );
  app.delete(
    "/api/v1/oncall/rotations/:id/overrides/:overrideId",
    {
      config: writers,
      schema: {
        tags,
        summary: "Remove an override",
        params: RotationParams,
        response: { 204: z.null(), ...errors },
      },
    },
    async (req, reply) => {
      await deleteOverride(deps.db, actorOf(req), req.params.id, req.params.overrideId);
      return reply.code(204).send(null);
    },
  );
  app.get(
    "/api/v1/oncall/pages",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "Pages (active: paging or undeliverable), with every delivery and its outcome",
        querystring: PagesQuery,
        response: { 200: z.array(PageDto) },
      },
    },
    async (req) => listPages(deps.db, req.query.status),
  );
  app.post(
    "/api/v1/oncall/pages/:id/ack",
    {
      config: writers,
      schema: {
        tags,
        summary: "Acknowledge a page: stops every pending step",
        params: IdParams,
        response: { 200: PageDto, ...errors },
      },
    },
    async (req) => acknowledgeFromConsole(deps.db, actorOf(req), req.params.id),
  );
  app.post(
    "/api/v1/oncall/pages/:id/retry",
    {
      config: writers,
      schema: {
        tags,
        summary: "Send the current level again where it failed",
        params: IdParams,
        response: { 200: PageDto, ...errors },
      },
    },
    async (req) => retryPage(slaDeps(), actorOf(req), req.params.id),
  );
  // The link in the page (SMS and mail): an HMAC-signed token for one page and one person, in a POST body.
  app.post(
    "/api/v1/oncall/ack",
    {
      config: publicRoute,
      schema: {
        tags,
        summary: "Acknowledge a page from its signed link",
        body: AckLinkRequest,
        response: { 200: AckLinkDto, ...errors },
      },
    },
    async (req) => acknowledgeFromLink(slaDeps(), req.body.token),
  );
}
