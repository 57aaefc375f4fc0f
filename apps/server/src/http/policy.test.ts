import Fastify from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, makeClient, makeUser, type TestApp, type TestUser } from "../../test/helpers.ts";
import type { UserRole } from "../db/schema.ts";
import { type RoutePolicy, requirePolicies } from "./policy.ts";

// Every route the server registers is called anonymously and as each role, and in every spelling of
// its path an attacker might try; each answer must be what the route's declared policy says.

let t: TestApp;
const callers: Record<string, TestUser> = {};

beforeAll(async () => {
  t = await createTestApp();
  const a = await makeClient(t);
  for (const role of ["admin", "dispatcher", "technician", "readonly"] as const) {
    callers[role] = await makeUser(t, { role });
  }
  callers.limitedAdmin = await makeUser(t, { role: "admin", clientIds: [a.id] });
});
afterAll(() => t.close());

/** A concrete URL for a route pattern: ids that exist nowhere, targets that are never built. */
function concrete(url: string) {
  return url
    .replace(/:number\b/g, "999999")
    .replace(/:target\b/g, "darwin-arm64")
    .replace(/:key\b/g, "ack")
    .replace(/:[a-zA-Z]+\b/g, "6f1c2f4e-0000-4000-8000-000000000000")
    .replace(/\*$/, "some/deep/link");
}

/** Requests that would otherwise hang (a stream) or stream large files get a query that ends them early. */
const query = (url: string) => (url === "/api/v1/events/stream" ? "?after=-1" : "");

function expected(policy: RoutePolicy, caller: string | null): "allowed" | 401 | 403 {
  if (policy.access === "public") return "allowed";
  // Portal routes open only with a contact's portal session (domains/portal/isolation.test.ts walks them).
  if (caller === null || policy.access === "contact") return 401;
  const role: UserRole = caller === "limitedAdmin" ? "admin" : (caller as UserRole);
  // (The walk calls every route with ids of nobody, so `orSelf` never applies here; see the next test.)
  if (policy.roles && !policy.roles.includes(role)) return 403;
  if (policy.allClients && caller === "limitedAdmin") return 403;
  return "allowed";
}

/** Without a built console, its pages say so (503) instead of serving it: that is still "allowed". */
const consoleNotBuilt = (method: string, url: string, status: number, body: string) =>
  (url === "/" || url === "/*") &&
  status === 503 &&
  (method === "HEAD" || body.includes("console is not built"));

async function call(method: string, url: string, caller: string | null) {
  const hasBody = method === "POST" || method === "PUT" || method === "PATCH";
  return t.app.inject({
    method: method as "GET",
    url,
    headers: {
      ...(caller ? callers[caller]!.auth : {}),
      ...(hasBody ? { "content-type": "application/json" } : {}),
    },
    payload: hasBody ? "{}" : undefined,
  });
}

describe("route policies", () => {
  it("refuses to register a route that declares no policy", async () => {
    const app = Fastify();
    requirePolicies(app);
    expect(() => app.get("/api/v1/undeclared", async () => "x")).toThrow(/declares no access policy/);
    await app.close();
  });

  it("lists every route with a policy, the API and the console's pages alike", () => {
    const urls = new Set(t.app.routeTable.map((r) => r.url));
    for (const u of [
      "/api/v1/tickets",
      "/api/v1/users/:id",
      "/healthz",
      "/metrics",
      "/",
      "/*",
      "/api/docs",
    ]) {
      expect(urls, u).toContain(u);
    }
    expect(t.app.routeTable.length).toBeGreaterThan(80);
  });

  // Six callers for every route: the walk grows with the API (120 s leaves room on a loaded machine).
  it("answers every route, anonymously and as each role, as its policy says, and never with a 500", {
    timeout: 120_000,
  }, async () => {
    const wrong: string[] = [];
    for (const route of t.app.routeTable) {
      const url = concrete(route.url) + query(route.url);
      for (const caller of [null, "admin", "dispatcher", "technician", "readonly", "limitedAdmin"]) {
        const res = await call(route.method, url, caller);
        const want = expected(route.policy, caller);
        const ok =
          (res.statusCode < 500 || consoleNotBuilt(route.method, route.url, res.statusCode, res.body)) &&
          (want === "allowed" ? res.statusCode !== 401 && res.statusCode !== 403 : res.statusCode === want);
        if (!ok)
          wrong.push(
            `${route.method} ${route.url} as ${caller ?? "anonymous"}: ${res.statusCode}, wanted ${want}`,
          );
      }
    }
    expect(wrong).toEqual([]);
  });

  it("holds for percent-encoded, doubled-slash, trailing-slash and upper-case spellings of a path", async () => {
    const wrong: string[] = [];
    const signedInRoutes = t.app.routeTable.filter(
      (r) => r.policy.access !== "public" && r.method !== "HEAD",
    );
    for (const route of signedInRoutes) {
      const url = concrete(route.url);
      const variants = [
        url.replace(/\/([a-z])/, (_m, c: string) => `/%${c.charCodeAt(0).toString(16)}`),
        url.replace(/^\/api\//, "//api/"),
        url.replace(/^\/api\/v1\//, "/api%2Fv1/"),
        url.replace(/^\/api\/v1\//, "/api//v1/"),
        `${url}/`,
        url.toUpperCase(),
        url.replace(/^\/api\/v1\//, "/api/v1/./"),
      ];
      for (const v of variants) {
        const res = await call(route.method, v + query(route.url), null);
        // Either the spelling reaches the route (and meets its policy) or it reaches nothing.
        if (res.statusCode !== 401 && res.statusCode !== 404) {
          wrong.push(`${route.method} ${v}: ${res.statusCode} ${res.body.slice(0, 80)}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  it("lets a user reach their own record through an admin's route, and nobody else's", async () => {
    const routes = t.app.routeTable.filter((r) => r.policy.access === "user" && r.policy.orSelf);
    expect(routes.map((r) => `${r.method} ${r.url}`)).toContain("PATCH /api/v1/users/:id");
    for (const route of routes.filter((r) => r.method !== "HEAD")) {
      for (const caller of ["technician", "readonly", "limitedAdmin"]) {
        const own = await call(route.method, route.url.replace(":id", callers[caller]!.id), caller);
        expect([401, 403], `${route.method} own as ${caller}`).not.toContain(own.statusCode);
        const other = await call(route.method, route.url.replace(":id", callers.admin!.id), caller);
        expect(other.statusCode, `${route.method} other as ${caller}`).toBe(403);
      }
    }
  });

  it("marks public routes as needing no credentials in the OpenAPI description", async () => {
    const doc = (await t.app.inject({ method: "GET", url: "/api/openapi.json" })).json();
    expect(doc.paths["/api/v1/auth/login"].post.security).toEqual([]);
    expect(doc.paths["/api/v1/setup"].post.security).toEqual([]);
    expect(doc.paths["/api/v1/tickets"].get.security).toBeUndefined();
    expect(doc.security).toEqual([{ bearer: [] }, { session: [] }]);
  });
});
