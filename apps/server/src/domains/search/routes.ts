import { SearchQuery, SearchResultDto } from "@switchboard/shared";
import type { App, AppDeps } from "../../app.ts";
import { actorOf } from "../../http/auth.ts";
import { signedIn } from "../../http/policy.ts";
import { search } from "./service.ts";

export async function searchRoutes(app: App, deps: AppDeps) {
  app.get(
    "/api/v1/search",
    {
      config: signedIn,
      schema: {
        tags: ["search"],
        summary: "Search tickets (number, subject, timeline text), contacts (name, email, phone) and clients",
        querystring: SearchQuery,
        response: { 200: SearchResultDto },
      },
    },
    async (req) => search(deps.db, actorOf(req), req.query),
  );
}
