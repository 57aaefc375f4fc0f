import { simpleParser } from "mailparser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, makeClient, makeUser, type TestApp, type TestUser } from "../../../test/helpers.ts";
import { serverKeys, signToken } from "../../lib/server-keys.ts";
import { notifyOnEvent } from "../email/notifications.ts";
import { startEmailStack, startReceiver, ticketEventFeed, waitFor } from "../email/test-support.ts";
import { asContact, makePortalContact } from "../portal/test-support.ts";
import { BUILTIN_STATUS } from "../tickets/queries.ts";
import { ratingToken } from "./links.ts";

let t: TestApp;
let stack: Awaited<ReturnType<typeof startEmailStack>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let tech: TestUser;
let admin: TestUser;

beforeAll(async () => {
  receiver = await startReceiver();
  t = await createTestApp({
    SWITCHBOARD_SMTP_RELAY_URL: `smtp://127.0.0.1:${receiver.port}`,
    SWITCHBOARD_EMAIL_FROM: "help@msp.example",
    SWITCHBOARD_PUBLIC_URL: "https://help.msp.example",
  });
  stack = await startEmailStack({ db: t.db, blobs: t.deps.blobs, config: t.deps.config }, t.url, {
    listener: false,
  });
  t.deps.boss = stack.deps.boss;
  tech = await makeUser(t, { name: "Riley Tech" });
  admin = await makeUser(t, { role: "admin" });
});
afterAll(async () => {
  await stack?.stop(false);
  await t?.close();
  await receiver?.close();
});

/** A portal ticket assigned to the technician and resolved; the resolution email's handler run. */
async function resolvedTicket(clientId?: string) {
  const client = clientId ?? (await makeClient(t)).id;
  const jo = await makePortalContact(t, client);
  const ticket = (
    await asContact(t, jo, "POST", "/api/v1/portal/tickets", { subject: "Scanner offline" })
  ).json();
  const feed = ticketEventFeed(t.db, ticket.id, (e) => notifyOnEvent(stack.deps, e));
  const current = (
    await t.app.inject({ method: "GET", url: `/api/v1/tickets/${ticket.id}`, headers: tech.auth })
  ).json().ticket;
  const res = await t.app.inject({
    method: "PATCH",
    url: `/api/v1/tickets/${ticket.id}`,
    headers: tech.auth,
    payload: { version: current.version, assigneeId: tech.id, statusId: BUILTIN_STATUS.resolved.id },
  });
  expect(res.statusCode, res.body).toBe(200);
  await feed();
  return { ticket, jo, clientId: client };
}

const rate = (token: string, rating: string, comment?: string) =>
  t.app.inject({ method: "POST", url: "/api/v1/csat/rate", payload: { token, rating, comment } });

describe("satisfaction ratings", () => {
  it("the resolution email carries one-click links; one rating per ticket, which the same link may change", async () => {
    const { ticket, jo } = await resolvedTicket();
    const mail = await waitFor(async () => receiver.mails.find((m) => m.to.includes(jo.email)));
    const text = (await simpleParser(mail.raw)).text ?? "";
    const links = Object.fromEntries(
      [
        ...text.matchAll(/(Good|Okay|Bad): https:\/\/help\.msp\.example\/portal\/rate#t=([\w.-]+)&r=(\w+)/g),
      ].map((m) => [m[3], m[2]]),
    );
    expect(Object.keys(links).sort()).toEqual(["bad", "good", "okay"]);
    const token = links.good!;
    const lookup = await t.app.inject({ method: "POST", url: "/api/v1/csat/lookup", payload: { token } });
    expect(lookup.json()).toMatchObject({ number: ticket.number, rating: null });
    expect((await rate(token, "good")).statusCode).toBe(200);
    expect((await rate(token, "okay", "Took a while")).statusCode).toBe(200);
    const rows = await t.db
      .selectFrom("csat_ratings")
      .selectAll()
      .where("ticket_id", "=", ticket.id)
      .execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ rating: "okay", comment: "Took a while", technician_id: tech.id });
    const seen = (await asContact(t, jo, "GET", `/api/v1/portal/tickets/${ticket.id}`)).json();
    expect(seen.rating).toBe("okay");
  });

  it("refuses forged, expired and other-purpose tokens", async () => {
    const { ticket } = await resolvedTicket();
    const good = await ratingToken(t.deps.config, ticket.id);
    const [payload, sig] = good.split(".");
    const forged = `${Buffer.from(JSON.stringify({ p: "csat", e: 4102444800, d: { t: ticket.id } })).toString("base64url")}.${sig}`;
    expect((await rate(forged, "bad")).statusCode).toBe(404);
    expect((await rate(`${payload}.AAAA`, "bad")).statusCode).toBe(404);
    const keys = await serverKeys(t.deps.config);
    expect((await rate(signToken(keys, "csat", { t: ticket.id }, -10), "bad")).statusCode).toBe(404);
    expect((await rate(signToken(keys, "share", { t: ticket.id }, 3600), "bad")).statusCode).toBe(404);
    expect(
      await t.db.selectFrom("csat_ratings").selectAll().where("ticket_id", "=", ticket.id).execute(),
    ).toEqual([]);
  });

  it("a bad rating reopens the ticket, or alerts the assignee, as the MSP chose", async () => {
    const first = await resolvedTicket();
    expect(
      (await rate(await ratingToken(t.deps.config, first.ticket.id), "bad", "Still broken")).statusCode,
    ).toBe(200);
    const reopened = (
      await t.app.inject({ method: "GET", url: `/api/v1/tickets/${first.ticket.id}`, headers: tech.auth })
    ).json();
    expect(reopened.ticket.status.category).toBe("open");
    expect(reopened.timeline.map((e: { body: string }) => e.body).join("\n")).toContain(
      'Rated bad by the client: "Still broken"',
    );

    const settings = (
      await t.app.inject({ method: "GET", url: "/api/v1/csat/settings", headers: admin.auth })
    ).json();
    const put = await t.app.inject({
      method: "PUT",
      url: "/api/v1/csat/settings",
      headers: admin.auth,
      payload: { version: settings.version, badAction: "alert" },
    });
    expect(put.statusCode, put.body).toBe(200);
    try {
      const second = await resolvedTicket();
      const before = receiver.mails.length;
      await rate(await ratingToken(t.deps.config, second.ticket.id), "bad");
      const alert = await waitFor(async () =>
        receiver.mails.slice(before).find((m) => m.to.includes(tech.email)),
      );
      expect((await simpleParser(alert.raw)).subject).toBe(
        `Bad rating: #${second.ticket.number} Scanner offline`,
      );
      const still = (
        await t.app.inject({ method: "GET", url: `/api/v1/tickets/${second.ticket.id}`, headers: tech.auth })
      ).json();
      expect(still.ticket.status.category).toBe("resolved");
    } finally {
      const now = (
        await t.app.inject({ method: "GET", url: "/api/v1/csat/settings", headers: admin.auth })
      ).json();
      await t.app.inject({
        method: "PUT",
        url: "/api/v1/csat/settings",
        headers: admin.auth,
        payload: { version: now.version, badAction: "reopen" },
      });
    }
  });

  it("reports satisfaction per client and technician, within the clients the reader sees", async () => {
    const client = await makeClient(t);
    const a = await resolvedTicket(client.id);
    const b = await resolvedTicket(client.id);
    await rate(await ratingToken(t.deps.config, a.ticket.id), "good");
    await rate(await ratingToken(t.deps.config, b.ticket.id), "okay");
    const limited = await makeUser(t, { clientIds: [client.id] });
    const report = (
      await t.app.inject({ method: "GET", url: "/api/v1/reports/csat", headers: limited.auth })
    ).json();
    expect(report.byClient).toEqual([
      expect.objectContaining({ id: client.id, good: 1, okay: 1, bad: 0, total: 2, score: 50 }),
    ]);
    expect(report.byTechnician).toEqual([
      expect.objectContaining({ id: tech.id, name: "Riley Tech", total: 2 }),
    ]);
    expect(report.totals).toMatchObject({ total: 2, score: 50 });
    const bad = await t.app.inject({
      method: "GET",
      url: "/api/v1/reports/csat?from=2026-13-01",
      headers: tech.auth,
    });
    expect(bad.statusCode).toBe(400);
  });
});
