import "@fastify/cookie";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { Database } from "../db/database.ts";
import type { Actor } from "../domains/auth/actor.ts";
import { actorFromApiToken, actorFromSession } from "../domains/auth/service.ts";
import { AppError } from "./errors.ts";

export const SESSION_COOKIE = "sb_session";

declare module "fastify" {
  interface FastifyRequest {
    actor: Actor | null;
  }
  interface FastifyContextConfig {
    /** Reachable without signing in (setup, login, health). */
    public?: boolean;
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
 * Resolves the caller from `Authorization: Bearer <token>` or the session cookie. A cookie-authenticated
 * unsafe request must come from our own origin: with SameSite=Strict this closes CSRF twice over.
 */
export function registerAuth(app: FastifyInstance, db: Database) {
  app.decorateRequest("actor", null);
  app.addHook("preHandler", async (req) => {
    if (!req.url.startsWith("/api/v1/")) return;
    const authz = req.headers.authorization;
    if (authz?.startsWith("Bearer ")) {
      req.actor = await actorFromApiToken(db, authz.slice(7).trim(), req.ip, req.id);
      if (!req.actor)
        throw new AppError("unauthenticated", 401, "The API token is unknown, expired or revoked");
      return;
    }
    const cookie = req.cookies[SESSION_COOKIE];
    if (cookie) {
      req.actor = await actorFromSession(db, cookie, req.ip, req.id);
      if (req.actor && UNSAFE.has(req.method)) {
        const origin = req.headers.origin;
        if (origin && hostOf(origin) !== req.headers.host) {
          throw new AppError("forbidden", 403, "Cross-site request refused");
        }
      }
    }
    if (!req.actor && !req.routeOptions.config.public) {
      throw new AppError("unauthenticated", 401, "Sign in or send an API token");
    }
  });
}
