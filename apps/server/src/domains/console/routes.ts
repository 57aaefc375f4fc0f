import {
  ChangesDto,
  CreateSavedViewRequest,
  IdParams,
  PresenceRequest,
  SavedViewDto,
  Timestamp,
} from "@switchboard/shared";
import type { Selectable } from "kysely";
import { z } from "zod";
import type { App, AppDeps } from "../../app.ts";
import type { SavedViewsTable } from "../../db/schema.ts";
import { actorOf } from "../../http/auth.ts";
import { signedIn } from "../../http/policy.ts";
import type { ChangedTicketRow } from "./queries.ts";
import {
  announcePresence,
  changesSinceLastLook,
  createSavedView,
  deleteSavedView,
  markChangesSeen,
  savedViews,
} from "./service.ts";
import { registerWebApp } from "./static.ts";

const toSavedViewDto = (v: Selectable<SavedViewsTable>) => ({
  id: v.id,
  name: v.name,
  filters: v.filters,
  createdAt: v.created_at.toISOString(),
});

const toChangedTicketDto = (r: ChangedTicketRow) => ({
  ticketId: r.ticket_id,
  number: Number(r.number),
  subject: r.subject,
  client: { id: r.client_id, name: r.client_name },
  kinds: r.kinds,
  count: Number(r.count),
  lastAt: r.last_at.toISOString(),
  lastActor: r.last_actor,
});

/** What the technician console needs beyond the domain APIs, and the console itself at `/`. */
export async function consoleRoutes(app: App, deps: AppDeps) {
  app.get(
    "/api/v1/views",
    {
      config: signedIn,
      schema: {
        tags: ["console"],
        summary: "My saved queue views",
        response: { 200: z.array(SavedViewDto) },
      },
    },
    async (req) => (await savedViews(deps.db, actorOf(req))).map(toSavedViewDto),
  );

  app.post(
    "/api/v1/views",
    {
      config: signedIn,
      schema: {
        tags: ["console"],
        summary: "Save a queue view (a view of the same name is replaced)",
        body: CreateSavedViewRequest,
        response: { 201: SavedViewDto },
      },
    },
    async (req, reply) =>
      reply.code(201).send(toSavedViewDto(await createSavedView(deps.db, actorOf(req), req.body))),
  );

  app.delete(
    "/api/v1/views/:id",
    { config: signedIn, schema: { tags: ["console"], summary: "Delete a saved view", params: IdParams } },
    async (req, reply) => {
      await deleteSavedView(deps.db, actorOf(req), req.params.id);
      return reply.code(204).send();
    },
  );

  app.post(
    "/api/v1/tickets/:id/presence",
    {
      config: signedIn,
      schema: {
        tags: ["console"],
        summary: "Tell others on this ticket that I am viewing, typing or gone (sent as a live signal)",
        params: IdParams,
        body: PresenceRequest,
      },
    },
    async (req, reply) => {
      await announcePresence(deps.db, deps.live, actorOf(req), req.params.id, req.body.state);
      return reply.code(204).send();
    },
  );

  app.get(
    "/api/v1/me/changes",
    {
      config: signedIn,
      schema: {
        tags: ["console"],
        summary: "What others changed on my tickets and my teams' unassigned tickets since I last looked",
        querystring: z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) }),
        response: { 200: ChangesDto },
      },
    },
    async (req) => {
      const { since, rows } = await changesSinceLastLook(deps.db, actorOf(req), req.query.limit);
      return { since: since.toISOString(), items: rows.map(toChangedTicketDto) };
    },
  );

  app.post(
    "/api/v1/me/changes/seen",
    {
      config: signedIn,
      schema: {
        tags: ["console"],
        summary: "Mark what changed as seen, up to `at` (default now)",
        body: z.object({ at: Timestamp.optional() }).default({}),
      },
    },
    async (req, reply) => {
      const at = req.body.at ? new Date(req.body.at) : new Date();
      await markChangesSeen(deps.db, actorOf(req), at > new Date() ? new Date() : at);
      return reply.code(204).send();
    },
  );

  await registerWebApp(app);
}
