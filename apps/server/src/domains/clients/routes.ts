import {
  ClientDto,
  ClientListQuery,
  CreateClientRequest,
  CreateSiteRequest,
  IdParams,
  Page,
  SiteDto,
  UpdateClientRequest,
  UpdateSiteRequest,
} from "@switchboard/shared";
import { z } from "zod";
import type { App, AppDeps } from "../../app.ts";
import { actorOf } from "../../http/auth.ts";
import { rolesOnly, signedIn, writers } from "../../http/policy.ts";
import { toClientDto, toSiteDto } from "./dto.ts";
import { createClient, getClient, listClients, updateClient } from "./service.ts";
import { createSite, getSite, listSites, updateSite } from "./sites-service.ts";

const STALE = "Send the `version` you read: a stale one gets 412 `version_conflict` with the current record.";

/** Clients and their sites. */
export async function clientRoutes(app: App, deps: AppDeps) {
  const tags = ["clients"];
  app.get(
    "/api/v1/clients",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "List clients by name (keyset pages); `q` matches part of a name or a near miss",
        querystring: ClientListQuery,
        response: { 200: Page(ClientDto) },
      },
    },
    async (req) => {
      const page = await listClients(deps.db, actorOf(req), req.query);
      return { items: page.items.map((c) => toClientDto(c, c.open_tickets)), nextCursor: page.nextCursor };
    },
  );

  app.post(
    "/api/v1/clients",
    {
      config: rolesOnly(["admin", "dispatcher"]),
      schema: {
        tags,
        summary: "Create a client (admin or dispatcher); a duplicate name is 409",
        body: CreateClientRequest,
        response: { 201: ClientDto },
      },
    },
    async (req, reply) =>
      reply.code(201).send(toClientDto(await createClient(deps.db, actorOf(req), req.body))),
  );

  app.get(
    "/api/v1/clients/:id",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "One client with its open ticket count",
        params: IdParams,
        response: { 200: ClientDto },
      },
    },
    async (req) => {
      const { row, openTickets } = await getClient(deps.db, actorOf(req), req.params.id);
      return toClientDto(row, openTickets);
    },
  );

  app.patch(
    "/api/v1/clients/:id",
    {
      config: rolesOnly(["admin", "dispatcher"]),
      schema: {
        tags,
        summary: "Change a client (admin or dispatcher)",
        description: STALE,
        params: IdParams,
        body: UpdateClientRequest,
        response: { 200: ClientDto },
      },
    },
    async (req) => toClientDto(await updateClient(deps.db, actorOf(req), req.params.id, req.body)),
  );

  const siteTags = ["sites"];
  app.get(
    "/api/v1/clients/:id/sites",
    {
      config: signedIn,
      schema: {
        tags: siteTags,
        summary: "A client's sites",
        params: IdParams,
        response: { 200: z.array(SiteDto) },
      },
    },
    async (req) => (await listSites(deps.db, actorOf(req), req.params.id)).map(toSiteDto),
  );

  app.post(
    "/api/v1/clients/:id/sites",
    {
      config: writers,
      schema: {
        tags: siteTags,
        summary: "Add a site to a client",
        params: IdParams,
        body: CreateSiteRequest,
        response: { 201: SiteDto },
      },
    },
    async (req, reply) =>
      reply.code(201).send(toSiteDto(await createSite(deps.db, actorOf(req), req.params.id, req.body))),
  );

  app.get(
    "/api/v1/sites/:id",
    {
      config: signedIn,
      schema: { tags: siteTags, summary: "One site", params: IdParams, response: { 200: SiteDto } },
    },
    async (req) => toSiteDto(await getSite(deps.db, actorOf(req), req.params.id)),
  );

  app.patch(
    "/api/v1/sites/:id",
    {
      config: writers,
      schema: {
        tags: siteTags,
        summary: "Change a site",
        description: STALE,
        params: IdParams,
        body: UpdateSiteRequest,
        response: { 200: SiteDto },
      },
    },
    async (req) => toSiteDto(await updateSite(deps.db, actorOf(req), req.params.id, req.body)),
  );
}
