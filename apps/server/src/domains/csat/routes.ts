import {
  CsatLookupRequest,
  CsatRateRequest,
  CsatReportDto,
  CsatReportQuery,
  CsatSettingsDto,
  CsatTicketDto,
  UpdateCsatSettingsRequest,
} from "@switchboard/shared";
import { z } from "zod";
import type { App, AppDeps } from "../../app.ts";
import { actorOf } from "../../http/auth.ts";
import { publicRoute, rolesOnly, signedIn } from "../../http/policy.ts";
import { csatReport, getCsatSettings, lookupRating, rateTicket, updateCsatSettings } from "./service.ts";

const tags = ["satisfaction"];

export async function csatRoutes(app: App, deps: AppDeps) {
  // The rating page posts the token from the link's fragment: it never appears in a URL a server logs.
  app.post(
    "/api/v1/csat/lookup",
    {
      config: publicRoute,
      schema: {
        tags,
        summary: "The ticket a rating link is for",
        body: CsatLookupRequest,
        response: { 200: CsatTicketDto },
      },
    },
    async (req) => lookupRating(deps, req.body.token),
  );
  app.post(
    "/api/v1/csat/rate",
    {
      config: publicRoute,
      schema: {
        tags,
        summary: "Rate a resolved ticket with the signed link from its resolution email",
        body: CsatRateRequest,
        response: { 200: z.object({ rating: z.enum(["good", "okay", "bad"]), comment: z.string() }) },
      },
    },
    async (req) => rateTicket(deps, req.body),
  );
  app.get(
    "/api/v1/csat/settings",
    { config: signedIn, schema: { tags, response: { 200: CsatSettingsDto } } },
    async () => getCsatSettings(deps.db),
  );
  app.put(
    "/api/v1/csat/settings",
    {
      config: rolesOnly(["admin"], { allClients: true }),
      schema: {
        tags,
        summary: "What a bad rating does",
        body: UpdateCsatSettingsRequest,
        response: { 200: CsatSettingsDto },
      },
    },
    async (req) => updateCsatSettings(deps.db, actorOf(req), req.body),
  );
  app.get(
    "/api/v1/reports/csat",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "Satisfaction per client and technician",
        querystring: CsatReportQuery,
        response: { 200: CsatReportDto },
      },
    },
    async (req) => csatReport(deps.db, actorOf(req), req.query),
  );
}
