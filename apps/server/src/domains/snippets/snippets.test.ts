import { renderSnippet } from "@switchboard/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, makeUser, rand, type TestApp, type TestUser } from "../../../test/helpers.ts";

let t: TestApp;
let tech: TestUser;
let other: TestUser;
let dispatcher: TestUser;

const call = (user: TestUser, method: "GET" | "POST" | "PATCH" | "DELETE", url: string, payload?: object) =>
  t.app.inject({ method, url: `/api/v1${url}`, headers: user.auth, payload });

beforeAll(async () => {
  t = await createTestApp();
  tech = await makeUser(t);
  other = await makeUser(t);
  dispatcher = await makeUser(t, { role: "dispatcher" });
});
afterAll(async () => t?.close());

describe("canned responses", () => {
  it("keeps a technician's own snippets to them, shares the MSP's with everyone, and audits each change", async () => {
    const title = rand("Password reset ");
    const mine = await call(tech, "POST", "/snippets", {
      title,
      body: "Hi {{contact.firstName}}, I reset your password on #{{ticket.number}}.",
    });
    expect(mine.statusCode, mine.body).toBe(201);
    expect(mine.json()).toMatchObject({ title, shared: false, ownerId: tech.id, version: 1 });

    // A technician cannot share; a dispatcher can.
    expect((await call(tech, "POST", "/snippets", { title: "x", body: "y", shared: true })).statusCode).toBe(
      403,
    );
    const shared = await call(dispatcher, "POST", "/snippets", {
      title: rand("Closing "),
      body: "Thanks, {{contact.name}} - {{me.name}}",
      shared: true,
    });
    expect(shared.statusCode).toBe(201);

    const seen = (u: TestUser) =>
      call(u, "GET", "/snippets").then((r) => r.json().items.map((s: { id: string }) => s.id));
    expect(await seen(tech)).toEqual(expect.arrayContaining([mine.json().id, shared.json().id]));
    expect(await seen(other)).toContain(shared.json().id);
    expect(await seen(other)).not.toContain(mine.json().id);
    // Someone else's snippet is not found, not forbidden; a shared one is read-only for technicians.
    expect((await call(other, "DELETE", `/snippets/${mine.json().id}`)).statusCode).toBe(404);
    expect(
      (await call(tech, "PATCH", `/snippets/${shared.json().id}`, { version: 1, title: "mine now" }))
        .statusCode,
    ).toBe(403);

    const edited = await call(tech, "PATCH", `/snippets/${mine.json().id}`, {
      version: 1,
      title: `${title}!`,
    });
    expect(edited.json()).toMatchObject({ title: `${title}!`, version: 2 });
    const stale = await call(tech, "PATCH", `/snippets/${mine.json().id}`, { version: 1, title: "late" });
    expect(stale.statusCode).toBe(412);
    expect((await call(tech, "DELETE", `/snippets/${mine.json().id}`)).statusCode).toBe(204);
    const audit = await t.db
      .selectFrom("audit_log")
      .select("action")
      .where("entity_id", "=", mine.json().id)
      .orderBy("id")
      .execute();
    expect(audit.map((a) => a.action)).toEqual(["snippet.create", "snippet.update", "snippet.delete"]);
  });

  it("refuses a variable it cannot fill, naming the field", async () => {
    const res = await call(tech, "POST", "/snippets", { title: "Typo", body: "Hi {{contact.frstName}}" });
    expect(res.statusCode).toBe(400);
    expect(res.json().error.details.issues[0].path).toBe("body.body");
    expect(res.json().error.details.issues[0].message).toContain("{{contact.firstName}}");
  });

  it("fills the variables from the ticket, with a neutral word where there is no value", () => {
    const body =
      "Hi {{contact.firstName}}, #{{ ticket.number }} for {{client.name}} is done. {{me.firstName}}";
    expect(
      renderSnippet(body, {
        "contact.firstName": "Dana",
        "ticket.number": 1042,
        "client.name": "Riverbend Family Dentistry",
        "me.firstName": "Sam",
      }),
    ).toBe("Hi Dana, #1042 for Riverbend Family Dentistry is done. Sam");
    expect(renderSnippet("Hi {{contact.firstName}},", { "contact.firstName": null })).toBe("Hi there,");
  });
});
