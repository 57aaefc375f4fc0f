import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, makeClient, makeUser, type TestApp, type TestUser } from "../../test/helpers.ts";
import { encodeCursor } from "../lib/cursor.ts";
import { safeFileName } from "../lib/filename.ts";

// Hostile input is a 4xx naming the field, never a 500: NUL and other control characters anywhere a
// caller can put a string, tampered cursors, odd content types.

let t: TestApp;
let admin: TestUser;
let clientId: string;
let ticketId: string;

beforeAll(async () => {
  t = await createTestApp();
  admin = await makeUser(t, { role: "admin" });
  clientId = (await makeClient(t)).id;
  const ticket = await t.app.inject({
    method: "POST",
    url: "/api/v1/tickets",
    headers: admin.auth,
    payload: { subject: "Scanner offline", clientId },
  });
  ticketId = ticket.json().id;
});
afterAll(() => t.close());

const NUL = "\u0000";

describe("control characters in input", () => {
  it("refuses NUL in every kind of string field with a 400 that names the field", async () => {
    const cases: Array<{
      method: "POST" | "PATCH" | "PUT" | "GET";
      url: string;
      payload?: unknown;
      path: string;
    }> = [
      {
        method: "POST",
        url: "/api/v1/tickets",
        payload: { subject: `a${NUL}b`, clientId },
        path: "body.subject",
      },
      {
        method: "POST",
        url: "/api/v1/tickets",
        payload: { subject: "ok", clientId, tags: ["x", `y${NUL}`] },
        path: "body.tags.1",
      },
      {
        method: "POST",
        url: "/api/v1/contacts",
        payload: { clientId, firstName: `Ann${NUL}`, lastName: "Lee" },
        path: "body.firstName",
      },
      {
        method: "POST",
        url: `/api/v1/clients/${clientId}/sites`,
        payload: { name: `HQ${NUL}` },
        path: "body.name",
      },
      {
        method: "POST",
        url: `/api/v1/tickets/${ticketId}/timeline`,
        payload: { kind: "note", body: `note${NUL}` },
        path: "body.body",
      },
      {
        method: "POST",
        url: "/api/v1/views",
        payload: { name: "v", filters: { [`q${NUL}`]: "x" } },
        path: "body.filters.q?",
      },
      { method: "POST", url: "/api/v1/auth/tokens", payload: { name: `t${NUL}` }, path: "body.name" },
      { method: "POST", url: "/api/v1/clients", payload: { name: `Acme${NUL}` }, path: "body.name" },
      {
        method: "PUT",
        url: "/api/v1/email/templates/acknowledgement",
        payload: { subject: `s${NUL}`, body: "b" },
        path: "body.subject",
      },
      { method: "GET", url: "/api/v1/search?q=dent%00al", path: "query.q" },
      { method: "GET", url: "/api/v1/tickets?tag=a%00", path: "query.tag" },
      { method: "GET", url: "/api/v1/tickets/%00", path: "params.id" },
      { method: "GET", url: "/api/v1/contacts?q=%1b%5b31m", path: "query.q" },
    ];
    for (const c of cases) {
      const res = await t.app.inject({
        method: c.method,
        url: c.url,
        headers: admin.auth,
        payload: c.payload as object,
      });
      expect(res.statusCode, `${c.method} ${c.url}`).toBe(400);
      expect(res.json().error.details.issues[0].path, `${c.method} ${c.url}`).toBe(c.path);
    }
  });

  it("keeps tabs and line breaks, which people do type", async () => {
    const res = await t.app.inject({
      method: "POST",
      url: `/api/v1/tickets/${ticketId}/timeline`,
      headers: admin.auth,
      payload: { kind: "note", body: "Steps:\n\t1. restart\r\n\t2. test" },
    });
    expect(res.statusCode).toBe(201);
  });

  it("stores an uploaded file under a safe name, whatever the browser sent", async () => {
    const boundary = "----sbtest";
    const name = "..\\..\u0000/etc/\u202Eexe.jpg";
    const body = [
      `--${boundary}`,
      `Content-Disposition: form-data; name="file"; filename="${name}"`,
      "Content-Type: image/jpeg\u0001",
      "",
      "not really a jpeg",
      `--${boundary}--`,
      "",
    ].join("\r\n");
    const res = await t.app.inject({
      method: "POST",
      url: `/api/v1/tickets/${ticketId}/attachments`,
      headers: { ...admin.auth, "content-type": `multipart/form-data; boundary=${boundary}` },
      payload: body,
    });
    expect(res.statusCode).toBe(201);
    const [file] = res.json().attachments;
    // The last path part, without the NUL and the right-to-left override that disguised it.
    expect(file).toMatchObject({ filename: "exe.jpg", contentType: "application/octet-stream" });
    expect(safeFileName("C:\\Users\\ann\\report.pdf")).toBe("report.pdf");
    expect(safeFileName(`${"x".repeat(300)}.pdf`)).toMatch(/^x{196}\.pdf$/);
    expect(safeFileName("\u202E\u0000 ")).toBe("attachment");
  });
});

describe("cursors and content types", () => {
  it("answers tampered keyset cursors with 400, never a database error", async () => {
    const uuid = "6f1c2f4e-0000-4000-8000-000000000000";
    const bad = [
      "not-base64-json",
      encodeCursor(["1", "2026-01-01 00:00:00+00"]),
      encodeCursor(["1", "2026-01-01 00:00:00+00", "not-a-uuid"]),
      encodeCursor(["99999999999999999999", "2026-01-01 00:00:00+00", uuid]),
      encodeCursor(["1", "294277-01-01 00:00:00+00", uuid]),
      encodeCursor(["1", "2026-13-45 99:99:99+00", uuid]),
      Buffer.from('{"a":1}').toString("base64url"),
      "x".repeat(5000),
    ];
    for (const cursor of bad) {
      const res = await t.app.inject({
        method: "GET",
        url: `/api/v1/tickets?sort=priority&cursor=${encodeURIComponent(cursor)}`,
        headers: admin.auth,
      });
      expect(res.statusCode, cursor.slice(0, 40)).toBe(400);
      expect(res.json().error.details?.issues?.[0]?.path ?? "query.cursor").toMatch(/^query\./);
    }
    const clients = await t.app.inject({
      method: "GET",
      url: `/api/v1/clients?cursor=${encodeCursor([`a${NUL}`, uuid])}`,
      headers: admin.auth,
    });
    expect(clients.statusCode).toBe(400);
  });

  it("answers a body that is not JSON with 415", async () => {
    const res = await t.app.inject({
      method: "POST",
      url: "/api/v1/tickets",
      headers: { ...admin.auth, "content-type": "text/plain" },
      payload: "subject=hello",
    });
    expect(res.statusCode).toBe(415);
    expect(res.json().error.code).toBe("unsupported_media_type");
  });
});
