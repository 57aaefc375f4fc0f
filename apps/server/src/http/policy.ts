import type { FastifyInstance, FastifyRequest, RouteOptions } from "fastify";
import type { UserRole } from "../db/schema.ts";
import type { Actor } from "../domains/auth/actor.ts";
import { AppError, forbidden } from "./errors.ts";

/**
 * Who may call a route, declared where the route is declared. One hook (registerAuth) enforces it
 * before validation and the handler; the service layer checks again (requireRole, assertClientVisible),
 * and row-level security in PostgreSQL is the third wall. A route registered without a policy makes
 * buildApp throw, so an undeclared route cannot ship; http/policy.test.ts calls every route anonymously
 * and as each role, with path variants, and checks the answers against these declarations.
 */
export type RoutePolicy =
  /** No sign-in. The handler checks its own credential if it has one (login, a signed link, enrollment). */
  | { access: "public" }
  /**
   * Signed-in staff. `roles` omitted: every role. `allClients`: only staff who see every client (the
   * route reads or changes MSP-wide data that a client-limited user must not reach, e.g. users and their
   * client limits).
   */
  | {
      access: "user";
      roles?: readonly UserRole[];
      allClients?: boolean;
      /**
       * Callers outside `roles`/`allClients` may still call the route for themselves: when the path
       * parameter of this name is their own user id (a user's own record, their own preferences).
       */
      orSelf?: string;
    }
  /**
   * A client's contact signed in to the portal (the `sb_portal` cookie). The request runs scoped to the
   * contact's client; staff credentials do not open these routes, nor a portal session staff routes.
   */
  | { access: "contact" };

export const ALL_ROLES: readonly UserRole[] = ["admin", "dispatcher", "technician", "readonly"];
/** Everyone who may change service-desk records (readonly users may not). */
export const WRITERS: readonly UserRole[] = ["admin", "dispatcher", "technician"];

export const publicRoute = { policy: { access: "public" } } as const satisfies { policy: RoutePolicy };
export const signedIn = { policy: { access: "user" } } as const satisfies { policy: RoutePolicy };
export const writers = { policy: { access: "user", roles: WRITERS } } as const satisfies {
  policy: RoutePolicy;
};
export const contactOnly = { policy: { access: "contact" } } as const satisfies { policy: RoutePolicy };
export const rolesOnly = (
  roles: readonly UserRole[],
  opts: { allClients?: boolean; orSelf?: string } = {},
): { policy: RoutePolicy } => ({ policy: { access: "user", roles, ...opts } });

declare module "fastify" {
  interface FastifyContextConfig {
    /** Who may call this route: required on every route (see RoutePolicy). */
    policy?: RoutePolicy;
  }
  interface FastifyInstance {
    /** Every route with its policy, as registered: the route-policy test walks it. */
    routeTable: Array<{ method: string; url: string; policy: RoutePolicy }>;
  }
}

/** The policy of the route a request matched; undefined only for Fastify's own 404 handler. */
export function policyOf(req: FastifyRequest): RoutePolicy | undefined {
  return req.routeOptions.config?.policy;
}

/** Decides a request against its route's policy: throws 401/403, or returns normally. */
export function enforcePolicy(policy: RoutePolicy, actor: Actor | null, params: unknown = {}) {
  if (policy.access === "public") return;
  if (policy.access === "contact") {
    if (actor?.kind !== "contact") throw new AppError("unauthenticated", 401, "Sign in to the portal");
    return;
  }
  if (!actor) throw new AppError("unauthenticated", 401, "Sign in or send an API token");
  if (actor.kind === "contact") throw new AppError("unauthenticated", 401, "Sign in or send an API token");
  const self =
    policy.orSelf !== undefined &&
    actor.userId !== null &&
    (params as Record<string, unknown>)[policy.orSelf] === actor.userId;
  if (policy.roles && !policy.roles.includes(actor.role) && !self) {
    throw forbidden(`This needs the ${policy.roles.join(" or ")} role`);
  }
  if (policy.allClients && actor.clientIds !== null && !self) {
    throw forbidden("This needs access to every client");
  }
}

export const DOCS_PREFIX = "/api/docs";

/**
 * Refuses to register a route without a policy (the server does not start), and marks public routes
 * as needing no credentials in the OpenAPI description.
 */
export function requirePolicies(app: FastifyInstance) {
  const table: FastifyInstance["routeTable"] = [];
  app.decorate("routeTable", table);
  app.addHook("onRoute", (route: RouteOptions) => {
    let policy = (route.config as { policy?: RoutePolicy } | undefined)?.policy;
    // The API documentation's pages and assets, registered by @fastify/swagger-ui: public by design.
    if (!policy && (route.url === DOCS_PREFIX || route.url.startsWith(`${DOCS_PREFIX}/`))) {
      policy = { access: "public" };
      route.config = { ...route.config, policy } as typeof route.config;
    }
    if (!policy) {
      throw new Error(
        `route ${route.method} ${route.url} declares no access policy (config.policy): see http/policy.ts`,
      );
    }
    for (const method of [route.method].flat()) table.push({ method, url: route.url, policy });
    if (policy.access === "public" && route.schema) {
      route.schema = { ...route.schema, security: [] } as typeof route.schema;
    }
  });
}
