import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, isolatedDatabase, type TestApp } from "../../../test/helpers.ts";

// First run needs a database with no user at all, so this file gets one of its own.
describe("first-run setup", () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp({}, await isolatedDatabase());
  });
  afterAll(() => t.close());

  it("creates the MSP and first admin once, signs them in, then answers 409", async () => {
    const status = await t.app.inject({ method: "GET", url: "/api/v1/setup" });
    expect(status.json()).toEqual({ setUp: false, mspName: null });
    const body = {
      mspName: "Convergence IT",
      name: "Martin Hendler",
      email: "Martin@Convergence.example",
      password: "correct horse battery",
    };
    const first = await t.app.inject({ method: "POST", url: "/api/v1/setup", payload: body });
    expect(first.statusCode).toBe(201);
    {
      const cookie = first.cookies.find((c) => c.name === "sb_session");
      expect(cookie?.httpOnly).toBe(true);
      expect(cookie?.sameSite).toBe("Strict");
      const me = await t.app.inject({
        method: "GET",
        url: "/api/v1/auth/me",
        cookies: { sb_session: cookie!.value },
      });
      expect(me.json()).toMatchObject({
        email: "martin@convergence.example",
        role: "admin",
        mspName: "Convergence IT",
      });
      const audit = await t.db
        .selectFrom("audit_log")
        .selectAll()
        .where("action", "=", "setup.complete")
        .executeTakeFirst();
      expect(audit?.actor_label).toBe("system:setup");
    }
    const again = await t.app.inject({
      method: "POST",
      url: "/api/v1/setup",
      payload: { ...body, email: "other@example.test" },
    });
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe("setup_complete");
  });

  it("names the field and the reason for bad input", async () => {
    const res = await t.app.inject({
      method: "POST",
      url: "/api/v1/setup",
      payload: { mspName: "", name: "x", email: "not-an-email", password: "short" },
    });
    expect(res.statusCode).toBe(400);
    const { error } = res.json();
    expect(error.code).toBe("validation_failed");
    const paths = error.details.issues.map((i: { path: string }) => i.path);
    expect(paths).toEqual(expect.arrayContaining(["body.mspName", "body.email", "body.password"]));
  });
});
