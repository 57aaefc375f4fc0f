import { timingSafeEqual } from "node:crypto";
import { sql } from "kysely";
import client from "prom-client";
import { z } from "zod";
import type { App, AppDeps } from "../app.ts";
import { migrationsPending } from "../db/migrate.ts";
import { AppError } from "./errors.ts";
import { publicRoute } from "./policy.ts";

export const metrics = new client.Registry();
client.collectDefaultMetrics({ register: metrics });
const httpDuration = new client.Histogram({
  name: "switchboard_http_request_duration_seconds",
  help: "HTTP request duration by route and status",
  labelNames: ["method", "route", "status"],
  buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: [metrics],
});

export async function systemRoutes(app: App, deps: AppDeps) {
  app.addHook("onResponse", async (req, reply) => {
    httpDuration.observe(
      { method: req.method, route: req.routeOptions.url ?? "unmatched", status: String(reply.statusCode) },
      reply.elapsedTime / 1000,
    );
  });

  app.get(
    "/healthz",
    {
      config: publicRoute,
      schema: { hide: true, response: { 200: z.object({ status: z.literal("ok") }) } },
    },
    async () => ({ status: "ok" as const }),
  );

  // Once every migration is seen applied, later probes only ping the database.
  let migrated = false;
  app.get("/readyz", { config: publicRoute, schema: { hide: true } }, async (_req, reply) => {
    try {
      await sql`select 1`.execute(deps.db);
      if (!migrated) {
        const pending = await migrationsPending(deps.db);
        if (pending > 0) return reply.code(503).send({ status: "migrating", pendingMigrations: pending });
        migrated = true;
      }
      return { status: "ready" };
    } catch {
      return reply.code(503).send({ status: "database_unreachable" });
    }
  });

  // Public unless METRICS_TOKEN is set (a scraper then sends it as a Bearer token): the route checks
  // its own credential, compared in constant time.
  const metricsToken = deps.config.METRICS_TOKEN ? Buffer.from(`Bearer ${deps.config.METRICS_TOKEN}`) : null;
  app.get("/metrics", { config: publicRoute, schema: { hide: true } }, async (req, reply) => {
    if (metricsToken) {
      const sent = Buffer.from(req.headers.authorization ?? "");
      if (sent.length !== metricsToken.length || !timingSafeEqual(sent, metricsToken)) {
        throw new AppError("unauthenticated", 401, "Send the metrics token as Authorization: Bearer <token>");
      }
    }
    reply.header("content-type", metrics.contentType);
    return metrics.metrics();
  });
}
