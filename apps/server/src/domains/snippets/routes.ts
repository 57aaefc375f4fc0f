import {
  CreateSnippetRequest,
  ErrorResponse,
  IdParams,
  SNIPPET_VARIABLES,
  SnippetDto,
  UpdateSnippetRequest,
} from "@switchboard/shared";
import { z } from "zod";
import type { App, AppDeps } from "../../app.ts";
import { actorOf } from "../../http/auth.ts";
import { signedIn, writers } from "../../http/policy.ts";
import { createSnippet, deleteSnippet, listSnippets, updateSnippet } from "./service.ts";

const tags = ["snippets"];
const VARS = SNIPPET_VARIABLES.map((v) => `{{${v}}}`).join(", ");

/** Canned responses for the composer. */
export async function snippetRoutes(app: App, deps: AppDeps) {
  app.get(
    "/api/v1/snippets",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "The shared canned responses and my own",
        response: { 200: z.object({ items: z.array(SnippetDto) }) },
      },
    },
    async (req) => ({ items: await listSnippets(deps.db, actorOf(req)) }),
  );
  app.post(
    "/api/v1/snippets",
    {
      config: writers,
      schema: {
        tags,
        summary: `Save a canned response (shared: admins and dispatchers). Variables: ${VARS}`,
        body: CreateSnippetRequest,
        response: { 201: SnippetDto, 400: ErrorResponse },
      },
    },
    async (req, reply) => reply.code(201).send(await createSnippet(deps.db, actorOf(req), req.body)),
  );
  app.patch(
    "/api/v1/snippets/:id",
    {
      config: writers,
      schema: {
        tags,
        summary: "Edit a canned response; `version` must be the one you read",
        params: IdParams,
        body: UpdateSnippetRequest,
        response: { 200: SnippetDto, 412: ErrorResponse },
      },
    },
    async (req) => updateSnippet(deps.db, actorOf(req), req.params.id, req.body),
  );
  app.delete(
    "/api/v1/snippets/:id",
    { config: writers, schema: { tags, summary: "Delete a canned response", params: IdParams } },
    async (req, reply) => {
      await deleteSnippet(deps.db, actorOf(req), req.params.id);
      return reply.code(204).send();
    },
  );
}
