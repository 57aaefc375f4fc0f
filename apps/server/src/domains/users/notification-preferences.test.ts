import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, makeUser, type TestApp, type TestUser, uuid } from "../../../test/helpers.ts";

describe("notification preferences API", () => {
  let t: TestApp;
  let admin: TestUser;
  beforeAll(async () => {
    t = await createTestApp();
    admin = await makeUser(t, { role: "admin" });
  });
  afterAll(() => t.close());

  const call = (who: TestUser, method: "GET" | "PUT", url: string, payload?: object) =>
    t.app.inject({ method, url, headers: who.auth, payload });
  const auditRows = (userId: string) =>
    t.db
      .selectFrom("audit_log")
      .selectAll()
      .where("entity_id", "=", userId)
      .where("action", "=", "user.notification_preferences")
      .orderBy("id")
      .execute();

  it("starts with every email on, without a stored row", async () => {
    const tech = await makeUser(t);
    const res = await call(tech, "GET", "/api/v1/me/notification-preferences");
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ userId: tech.id, assigned: true, newReply: true, monitoringP1: true });
    const rows = await t.db
      .selectFrom("user_notification_preferences")
      .selectAll()
      .where("user_id", "=", tech.id)
      .execute();
    expect(rows).toEqual([]);
  });

  it("lets a technician turn one email off, keeps the other, and audits the change once", async () => {
    const tech = await makeUser(t);
    const off = await call(tech, "PUT", "/api/v1/me/notification-preferences", { assigned: false });
    expect(off.statusCode).toBe(200);
    expect(off.json()).toEqual({ userId: tech.id, assigned: false, newReply: true, monitoringP1: true });
    expect((await call(tech, "GET", "/api/v1/me/notification-preferences")).json()).toEqual({
      userId: tech.id,
      assigned: false,
      newReply: true,
      monitoringP1: true,
    });

    const audit = await auditRows(tech.id);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actor_user_id: tech.id,
      entity_type: "user",
      before: { assigned: true },
      after: { assigned: false },
    });

    // Saving what is already stored changes nothing and logs nothing.
    const again = await call(tech, "PUT", "/api/v1/me/notification-preferences", { assigned: false });
    expect(again.statusCode).toBe(200);
    expect(await auditRows(tech.id)).toHaveLength(1);

    // The same through the users path, on one's own id.
    const own = await call(tech, "PUT", `/api/v1/users/${tech.id}/notification-preferences`, {
      assigned: true,
      newReply: false,
    });
    expect(own.json()).toEqual({ userId: tech.id, assigned: true, newReply: false, monitoringP1: true });
    const last = (await auditRows(tech.id)).at(-1);
    expect(last?.before).toEqual({ assigned: false, newReply: true });
    expect(last?.after).toEqual({ assigned: true, newReply: false });
  });

  it("turns off the monitoring P1 email in the column monitoring's mailer reads", async () => {
    const dispatcher = await makeUser(t, { role: "dispatcher" });
    const off = await call(dispatcher, "PUT", "/api/v1/me/notification-preferences", { monitoringP1: false });
    expect(off.statusCode).toBe(200);
    expect(off.json()).toMatchObject({ assigned: true, newReply: true, monitoringP1: false });
    const row = await t.db
      .selectFrom("user_notification_preferences")
      .select(["monitoring_p1", "assigned"])
      .where("user_id", "=", dispatcher.id)
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ monitoring_p1: false, assigned: true });
    const bad = await call(dispatcher, "PUT", "/api/v1/me/notification-preferences", { monitoringP1: "no" });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().error.details.issues[0].path).toBe("body.monitoringP1");
  });

  it("refuses to show or change another user's preferences unless the caller is an admin", async () => {
    const tech = await makeUser(t);
    const colleague = await makeUser(t);
    const dispatcher = await makeUser(t, { role: "dispatcher" });
    const url = `/api/v1/users/${colleague.id}/notification-preferences`;
    for (const who of [tech, dispatcher]) {
      const put = await call(who, "PUT", url, { assigned: false });
      expect(put.statusCode).toBe(403);
      expect(put.json().error.code).toBe("forbidden");
      expect((await call(who, "GET", url)).statusCode).toBe(403);
    }
    expect((await call(colleague, "GET", "/api/v1/me/notification-preferences")).json()).toMatchObject({
      assigned: true,
    });
    expect(await auditRows(colleague.id)).toHaveLength(0);

    const byAdmin = await call(admin, "PUT", url, { newReply: false });
    expect(byAdmin.statusCode).toBe(200);
    expect(byAdmin.json()).toEqual({
      userId: colleague.id,
      assigned: true,
      newReply: false,
      monitoringP1: true,
    });
    expect((await call(admin, "GET", url)).json()).toEqual(byAdmin.json());
    expect((await call(colleague, "GET", "/api/v1/me/notification-preferences")).json()).toEqual(
      byAdmin.json(),
    );
    const audit = await auditRows(colleague.id);
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor_user_id: admin.id, after: { newReply: false } });

    expect(
      (await call(admin, "PUT", `/api/v1/users/${uuid()}/notification-preferences`, {})).statusCode,
    ).toBe(404);
  });

  it("is described in the OpenAPI document", async () => {
    const paths = (await t.app.inject({ method: "GET", url: "/api/openapi.json" })).json().paths;
    const put = paths["/api/v1/me/notification-preferences"].put;
    expect(put.tags).toEqual(["users"]);
    const body = put.requestBody.content["application/json"].schema;
    expect(Object.keys(body.properties)).toEqual(["assigned", "newReply", "monitoringP1"]);
    expect(body.additionalProperties).toBe(false);
    expect(paths["/api/v1/users/{id}/notification-preferences"].get.responses["200"]).toBeDefined();
  });

  it("names the field of bad input", async () => {
    const tech = await makeUser(t);
    const wrongType = await call(tech, "PUT", "/api/v1/me/notification-preferences", { assigned: "yes" });
    expect(wrongType.statusCode).toBe(400);
    expect(wrongType.json().error).toMatchObject({
      code: "validation_failed",
      details: { issues: [{ path: "body.assigned", message: "must be true or false" }] },
    });
    expect(wrongType.json().error.message).toBe("body.assigned: must be true or false");

    // A misspelt name is refused rather than silently ignored.
    const unknown = await call(tech, "PUT", "/api/v1/me/notification-preferences", { newreply: false });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().error.message).toBe('body: Unrecognized key: "newreply"');

    const badId = await call(admin, "PUT", "/api/v1/users/not-a-uuid/notification-preferences", {});
    expect(badId.statusCode).toBe(400);
    expect(badId.json().error.details.issues[0].path).toBe("params.id");

    expect(await auditRows(tech.id)).toHaveLength(0);
    expect((await call(tech, "GET", "/api/v1/me/notification-preferences")).json()).toMatchObject({
      assigned: true,
      newReply: true,
    });
  });
});
