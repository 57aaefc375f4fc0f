import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, makeClient, makeUser, type TestApp, type TestUser } from "../../test/helpers.ts";

let t: TestApp;
let tech: TestUser;

beforeAll(async () => {
  t = await createTestApp({ BODY_LIMIT_BYTES: "4096" });
  tech = await makeUser(t);
});
afterAll(() => t.close());

describe("error shapes", () => {
  it("413 for a body over the limit, and nothing is written", async () => {
    const client = await makeClient(t);
    const res = await t.app.inject({
      method: "POST",
      url: "/api/v1/tickets",
      headers: { ...tech.auth, "content-type": "application/json" },
      payload: JSON.stringify({ subject: "big", clientId: client.id, description: "x".repeat(10_000) }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toEqual({
      error: { code: "payload_too_large", message: "Request body is too large" },
    });
    const rows = await t.db.selectFrom("tickets").select("id").where("client_id", "=", client.id).execute();
    expect(rows).toEqual([]);
  });

  it("400 for malformed JSON, 415 for a form post, 404 for an unknown route", async () => {
    const bad = await t.app.inject({
      method: "POST",
      url: "/api/v1/tickets",
      headers: { ...tech.auth, "content-type": "application/json" },
      payload: "{not json",
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.code).toBe("validation_failed");
    const form = await t.app.inject({
      method: "POST",
      url: "/api/v1/tickets",
      headers: { ...tech.auth, "content-type": "application/x-www-form-urlencoded" },
      payload: "subject=x",
    });
    expect(form.statusCode).toBe(415);
    expect(form.json().error.code).toBe("unsupported_media_type");
    const missing = await t.app.inject({ method: "GET", url: "/api/v1/nothing-here", headers: tech.auth });
    expect(missing.statusCode).toBe(404);
    expect(missing.json().error.code).toBe("not_found");
  });

  it("validates path and query parameters with their location in the path", async () => {
    const res = await t.app.inject({ method: "GET", url: "/api/v1/tickets/not-a-uuid", headers: tech.auth });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.issues[0]).toMatchObject({
      path: "params.id",
      message: "must be a UUID",
    });
    const q = await t.app.inject({
      method: "GET",
      url: "/api/v1/tickets?priority=9&sort=sideways",
      headers: tech.auth,
    });
    expect(q.statusCode).toBe(400);
    const paths = q.json().error.details.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["query.sort"]));
  });

  it("serves health, readiness, metrics and the OpenAPI document without credentials", async () => {
    expect((await t.app.inject({ method: "GET", url: "/healthz" })).json()).toEqual({ status: "ok" });
    expect((await t.app.inject({ method: "GET", url: "/readyz" })).json()).toEqual({ status: "ready" });
    const metrics = await t.app.inject({ method: "GET", url: "/metrics" });
    expect(metrics.body).toContain("switchboard_http_request_duration_seconds");
    const doc = (await t.app.inject({ method: "GET", url: "/api/openapi.json" })).json();
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/api/v1/tickets", "/api/v1/search"]));
    expect(doc.paths["/api/v1/tickets"].post.requestBody).toBeDefined();
  });
});
