import { existsSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import fastifyStatic from "@fastify/static";
import type { FastifyReply } from "fastify";
import type { App } from "../../app.ts";
import { publicRoute } from "../../http/policy.ts";

export const WEB_DIST = fileURLToPath(new URL("../../../../web/dist", import.meta.url));

/** Paths that belong to the server: an unknown one under them is a JSON 404, never the SPA. */
const SERVER_PREFIXES = ["/api/", "/api", "/healthz", "/readyz", "/metrics", "/agent"];
/** Compared decoded, lower-cased and with repeated slashes folded, so no spelling of a path slips by. */
function isServerPath(url: string) {
  let pathname = url.split("?")[0] ?? "/";
  try {
    pathname = decodeURIComponent(pathname);
  } catch {
    return true; // malformed escapes: a JSON 404, not the console
  }
  pathname = pathname.toLowerCase().replace(/\/{2,}/g, "/");
  return SERVER_PREFIXES.some((p) => pathname === p || pathname.startsWith(p.endsWith("/") ? p : `${p}/`));
}

/**
 * Serves the built console (apps/web/dist) at `/`. Hashed assets are cached for a year; index.html is
 * revalidated every time so a deploy reaches open browsers on their next navigation. Any other GET that
 * is not a server path answers index.html so deep links (/tickets/1042) survive a reload.
 */
export async function registerWebApp(app: App, root = WEB_DIST) {
  const built = existsSync(path.join(root, "index.html"));
  // Only reply.sendFile: the files are served by the routes below, which declare their policy.
  if (built) await app.register(fastifyStatic, { root, serve: false, cacheControl: false });
  // The client portal is its own small app (portal.html): a contact's browser never loads the console.
  const sendIndex = (reply: FastifyReply, pathname = "/") => {
    if (!built) {
      return reply
        .code(503)
        .type("text/plain; charset=utf-8")
        .send("The console is not built. Run `npm run build:web`, then reload.");
    }
    const page =
      isPortalPath(pathname) && existsSync(path.join(root, "portal.html")) ? "portal.html" : "index.html";
    return reply.header("cache-control", "no-cache").sendFile(page, root);
  };
  app.get("/", { config: publicRoute, schema: { hide: true } }, (_req, reply) => sendIndex(reply));
  app.get("/*", { config: publicRoute, schema: { hide: true } }, (req, reply) => {
    const pathname = req.url.split("?")[0] ?? "/";
    if (isServerPath(req.url)) {
      return reply.code(404).send({ error: { code: "not_found", message: `No route for GET ${pathname}` } });
    }
    const file = built ? builtFile(root, pathname) : null;
    if (file) {
      // Hashed assets never change under their name; everything else is revalidated.
      const immutable = file.startsWith(`assets${path.sep}`);
      return reply
        .header("cache-control", immutable ? "public, max-age=31536000, immutable" : "no-cache")
        .sendFile(file, root);
    }
    return sendIndex(reply, pathname);
  });
}

const isPortalPath = (pathname: string) => pathname === "/portal" || pathname.startsWith("/portal/");

/** The file under `root` a URL path names, or null (directories, escapes, missing files). */
function builtFile(root: string, pathname: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (decoded.includes("\0")) return null;
  const rel = path.normalize(decoded).replace(/^([/\\])+/, "");
  if (!rel || rel.startsWith("..") || path.isAbsolute(rel)) return null;
  const full = path.join(root, rel);
  if (!full.startsWith(root + path.sep)) return null;
  try {
    return statSync(full).isFile() ? rel : null;
  } catch {
    return null;
  }
}
