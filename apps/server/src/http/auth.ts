import "@fastify/cookie";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Database } from "../db/database.ts";
import { currentHolder, NO_SCOPE, runWithHolder, scopeForClients } from "../db/scope.ts";
import type { Actor } from "../domains/auth/actor.ts";
import { actorFromApiToken, actorFromSession } from "../domains/auth/service.ts";
import { actorFromPortalSession, PORTAL_COOKIE } from "../domains/portal/session.ts";
import { AppError } from "./errors.ts";
import { enforcePolicy, policyOf, requirePolicies } from "./policy.ts";

export const SESSION_COOKIE = "sb_session";

declare module "fastify" {
  interface FastifyRequest {
    actor: Actor | null;
  }
}

const UNSAFE = new Set(["POST", "PUT", "PATCH", "DELETE"]);

function hostOf(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null; // "null" (sandboxed frames) and garbage never match
  }
}

/** The signed-in actor, or 401. */
export function actorOf(req: FastifyRequest): Actor {
  if (!req.actor) throw new AppError("unauthenticated", 401, "Sign in or send an API token");
  return req.actor;
}

/**
 * Every request, in this order, before its body is parsed or validated:
 * 1. runs under a database scope that sees no client's rows (db/scope.ts), for all its work;
 * 2. resolves the caller from `Authorization: Bearer <token>` or the session cookie (a cookie-authenticated
 *    unsafe request must come from our own origin: with SameSite=Strict this closes CSRF twice over);
 * 3. is decided against the policy its route declares (http/policy.ts): 401 or 403, or on it goes, with
 *    the scope narrowed to the actor's clients.
 * The decision follows the route the router matched, not the raw URL, so an encoded or differently
 * written path that reaches a route meets that route's policy.
 */
export function registerAuth(app: FastifyInstance, db: Database) {
  app.decorateRequest("actor", null);
  requirePolicies(app);
  app.addHook("onRequest", (_req, _reply, done) => {
    runWithHolder({ scope: NO_SCOPE }, done);
  });
  app.addHook("onRequest", async (req) => {
    const policy = policyOf(req);
    // Fastify's own 404 (no route matched) has no policy and nothing to protect.
    if (!policy) return;
    // Public routes outside the API (the console's files, health) need no caller.
    if (policy.access === "public" && !req.routeOptions.url?.startsWith("/api/")) return;
    req.actor = policy.access === "contact" ? await resolvePortalActor(db, req) : await resolveActor(db, req);
    enforcePolicy(policy, req.actor, req.params);
    const holder = currentHolder();
    if (holder && req.actor) holder.scope = scopeForClients(req.actor.clientIds);
  });
}

/** A portal route is opened only by the portal's own cookie, never by a staff session or token. */
async function resolvePortalActor(db: Database, req: FastifyRequest): Promise<Actor | null> {
  const cookie = req.cookies[PORTAL_COOKIE];
  if (!cookie) return null;
  const actor = await actorFromPortalSession(db, cookie, req.ip, req.id);
  if (actor && UNSAFE.has(req.method)) assertSameOrigin(req);
  return actor;
}

function assertSameOrigin(req: FastifyRequest) {
  const origin = req.headers.origin;
  if (origin && hostOf(origin) !== req.headers.host) {
    throw new AppError("forbidden", 403, "Cross-site request refused");
  }
}

async function resolveActor(db: Database, req: FastifyRequest): Promise<Actor | null> {
  const authz = req.headers.authorization;
  if (authz?.startsWith("Bearer ")) {
    const actor = await actorFromApiToken(db, authz.slice(7).trim(), req.ip, req.id);
    if (!actor) throw new AppError("unauthenticated", 401, "The API token is unknown, expired or revoked");
    return actor;
  }
  const cookie = req.cookies[SESSION_COOKIE];
  if (!cookie) return null;
  const actor = await actorFromSession(db, cookie, req.ip, req.id);
  if (actor && UNSAFE.has(req.method)) assertSameOrigin(req);
  return actor;
}
