import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestApp,
  makeClient,
  makeUser,
  rand,
  type TestApp,
  type TestUser,
} from "../../../test/helpers.ts";
import { asContact, makePortalContact } from "../portal/test-support.ts";

let t: TestApp;
let tech: TestUser;

beforeAll(async () => {
  t = await createTestApp();
  tech = await makeUser(t);
});
afterAll(() => t.close());

const write = async (user: TestUser, body: object) => {
  const res = await t.app.inject({
    method: "POST",
    url: "/api/v1/kb/articles",
    headers: user.auth,
    payload: body,
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
};

const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=",
  "base64",
);

describe("knowledge base", () => {
  it("stores sanitised HTML: no script, no event handlers, no javascript: links; code blocks and images stay", async () => {
    const a = await write(tech, {
      title: "Bluescreen after the printer driver update",
      visibility: "public",
      bodyHtml:
        '<p onclick="steal()">Boot in safe mode.<script>alert(1)</script></p>' +
        '<a href="javascript:alert(2)">click</a> <a href="https://vendor.example/kb">vendor</a>' +
        '<pre><code class="language-powershell">Get-PnpDevice | ? Status -eq Error</code></pre>' +
        '<img src="https://cdn.example/shot.png" onerror="x()"><img src="data:image/png;base64,AAAA">' +
        '<img src="/api/v1/tickets">',
    });
    expect(a.bodyHtml).not.toMatch(/script|onclick|onerror|javascript:|data:|\/api\/v1\/tickets/);
    expect(a.bodyHtml).toContain('<code class="language-powershell">Get-PnpDevice');
    expect(a.bodyHtml).toContain('<img src="https://cdn.example/shot.png" />');
    expect(a.bodyHtml).toContain(
      'href="https://vendor.example/kb" rel="noopener noreferrer nofollow" target="_blank"',
    );
    expect(a.bodyText).toContain("Boot in safe mode.");
  });

  it("is found by the one search endpoint, within what the technician may see", async () => {
    const mine = await makeClient(t);
    const other = await makeClient(t);
    const limited = await makeUser(t, { clientIds: [mine.id] });
    const word = rand("quokka").toLowerCase();
    const global = await write(tech, { title: `Reset ${word} passwords`, visibility: "public" });
    const ofMine = await write(tech, { title: `${word} at the clinic`, clientId: mine.id });
    const ofOther = await write(tech, { title: `${word} at the shop`, clientId: other.id });
    const search = async (u: TestUser) =>
      (await t.app.inject({ method: "GET", url: `/api/v1/search?q=${word}`, headers: u.auth })).json();
    expect(new Set((await search(tech)).articles.map((x: { id: string }) => x.id))).toEqual(
      new Set([global.id, ofMine.id, ofOther.id]),
    );
    expect(new Set((await search(limited)).articles.map((x: { id: string }) => x.id))).toEqual(
      new Set([global.id, ofMine.id]),
    );
    const get = (u: TestUser, id: string) =>
      t.app.inject({ method: "GET", url: `/api/v1/kb/articles/${id}`, headers: u.auth });
    expect((await get(limited, ofOther.id)).statusCode).toBe(404);
    expect((await get(limited, ofMine.id)).statusCode).toBe(200);
    // A client-limited technician writes only for their clients.
    const refused = await t.app.inject({
      method: "POST",
      url: "/api/v1/kb/articles",
      headers: limited.auth,
      payload: { title: "x", clientId: other.id },
    });
    expect(refused.statusCode).toBe(400);
  });

  it("drafts an internal article from a ticket's problem and resolution", async () => {
    const client = await makeClient(t);
    const ticket = (
      await t.app.inject({
        method: "POST",
        url: "/api/v1/tickets",
        headers: tech.auth,
        payload: {
          subject: "Outlook <keeps> asking for a password",
          clientId: client.id,
          description: "Since Monday.",
        },
      })
    ).json();
    await t.app.inject({
      method: "POST",
      url: `/api/v1/tickets/${ticket.id}/timeline`,
      headers: tech.auth,
      payload: { kind: "reply", body: "Cleared the cached credential in Credential Manager." },
    });
    await t.app.inject({
      method: "POST",
      url: `/api/v1/tickets/${ticket.id}/timeline`,
      headers: tech.auth,
      payload: { kind: "note", body: "internal only" },
    });
    const res = await t.app.inject({
      method: "POST",
      url: "/api/v1/kb/articles/from-ticket",
      headers: tech.auth,
      payload: { ticketId: ticket.id },
    });
    expect(res.statusCode, res.body).toBe(201);
    const a = res.json();
    expect(a).toMatchObject({
      title: "Outlook <keeps> asking for a password",
      visibility: "internal",
      client: { id: client.id },
      sourceTicket: { id: ticket.id, number: ticket.number },
    });
    expect(a.bodyHtml).toContain("Since Monday.");
    expect(a.bodyHtml).toContain("Cleared the cached credential");
    expect(a.bodyHtml).not.toContain("internal only");
  });

  it("suggests public articles of the contact's company or of everyone in the portal, never internal or another company's", async () => {
    const mine = await makeClient(t);
    const other = await makeClient(t);
    const word = rand("vpn").toLowerCase();
    const pub = await write(tech, { title: `Connect the ${word} from home`, visibility: "public" });
    const pubMine = await write(tech, {
      title: `${word} for the clinic`,
      visibility: "public",
      clientId: mine.id,
    });
    await write(tech, { title: `${word} server admin notes`, visibility: "internal" });
    const pubOther = await write(tech, {
      title: `${word} for the shop`,
      visibility: "public",
      clientId: other.id,
    });
    const jo = await makePortalContact(t, mine.id);
    const res = await asContact(
      t,
      jo,
      "GET",
      `/api/v1/portal/kb/articles?q=${encodeURIComponent(`my ${word} is broken`)}`,
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(new Set(res.json().map((x: { id: string }) => x.id))).toEqual(new Set([pub.id, pubMine.id]));
    expect((await asContact(t, jo, "GET", `/api/v1/portal/kb/articles/${pubOther.id}`)).statusCode).toBe(404);

    // An image of the public article, served to the portal through its own route.
    const boundary = "----kb";
    const up = await t.app.inject({
      method: "POST",
      url: `/api/v1/kb/articles/${pubMine.id}/files`,
      headers: { ...tech.auth, "content-type": `multipart/form-data; boundary=${boundary}` },
      payload: Buffer.concat([
        Buffer.from(
          `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\nContent-Type: image/png\r\n\r\n`,
        ),
        PNG,
        Buffer.from(`\r\n--${boundary}--\r\n`),
      ]),
    });
    expect(up.statusCode, up.body).toBe(201);
    const { url, id: fileId } = up.json();
    const edited = await t.app.inject({
      method: "PATCH",
      url: `/api/v1/kb/articles/${pubMine.id}`,
      headers: tech.auth,
      payload: { version: pubMine.version, bodyHtml: `<p>See:</p><img src="${url}" alt="screen">` },
    });
    expect(edited.statusCode, edited.body).toBe(200);
    const shown = (await asContact(t, jo, "GET", `/api/v1/portal/kb/articles/${pubMine.id}`)).json();
    expect(shown.bodyHtml).toContain(`src="/api/v1/portal/kb/files/${fileId}"`);
    const img = await asContact(t, jo, "GET", `/api/v1/portal/kb/files/${fileId}`);
    expect(img.statusCode).toBe(200);
    expect(img.headers["content-type"]).toBe("image/png");
    const outsider = await makePortalContact(t, other.id);
    expect((await asContact(t, outsider, "GET", `/api/v1/portal/kb/files/${fileId}`)).statusCode).toBe(404);
  });
});
