import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestApp,
  makeClient,
  makeUser,
  rand,
  type TestApp,
  type TestUser,
} from "../../../test/helpers.ts";
import { asContact, makePortalContact, type PortalContact } from "./test-support.ts";

// The portal isolation matrix: every route a portal contact can call, called by contacts of company A
// (an ordinary contact and a company admin) with the ids of company B's records. Each must answer like
// an unknown id (or with A's own data only), and no answer may carry anything of B's.

let t: TestApp;
let tech: TestUser;

interface Company {
  clientId: string;
  contact: PortalContact;
  admin: PortalContact;
  ticketId: string;
  attachmentId: string;
  articleId: string;
  fileId: string;
  /** A caller verification of the contact, started by the desk (domains/identity). */
  verificationId: string;
  /** Strings that belong to this company only: none may appear in the other company's answers. */
  markers: string[];
}

const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=",
  "base64",
);

function multipart(name: string, filename: string, type: string, data: Buffer) {
  const boundary = `----${rand()}`;
  return {
    headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
    payload: Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${filename}"\r\nContent-Type: ${type}\r\n\r\n`,
      ),
      data,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]),
  };
}

async function company(word: string): Promise<Company> {
  const client = await makeClient(t, rand(`Company ${word} `));
  const contact = await makePortalContact(t, client.id);
  const admin = await makePortalContact(t, client.id, { companyAdmin: true });
  const subject = `${word} ticket ${rand()}`;
  const ticket = (
    await asContact(t, contact, "POST", "/api/v1/portal/tickets", { subject, description: `${word} details` })
  ).json();
  await t.app.inject({
    method: "POST",
    url: `/api/v1/tickets/${ticket.id}/timeline`,
    headers: tech.auth,
    payload: { kind: "reply", body: `${word} reply from the desk` },
  });
  const file = multipart("file", `${word}.txt`, "text/plain", Buffer.from(`${word} file body`));
  const up = await t.app.inject({
    method: "POST",
    url: `/api/v1/portal/tickets/${ticket.id}/attachments`,
    cookies: contact.cookies,
    headers: file.headers,
    payload: file.payload,
  });
  const title = `${word} public article ${rand()}`;
  const article = (
    await t.app.inject({
      method: "POST",
      url: "/api/v1/kb/articles",
      headers: tech.auth,
      payload: { title, visibility: "public", clientId: client.id, bodyHtml: `<p>${word} how-to</p>` },
    })
  ).json();
  const image = multipart("file", "shot.png", "image/png", PNG);
  const img = await t.app.inject({
    method: "POST",
    url: `/api/v1/kb/articles/${article.id}/files`,
    headers: { ...tech.auth, ...image.headers },
    payload: image.payload,
  });
  const verification = (
    await t.app.inject({
      method: "POST",
      url: "/api/v1/identity/verifications",
      headers: tech.auth,
      payload: { contactId: contact.id },
    })
  ).json();
  return {
    clientId: client.id,
    verificationId: verification.id,
    contact,
    admin,
    ticketId: ticket.id,
    attachmentId: up.json().attachments[0].id,
    articleId: article.id,
    fileId: img.json().id,
    markers: [
      client.id,
      client.name,
      ticket.id,
      subject,
      up.json().attachments[0].id,
      article.id,
      title,
      img.json().id,
      verification.id,
      contact.id,
      contact.email,
      word,
    ],
  };
}

let a: Company;
let b: Company;

beforeAll(async () => {
  t = await createTestApp();
  tech = await makeUser(t);
  a = await company(rand("alpha").toLowerCase());
  b = await company(rand("bravo").toLowerCase());
});
afterAll(() => t.close());

type Row = {
  method: "GET" | "POST" | "PUT";
  route: string;
  /** The request made with company B's ids. */
  url: (other: Company) => string;
  body?: (other: Company) => unknown;
  multipart?: boolean;
  /** 404: B's record answers like an unknown one; otherwise the status A gets for their own request. */
  expect: number;
};

const MATRIX: Row[] = [
  { method: "GET", route: "/api/v1/portal/me", url: () => "/api/v1/portal/me", expect: 200 },
  {
    method: "PUT",
    route: "/api/v1/portal/me/password",
    url: () => "/api/v1/portal/me/password",
    body: () => ({ password: "a brand new password" }),
    expect: 204,
  },
  { method: "POST", route: "/api/v1/portal/me/totp", url: () => "/api/v1/portal/me/totp", expect: 200 },
  {
    method: "POST",
    route: "/api/v1/portal/me/totp/confirm",
    url: () => "/api/v1/portal/me/totp/confirm",
    body: () => ({ code: "123456" }),
    expect: 400,
  },
  {
    method: "GET",
    route: "/api/v1/portal/tickets",
    url: () => "/api/v1/portal/tickets?scope=company&status=all",
    expect: 200,
  },
  {
    method: "POST",
    route: "/api/v1/portal/tickets",
    url: () => "/api/v1/portal/tickets",
    body: (o) => ({ subject: "Mine", clientId: o.clientId }),
    expect: 201,
  },
  {
    method: "GET",
    route: "/api/v1/portal/tickets/:id",
    url: (o) => `/api/v1/portal/tickets/${o.ticketId}`,
    expect: 404,
  },
  {
    method: "POST",
    route: "/api/v1/portal/tickets/:id/replies",
    url: (o) => `/api/v1/portal/tickets/${o.ticketId}/replies`,
    body: () => ({ body: "hello?" }),
    expect: 404,
  },
  {
    method: "POST",
    route: "/api/v1/portal/tickets/:id/attachments",
    url: (o) => `/api/v1/portal/tickets/${o.ticketId}/attachments`,
    multipart: true,
    expect: 404,
  },
  {
    method: "GET",
    route: "/api/v1/portal/attachments/:id",
    url: (o) => `/api/v1/portal/attachments/${o.attachmentId}`,
    expect: 404,
  },
  {
    method: "GET",
    route: "/api/v1/portal/kb/articles",
    url: (o) => `/api/v1/portal/kb/articles?q=${encodeURIComponent(o.markers.at(-1)!)}&limit=20`,
    expect: 200,
  },
  {
    method: "GET",
    route: "/api/v1/portal/kb/articles/:id",
    url: (o) => `/api/v1/portal/kb/articles/${o.articleId}`,
    expect: 404,
  },
  {
    method: "GET",
    route: "/api/v1/portal/kb/files/:id",
    url: (o) => `/api/v1/portal/kb/files/${o.fileId}`,
    expect: 404,
  },
  // Call verification (domains/identity): the contact's own authenticator, nothing of another company.
  { method: "GET", route: "/api/v1/portal/identity", url: () => "/api/v1/portal/identity", expect: 200 },
  {
    method: "POST",
    route: "/api/v1/portal/identity/totp",
    url: () => "/api/v1/portal/identity/totp",
    expect: 200,
  },
  {
    method: "POST",
    route: "/api/v1/portal/identity/totp/confirm",
    url: () => "/api/v1/portal/identity/totp/confirm",
    body: () => ({ code: "000000" }),
    expect: 422,
  },
  {
    method: "POST",
    route: "/api/v1/portal/identity/verifications",
    url: () => "/api/v1/portal/identity/verifications",
    expect: 201,
  },
  {
    method: "GET",
    route: "/api/v1/portal/identity/verifications/:id",
    url: (o) => `/api/v1/portal/identity/verifications/${o.verificationId}`,
    expect: 404,
  },
  {
    method: "POST",
    route: "/api/v1/portal/identity/verifications/:id/challenges",
    url: (o) => `/api/v1/portal/identity/verifications/${o.verificationId}/challenges`,
    body: () => ({ method: "email" }),
    expect: 404,
  },
  {
    method: "POST",
    route: "/api/v1/portal/identity/verifications/:id/check",
    url: (o) => `/api/v1/portal/identity/verifications/${o.verificationId}/check`,
    body: () => ({ challengeId: "00000000-0000-4000-8000-000000000000", code: "123456" }),
    expect: 404,
  },
  {
    method: "POST",
    route: "/api/v1/portal/identity/reset",
    url: () => "/api/v1/portal/identity/reset",
    body: (o) => ({ action: "unlock", verificationId: o.verificationId }),
    expect: 403,
  },
];

describe("portal isolation matrix", () => {
  it("covers every route a portal contact can call", () => {
    const contactRoutes = t.app.routeTable
      .filter((r) => r.policy.access === "contact" && r.method !== "HEAD")
      .map((r) => `${r.method} ${r.url}`)
      .sort();
    expect(MATRIX.map((r) => `${r.method} ${r.route}`).sort()).toEqual(contactRoutes);
  });

  for (const row of MATRIX) {
    for (const who of ["contact", "admin"] as const) {
      it(`${row.method} ${row.route} as company A's ${who}: nothing of company B`, async () => {
        const me = a[who];
        const file = multipart("file", "x.txt", "text/plain", Buffer.from("x"));
        const res = await t.app.inject({
          method: row.method,
          url: row.url(b),
          cookies: me.cookies,
          ...(row.multipart
            ? { headers: file.headers, payload: file.payload }
            : { payload: row.body?.(b) as never }),
        });
        expect(res.statusCode, res.body).toBe(row.expect);
        for (const m of b.markers) expect(res.body, `leaks ${m}`).not.toContain(m);
      });
    }
  }

  it("A's company admin sees A's records through the same routes (the matrix is not empty-handed)", async () => {
    const list = (await asContact(t, a.admin, "GET", "/api/v1/portal/tickets?scope=company")).json();
    expect(list.items.map((x: { id: string }) => x.id)).toContain(a.ticketId);
    expect(
      (await asContact(t, a.admin, "GET", `/api/v1/portal/attachments/${a.attachmentId}`)).statusCode,
    ).toBe(200);
    expect(
      (await asContact(t, a.contact, "GET", `/api/v1/portal/kb/articles/${a.articleId}`)).statusCode,
    ).toBe(200);
    expect((await asContact(t, a.contact, "GET", `/api/v1/portal/kb/files/${a.fileId}`)).statusCode).toBe(
      200,
    );
    const suggested = (
      await asContact(t, a.contact, "GET", `/api/v1/portal/kb/articles?q=${a.markers.at(-1)}`)
    ).json();
    expect(suggested.map((x: { id: string }) => x.id)).toEqual([a.articleId]);
  });

  it("a portal session never opens a staff route, whatever it asks for", async () => {
    for (const r of t.app.routeTable.filter(
      (x) => x.policy.access === "user" && x.method === "GET" && !x.url.includes(":"),
    )) {
      const res = await t.app.inject({ method: "GET", url: r.url, cookies: a.admin.cookies });
      expect(res.statusCode, `${r.url}`).toBe(401);
    }
  });
});
