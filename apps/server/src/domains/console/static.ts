import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyReply } from "fastify";
import type { App } from "../../app.ts";

export const WEB_DIST = fileURLToPath(new URL("../../../../web/dist", import.meta.url));

/** Paths that belong to the server: an unknown one under them is a JSON 404, never the SPA. */
const SERVER_PREFIXES = ["/api/", "/api", "/healthz", "/readyz", "/metrics", "/agent"];
const isServerPath = (url: string) =>
  SERVER_PREFIXES.some(
    (p) => url === p || url.startsWith(p.endsWith("/") ? p : `${p}/`) || url.startsWith(`${p}?`),
  );

/**
 * Serves the built console (apps/web/dist) at `/`. Hashed assets are cached for a year; index.html is
 * revalidated every time so a deploy reaches open browsers on their next navigation. Any other GET that
 * is not a server path answers index.html so deep links (/tickets/1042) survive a reload.
 */
export async function registerWebApp(app: App, root = WEB_DIST) {
  const built = existsSync(path.join(root, "index.html"));
  if (built) {
    await app.register(fastifyStatic, {
      root,
      prefix: "/",
      wildcard: false,
      index: false,
      serve: true,
      setHeaders(reply, filePath) {
        reply.header(
          "cache-control",
          filePath.includes(`${path.sep}assets${path.sep}`)
            ? "public, max-age=31536000, immutable"
            : "no-cache",
        );
      },
    });
  }
  const sendIndex = (reply: FastifyReply) => {
    if (!built) {
      return reply
        .code(503)
        .type("text/plain; charset=utf-8")
        .send("The console is not built. Run `npm run build:web`, then reload.");
    }
    return reply.header("cache-control", "no-cache").sendFile("index.html", root);
  };
  app.get("/", { config: { public: true }, schema: { hide: true } }, (_req, reply) => sendIndex(reply));
  app.get("/*", { config: { public: true }, schema: { hide: true } }, (req, reply) => {
    if (isServerPath(req.url)) {
      return reply
        .code(404)
        .send({ error: { code: "not_found", message: `No route for GET ${req.url.split("?")[0]}` } });
    }
    return sendIndex(reply);
  });
}
