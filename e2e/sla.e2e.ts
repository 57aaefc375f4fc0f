import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newSecret, sha256 } from "../apps/server/src/domains/auth/crypto.ts";
import { makeClient, makeContact } from "../apps/server/test/helpers.ts";
import { apiCall, expectAccessible, launchBrowser, screenshot, startE2EServer } from "./harness.ts";

type Server = Awaited<ReturnType<typeof startE2EServer>>;
type Browser = Awaited<ReturnType<typeof launchBrowser>>;

const ADMIN = {
  name: "Dana Whitfield",
  email: "dana@lakeshore-it.example",
  password: "a long enough password",
};
const WAITING_ON_CLIENT = "00000000-0000-4000-8000-000000000004";

// The SLA countdown on the queue and the ticket (the worker computes it from the outbox), the clock
// pausing live when the ticket waits on the client, and the on-call calendar.
describe("SLA and on-call", () => {
  let server: Server;
  let tech: Browser;
  let page: Page;
  let token = "";
  let ticket = { id: "", number: 0, version: 0 };

  beforeAll(async () => {
    server = await startE2EServer();
    const setup = await fetch(`${server.baseUrl}/api/v1/setup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ mspName: "Lakeshore IT", ...ADMIN }),
    });
    expect(setup.status).toBeLessThan(300);
    const admin = await server.db
      .selectFrom("users")
      .select("id")
      .where("email", "=", ADMIN.email)
      .executeTakeFirstOrThrow();
    token = newSecret("sb_");
    await server.db
      .insertInto("api_tokens")
      .values({ user_id: admin.id, name: "e2e", token_hash: sha256(token), prefix: token.slice(0, 10) })
      .execute();
    const calendars = await apiCall<Array<{ id: string; name: string }>>(
      server.baseUrl,
      token,
      "GET",
      "/sla/calendars",
    );
    const always = calendars.find((c) => c.name === "24/7")!;
    await apiCall(server.baseUrl, token, "POST", "/sla/policies", {
      name: "Gold",
      calendarId: always.id,
      isDefault: true,
      targets: {
        "1": { firstResponse: 15, resolution: 240 },
        "2": { firstResponse: 120, resolution: 960 },
        "3": { firstResponse: 240, resolution: 2400 },
        "4": { firstResponse: null, resolution: null },
      },
    });
    await apiCall(server.baseUrl, token, "POST", "/oncall/rotations", {
      name: "Nights",
      timeZone: "America/Chicago",
      period: "weekly",
      handover: "17:00",
      anchorDate: "2026-01-05",
      memberIds: [admin.id],
    });
    const client = await makeClient({ db: server.db }, "Riverbend Family Dentistry");
    const riley = await makeContact({ db: server.db }, client.id, { firstName: "Riley", lastName: "Owens" });
    ticket = await apiCall(server.baseUrl, token, "POST", "/tickets", {
      subject: "Imaging server unreachable",
      clientId: client.id,
      contactId: riley.id,
      priority: 2,
    });
    // The worker computes the clock from the ticket's event.
    for (let i = 0; i < 150; i++) {
      const t = await server.db
        .selectFrom("tickets")
        .select("sla_state")
        .where("id", "=", ticket.id)
        .executeTakeFirstOrThrow();
      if (t.sla_state) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    tech = await launchBrowser();
    page = tech.page;
  });
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === "fail") {
      await screenshot(page, `failed-${ctx.task.name.slice(0, 40).replace(/\W+/g, "-")}`).catch(() => {});
    }
  });
  afterAll(async () => {
    await tech?.close();
    await server?.stop();
  });

  it("shows the countdown in the queue and on the ticket, and pauses it live", {
    timeout: 120_000,
  }, async () => {
    await page.goto(server.baseUrl);
    await page.getByLabel("Email").fill(ADMIN.email);
    await page.getByLabel(/^Password/).fill(ADMIN.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "My day" }).waitFor();

    await page.goto(`${server.baseUrl}/queues/all?sort=sla_due`);
    const badge = page.locator(`[data-ticket-number="${ticket.number}"]`).getByTestId("sla-badge");
    await badge.waitFor();
    expect(await badge.textContent()).toMatch(/^1h 5\dm$|^2h 00m$/);
    await expectAccessible(page, "queue sorted by SLA due");

    await page.goto(`${server.baseUrl}/tickets/${ticket.number}`);
    const firstResponse = page.getByTestId("sla-first-response");
    await firstResponse.waitFor();
    expect(await firstResponse.textContent()).toContain("left");
    await expectAccessible(page, "ticket with its SLA");

    const current = await apiCall<{ version: number }>(server.baseUrl, token, "GET", `/tickets/${ticket.id}`);
    await apiCall(server.baseUrl, token, "PATCH", `/tickets/${ticket.id}`, {
      version: current.version,
      statusId: WAITING_ON_CLIENT,
    });
    await page.getByTestId("sla-first-response").filter({ hasText: "Paused" }).waitFor({ timeout: 30_000 });
    await page.getByRole("button", { name: "Why this time?" }).click();
    await page
      .getByRole("list", { name: "Clock history" })
      .getByText(/Waiting on client/)
      .waitFor();
  });

  it("shows who is on call and the rota's calendar", { timeout: 60_000 }, async () => {
    await page.goto(`${server.baseUrl}/oncall`);
    await page.getByRole("heading", { name: "On call", level: 1 }).waitFor();
    await page.getByTestId("on-call-now").getByText("Dana Whitfield").waitFor();
    await page.getByTestId("shift").first().waitFor();
    await expectAccessible(page, "on-call page");
    await page.goto(`${server.baseUrl}/end-of-day`);
    await page.getByRole("heading", { name: "SLA due before the morning" }).waitFor();
    await expectAccessible(page, "end of day with what falls due overnight");
    await page.goto(`${server.baseUrl}/admin/sla`);
    await page.getByRole("cell", { name: "Gold (default)" }).waitFor();
    await expectAccessible(page, "SLA admin");
  });
});
