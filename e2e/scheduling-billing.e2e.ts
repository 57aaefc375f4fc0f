import { simpleParser } from "mailparser";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newSecret, sha256 } from "../apps/server/src/domains/auth/crypto.ts";
import { startReceiver } from "../apps/server/src/domains/email/test-support.ts";
import { makeClient, makeContact } from "../apps/server/test/helpers.ts";
import { apiCall, expectAccessible, launchBrowser, screenshot, startE2EServer } from "./harness.ts";

type Server = Awaited<ReturnType<typeof startE2EServer>>;
type Browser = Awaited<ReturnType<typeof launchBrowser>>;

const ADMIN = {
  name: "Dana Whitfield",
  email: "dana@lakeshore-it.example",
  password: "a long enough password",
};

// The agent install booked with the client by email, the time logged on the ticket, the month billed.
describe("scheduling, time and billing", () => {
  let server: Server;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let tech: Browser;
  let contact: Browser;
  let page: Page;
  let token = "";
  let ticket = { id: "", number: 0 };
  const contactEmail = "riley@riverbend.example";
  let clientName = "";

  beforeAll(async () => {
    receiver = await startReceiver();
    server = await startE2EServer({
      SWITCHBOARD_SMTP_RELAY_URL: `smtp://127.0.0.1:${receiver.port}`,
      SWITCHBOARD_EMAIL_FROM: "desk@lakeshore-it.example",
    });
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
    const client = await makeClient({ db: server.db }, "Riverbend Family Dentistry");
    clientName = client.name;
    const riley = await makeContact({ db: server.db }, client.id, {
      firstName: "Riley",
      lastName: "Owens",
      email: contactEmail,
    });
    ticket = await apiCall(server.baseUrl, token, "POST", "/tickets", {
      subject: "New front desk PC: install the agent",
      clientId: client.id,
      contactId: riley.id,
    });
    await apiCall(server.baseUrl, token, "POST", "/contracts", {
      clientId: client.id,
      name: "Standard",
      startsOn: "2026-01-01",
      lines: [
        {
          kind: "hourly",
          description: "Remote support",
          rateMinor: 12_000,
          roundingMinimumMinutes: 15,
          roundingIncrementMinutes: 15,
        },
      ],
    });
    tech = await launchBrowser();
    contact = await launchBrowser();
    page = tech.page;
  });
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === "fail") {
      await screenshot(page, `failed-${ctx.task.name.slice(0, 40).replace(/\W+/g, "-")}`).catch(() => {});
    }
  });
  afterAll(async () => {
    await contact?.close();
    await tech?.close();
    await server?.stop();
    await receiver?.close();
  });

  it("proposes times from the ticket; the contact picks one from the email; the dispatch calendar shows it", {
    timeout: 150_000,
  }, async () => {
    await page.goto(server.baseUrl);
    await page.getByLabel("Email").fill(ADMIN.email);
    await page.getByLabel(/^Password/).fill(ADMIN.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "My day" }).waitFor();

    await page.goto(`${server.baseUrl}/tickets/${ticket.number}`);
    await page.getByTestId("ticket-subject").waitFor();
    await page.getByRole("button", { name: "Propose times" }).click();
    const dialog = page.getByRole("dialog", { name: "Propose times to the contact" });
    await dialog.waitFor();
    const slots = dialog.getByTestId("free-slots").getByRole("checkbox");
    await slots.first().waitFor();
    await slots.nth(0).check();
    await slots.nth(1).check();
    await expectAccessible(page, "propose times");
    await dialog.getByRole("button", { name: /^Send 2 times/ }).click();
    await dialog.waitFor({ state: "hidden" });

    // The contact's mail, from the loopback SMTP server standing in for their mail provider.
    let url = "";
    for (let i = 0; i < 300 && !url; i++) {
      for (const m of receiver.mails.filter((x) => x.to.includes(contactEmail))) {
        const text = (await simpleParser(m.raw)).text ?? "";
        url = /(https?:\/\/\S+\/book\/sbb_[\w-]+)\?slot=/.exec(text)?.[1] ?? url;
      }
      if (!url) await new Promise((r) => setTimeout(r, 200));
    }
    expect(url).not.toBe("");
    await contact.page.goto(url);
    await contact.page.getByRole("heading", { name: "Choose a time with Dana Whitfield" }).waitFor();
    await expectAccessible(contact.page, "booking link");
    await contact.page.getByRole("radio").first().check();
    await contact.page.getByRole("button", { name: "Book this time" }).click();
    await contact.page.getByText("Booked").waitFor();

    await page.goto(`${server.baseUrl}/dispatch`);
    await page.getByRole("heading", { name: "Dispatch" }).waitFor();
    // The booked time is this week or next: look in both.
    const shown = page.getByTestId("dispatch-appointment").filter({ hasText: `#${ticket.number}` });
    if (!(await shown.count())) await page.getByRole("button", { name: "Next week" }).click();
    await shown.first().waitFor();
    await expectAccessible(page, "dispatch calendar");
  });

  it("runs a timer on the ticket, then bills the month and downloads the CSV", {
    timeout: 120_000,
  }, async () => {
    await page.goto(`${server.baseUrl}/tickets/${ticket.number}`);
    await page.getByRole("button", { name: "Start timer" }).click();
    await page.getByTestId("timer-indicator").waitFor();
    await page.getByRole("button", { name: "Stop timer" }).click();
    await page.getByText("Time logged").first().waitFor();
    await page.getByTestId("timer-indicator").waitFor({ state: "detached" });

    await page.goto(`${server.baseUrl}/billing`);
    await page.getByRole("heading", { name: "Billing" }).waitFor();
    await page.getByRole("button", { name: /^Run billing for/ }).click();
    const row = page.getByRole("row").filter({ hasText: clientName });
    await row.waitFor();
    await expectAccessible(page, "billing");
    await row.getByRole("button", { name: "Approve" }).click();
    await row.getByText("approved").waitFor();
    const [download] = await Promise.all([
      page.waitForEvent("download"),
      page.getByRole("link", { name: "Download CSV (QuickBooks)" }).click(),
    ]);
    const file = await download.path();
    const { readFile } = await import("node:fs/promises");
    const csv = await readFile(file, "utf8");
    const [header, ...lines] = csv.trim().split("\r\n");
    expect(header).toMatch(/^Invoice number,Customer,Invoice date/);
    // 1 minute rounded to the 15-minute minimum at 120.00 an hour: 30.00.
    expect(lines.some((l) => l.includes(clientName) && l.includes(",0.25,120.00,30.00,"))).toBe(true);
  });
});
