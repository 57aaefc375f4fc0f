import fastifyCookie from "@fastify/cookie";
import fastifySwagger from "@fastify/swagger";
import fastifySwaggerUi from "@fastify/swagger-ui";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyInstance,
  type RawReplyDefaultExpression,
  type RawRequestDefaultExpression,
  type RawServerDefault,
} from "fastify";
import {
  jsonSchemaTransform,
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from "fastify-type-provider-zod";
import type { Config } from "./config.ts";
import type { Database } from "./db/database.ts";
import { agentRoutes } from "./domains/agents/routes.ts";
import { auditRoutes } from "./domains/audit/routes.ts";
import { authRoutes } from "./domains/auth/routes.ts";
import { billingRoutes } from "./domains/billing/routes.ts";
import { contactRoutes } from "./domains/clients/contacts-routes.ts";
import { clientRoutes } from "./domains/clients/routes.ts";
import { consoleRoutes } from "./domains/console/routes.ts";
import { csatRoutes } from "./domains/csat/routes.ts";
import { documentRoutes } from "./domains/documents/routes.ts";
import { emailRoutes } from "./domains/email/routes.ts";
import type { LiveHub } from "./domains/events/live.ts";
import { eventRoutes } from "./domains/events/routes.ts";
import { identityRoutes } from "./domains/identity/routes.ts";
import { kbRoutes } from "./domains/kb/routes.ts";
import { monitoringRoutes } from "./domains/monitoring/routes.ts";
import { oncallRoutes } from "./domains/oncall/routes.ts";
import { portalRoutes } from "./domains/portal/routes.ts";
import { remoteRoutes } from "./domains/remote/routes.ts";
import { schedulingRoutes } from "./domains/scheduling/routes.ts";
import { searchRoutes } from "./domains/search/routes.ts";
import { setupRoutes } from "./domains/setup/routes.ts";
import { slaRoutes } from "./domains/sla/routes.ts";
import { snippetRoutes } from "./domains/snippets/routes.ts";
import { teamRoutes } from "./domains/teams/routes.ts";
import { ticketRoutes } from "./domains/tickets/routes.ts";
import { timeRoutes } from "./domains/time/routes.ts";
import { userRoutes } from "./domains/users/routes.ts";
import { vaultRoutes } from "./domains/vault/routes.ts";
import { registerAuth } from "./http/auth.ts";
import { registerErrorHandler } from "./http/errors.ts";
import { registerInputHygiene } from "./http/input.ts";
import { DOCS_PREFIX, publicRoute } from "./http/policy.ts";
import { systemRoutes } from "./http/system.ts";
import { routeUpgrades } from "./http/websocket.ts";
import type { BlobStore } from "./lib/blob-store.ts";
import type { Boss } from "./lib/jobs.ts";

export interface AppDeps {
  db: Database;
  config: Config;
  live: LiveHub;
  blobs: BlobStore;
  boss: Boss | null;
  logger?: FastifyBaseLogger | boolean;
}

export type App = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

/** Builds the HTTP application without listening: tests drive it through `app.inject()`. */
export async function buildApp(deps: AppDeps) {
  const app = Fastify({
    loggerInstance: typeof deps.logger === "object" ? deps.logger : undefined,
    logger: typeof deps.logger === "boolean" ? deps.logger : undefined,
    bodyLimit: deps.config.BODY_LIMIT_BYTES,
    trustProxy: deps.config.TRUST_PROXY,
    genReqId: () => crypto.randomUUID(),
  }).withTypeProvider<ZodTypeProvider>();

  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandler(app);
  await app.register(fastifyCookie);
  await app.register(fastifySwagger, {
    openapi: {
      openapi: "3.1.0",
      info: {
        title: "Switchboard API",
        version: "1.0.0",
        description:
          "REST API of Switchboard. Authenticate with the session cookie from POST /api/v1/auth/login or an API token as `Authorization: Bearer <token>`.",
      },
      components: {
        securitySchemes: {
          bearer: { type: "http", scheme: "bearer" },
          session: { type: "apiKey", in: "cookie", name: "sb_session" },
        },
      },
      security: [{ bearer: [] }, { session: [] }],
    },
    transform: jsonSchemaTransform,
  });
  registerAuth(app, deps.db);
  registerInputHygiene(app);
  // JSON only (and multipart where a route reads uploads): a text body is a 415, not a string that
  // fails validation.
  app.removeContentTypeParser("text/plain");
  await app.register(fastifySwaggerUi, { routePrefix: DOCS_PREFIX });

  const api: App = app;
  await systemRoutes(api, deps);
  await setupRoutes(api, deps);
  await authRoutes(api, deps);
  await agentRoutes(api, deps);
  await userRoutes(api, deps);
  await teamRoutes(api, deps);
  await clientRoutes(api, deps);
  await contactRoutes(api, deps);
  await auditRoutes(api, deps);
  await ticketRoutes(api, deps);
  await searchRoutes(api, deps);
  await eventRoutes(api, deps);
  await emailRoutes(api, deps);
  await portalRoutes(api, deps);
  await kbRoutes(api, deps);
  await csatRoutes(api, deps);
  await vaultRoutes(api, deps);
  await documentRoutes(api, deps);
  await timeRoutes(api, deps);
  await billingRoutes(api, deps);
  await schedulingRoutes(api, deps);
  await remoteRoutes(api, deps);
  await consoleRoutes(api, deps);
  await snippetRoutes(api, deps);
  await slaRoutes(api, deps);
  await oncallRoutes(api, deps);
  await identityRoutes(api, deps);
  await monitoringRoutes(api, deps);
  // WebSockets of the console (remote shells, support sessions) go through the router and its policies.
  routeUpgrades(app, app.server);
  app.get("/api/openapi.json", { config: publicRoute, schema: { hide: true } }, async () => app.swagger());
  return app;
}
