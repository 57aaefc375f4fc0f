import type {
  MeDto,
  SearchResultDto,
  TicketListQuery,
  TicketSummaryDto,
  TicketWithTimelineDto,
} from "@switchboard/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { z } from "zod";
import { createTestApp, isolatedDatabase, type TestApp } from "../../../test/helpers.ts";
import { connectDatabase } from "../../db/database.ts";
import { AppError } from "../../http/errors.ts";
import { DEMO_TECHS } from "./data.ts";
import { type SeedDemoResult, seedDemo, storyClock } from "./seed.ts";

const PASSWORD = "demo-password-for-tests";
type TicketView = z.infer<typeof TicketWithTimelineDto>;

describe("switchboard seed demo", () => {
  let t: TestApp;
  let result: SeedDemoResult;
  let steps = 0;
  const sessions = new Map<string, string>();

  beforeAll(async () => {
    const url = await isolatedDatabase();
    const handle = connectDatabase(url, { max: 2 });
    try {
      result = await seedDemo(handle.db, { password: PASSWORD, onStep: () => steps++ });
    } finally {
      await handle.close();
    }
    t = await createTestApp({}, url);
  }, 120_000);
  afterAll(async () => {
    await t?.close();
  });

  async function as(email: string) {
    let cookie = sessions.get(email);
    if (!cookie) {
      const res = await t.app.inject({
        method: "POST",
        url: "/api/v1/auth/login",
        payload: { email, password: PASSWORD },
      });
      expect(res.statusCode, res.body).toBe(200);
      cookie = res.cookies.find((c) => c.name === "sb_session")!.value;
      sessions.set(email, cookie);
    }
    return { cookies: { sb_session: cookie } };
  }

  async function get<T>(email: string, url: string): Promise<T> {
    const res = await t.app.inject({ method: "GET", url, ...(await as(email)) });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as T;
  }

  const martin = DEMO_TECHS.martin.email;
  const search = (email: string, q: string) =>
    get<SearchResultDto>(email, `/api/v1/search?q=${encodeURIComponent(q)}`);
  const list = (email: string, q: TicketListQuery) =>
    get<{ items: TicketSummaryDto[] }>(
      email,
      `/api/v1/tickets?${new URLSearchParams(Object.entries(q).map(([k, v]): [string, string] => [k, String(v)]))}`,
    );

  it("does the first-run setup on an empty database and the demo technicians can sign in", async () => {
    expect(result.createdSetup).toBe(true);
    expect(result.counts).toMatchObject({ clients: 15, technicians: 8 });
    expect(result.counts.tickets).toBeGreaterThanOrEqual(25);
    expect(steps).toBeGreaterThan(50);
    const me = await get<MeDto>(DEMO_TECHS.dana.email, "/api/v1/auth/me");
    expect(me).toMatchObject({ name: "Dana Whitfield", role: "admin", mspName: "Lakeshore Managed IT" });
  });

  it("has the library's P1 outage, resolved, with its call, notes, reply and status change", async () => {
    const hits = await search(martin, "SeatSaver reservation");
    const hit = hits.tickets.find((x) => x.client.name === "Eaton Rapids Public Library" && x.priority === 1);
    expect(hit).toBeDefined();
    const { ticket, timeline } = await get<TicketView>(martin, `/api/v1/tickets/${hit!.id}`);
    expect(ticket.status.category).toBe("resolved");
    expect(ticket.assignee?.name).toBe("Martin Hale");
    expect(ticket.contact?.name).toBe("Tom Becker");
    const kinds = timeline.map((e) => e.kind);
    expect(kinds).toEqual(expect.arrayContaining(["call", "note", "reply", "event"]));
    const reply = timeline.find((e) => e.kind === "reply")!;
    expect(reply.visibility).toBe("public");
    expect(reply.body).toMatch(/reservation system is back/);
    // The story happened on a working day before now, in order, not all at the moment of seeding.
    const times = timeline.map((e) => Date.parse(e.createdAt)).sort((a, b) => a - b);
    expect(times.at(-1)!).toBeLessThanOrEqual(storyClock(new Date()).getTime());
    expect(times.at(-1)! - times[0]!).toBeGreaterThan(10 * 60_000);
    expect(Date.parse(ticket.resolvedAt!)).toBeLessThan(Date.now() - 60_000);
  });

  it("finds a contact by a phone number typed in another format", async () => {
    // Stored as "5175550123"; a technician types what the caller ID shows.
    const hits = await search(martin, "(517) 555-0123");
    expect(hits.contacts.map((c) => c.name)).toContain("Tom Becker");
  });

  it("puts the ISP outage in the waiting queue, waiting on the client, with a follow-up", async () => {
    const { items } = await list(martin, { queue: "waiting", limit: 100 });
    const isp = items.find((x) => x.subject.includes("ISP circuit"));
    expect(isp?.status.category).toBe("waiting_client");
    expect(isp?.followUpAt).not.toBeNull();
    expect(items.some((x) => x.status.category === "waiting_third_party")).toBe(true);
  });

  it("has the CRM install project with its child tasks", async () => {
    const hits = await search(martin, "CRM email marketing rollout");
    const project = hits.tickets.find((x) => x.subject === "CRM and email marketing rollout")!;
    const { ticket } = await get<TicketView>(martin, `/api/v1/tickets/${project.id}`);
    expect(ticket.children.length).toBe(4);
    expect(ticket.team?.name).toBe("Projects");
  });

  it("leaves new tickets unassigned in the Service Desk queue for the end-of-day review", async () => {
    const { items } = await list(martin, { queue: "unassigned", limit: 100 });
    expect(items.length).toBeGreaterThanOrEqual(3);
    expect(items.every((x) => x.assignee === null && x.team?.name === "Service Desk")).toBe(true);
  });

  it("keeps the contractor limited to the California clients", async () => {
    const marcus = DEMO_TECHS.marcus.email;
    expect((await search(marcus, "SeatSaver")).tickets).toEqual([]);
    const vpn = await search(marcus, "VPN password reset");
    expect(vpn.tickets.some((x) => x.client.name === "Hollis & Vance LLP")).toBe(true);
  });

  it("writes audit rows and events through the services", async () => {
    const audit = await t.db
      .selectFrom("audit_log")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("action", "=", "ticket.create")
      .executeTakeFirstOrThrow();
    expect(Number(audit.n)).toBe(result.counts.tickets);
    const events = await t.db
      .selectFrom("domain_events")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("type", "=", "ticket.created")
      .executeTakeFirstOrThrow();
    expect(Number(events.n)).toBe(result.counts.tickets);
  });

  it("refuses a database that already has tickets", async () => {
    await expect(seedDemo(t.db, { password: PASSWORD })).rejects.toThrow(AppError);
    await expect(seedDemo(t.db, { password: PASSWORD })).rejects.toThrow(/already has \d+ ticket/);
  });
});
