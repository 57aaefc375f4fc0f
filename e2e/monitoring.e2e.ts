import AxeBuilder from "@axe-core/playwright";
import { sql } from "kysely";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { expectAccessible, launchBrowser, screenshot, startE2EServer } from "./harness.ts";

type Server = Awaited<ReturnType<typeof startE2EServer>>;
type Browser = Awaited<ReturnType<typeof launchBrowser>>;

const ADMIN = {
  name: "Dana Whitfield",
  email: "dana@northwind-it.example",
  password: "a long enough password",
};

// 10:45, the library calls: its machines are offline. The technician has the Alerts page open and sees
// the site outage arrive live as one P1 ticket, opens it (the devices behind it are listed), then a
// device's Monitoring section.
describe("monitoring", () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  let deviceIds: string[] = [];

  beforeAll(async () => {
    // The worker's sweep runs every second; devices count as offline at once (the presence the gateways
    // write is what the sweep reads: the test writes it directly).
    server = await startE2EServer({
      MONITORING_SWEEP_SECONDS: "1",
      MONITORING_OFFLINE_GRACE_SECONDS: "0",
      MONITORING_CORRELATION_SECONDS: "2",
      MONITORING_RECOVER_SECONDS: "2",
    });
    const setup = await fetch(`${server.baseUrl}/api/v1/setup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ mspName: "Northwind IT", ...ADMIN }),
    });
    expect(setup.status).toBeLessThan(300);
    const client = await server.db
      .insertInto("clients")
      .values({ name: "Riverside Public Library", email_domains: ["riverside-library.example"] })
      .returning("id")
      .executeTakeFirstOrThrow();
    const site = await server.db
      .insertInto("sites")
      .values({ client_id: client.id, name: "Main branch", timezone: "America/Chicago" })
      .returning("id")
      .executeTakeFirstOrThrow();
    const rows = await server.db
      .insertInto("devices")
      .values(
        ["LIB-CIRC-01", "LIB-CIRC-02", "LIB-KIOSK-01", "LIB-SRV-01"].map((hostname) => ({
          client_id: client.id,
          site_id: site.id,
          hostname,
          platform: "win32",
          arch: "x64",
          os_name: "Windows 11 Pro",
          os_version: "24H2",
          agent_version: "1.0.0",
          public_key: "unused",
          online: true,
          last_seen_at: new Date(),
        })),
      )
      .returning("id")
      .execute();
    deviceIds = rows.map((r) => r.id);
    browser = await launchBrowser();
    page = browser.page;
  });
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === "fail") {
      await screenshot(page, `failed-${ctx.task.name.slice(0, 40).replace(/\W+/g, "-")}`).catch(() => {});
    }
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("shows the library going dark live as one P1 ticket, and the device's monitoring", async () => {
    await page.goto(server.baseUrl);
    await page.getByLabel("Email").fill(ADMIN.email);
    await page.getByLabel(/^Password/).fill(ADMIN.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "My day" }).waitFor();
    await page.getByRole("link", { name: "Alerts" }).click();
    await page.getByRole("heading", { name: "Alerts", level: 1 }).waitFor();
    // Off the navigation, so axe judges the page and not a hovered link.
    await page.mouse.move(700, 10);
    await page.getByText("No open alerts. Everything monitored is healthy.").waitFor();

    // The branch loses its connection: every machine drops off at once.
    await sql`update devices set online = false, gateway_id = null, last_seen_at = now() - interval '5 minutes'
      where id = any(${deviceIds}::uuid[])`.execute(server.db);

    const table = page.getByRole("table", { name: "Alerts" });
    await expect.poll(() => table.getByRole("row").count(), { timeout: 20_000 }).toBe(5);
    // One ticket for the site, on every row.
    const ticketLinks = table.getByRole("link", { name: /^#\d+$/ });
    await expect
      .poll(async () => new Set(await ticketLinks.allTextContents()).size, { timeout: 20_000 })
      .toBe(1);
    expect(await ticketLinks.count()).toBe(4);
    await page.getByRole("button", { name: /Riverside Public Library/ }).waitFor();
    await expectAccessible(page, "alerts page with a site outage");
    await screenshot(page, "monitoring-alerts");
    const tickets = await server.db.selectFrom("tickets").select(["priority", "subject"]).execute();
    expect(tickets).toEqual([{ priority: 1, subject: "Site offline: Main branch (4 of 4 devices)" }]);

    await ticketLinks.first().click();
    await page.getByRole("heading", { name: /Site offline: Main branch/ }).waitFor();
    const onTicket = page.getByRole("table", { name: "Alerts" });
    await expect.poll(() => onTicket.getByRole("row").count()).toBe(5);
    await expectAccessible(page, "the site outage ticket");
    await screenshot(page, "monitoring-ticket");

    await onTicket.getByRole("link", { name: "LIB-SRV-01" }).click();
    await page.getByRole("heading", { name: "LIB-SRV-01", level: 1 }).waitFor();
    await page.getByRole("heading", { name: "Monitoring" }).waitFor();
    await page.getByText("No checks apply to this device.", { exact: false }).waitFor();
    await page.getByRole("table", { name: "Alerts" }).getByText("Device offline").waitFor();
    // The device page's own sections (its remote panel, another domain's, is judged by its own scenario).
    const axe = await new AxeBuilder({ page })
      .include('section[aria-labelledby="device-monitoring"]')
      .include('section[aria-labelledby="device-alerts"]')
      .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
      .analyze();
    expect(axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical")).toEqual([]);
    await screenshot(page, "monitoring-device");

    // The branch comes back: the alerts resolve and leave the open list, live.
    await sql`update devices set online = true, last_seen_at = now() where id = any(${deviceIds}::uuid[])`.execute(
      server.db,
    );
    await page.getByRole("link", { name: "Alerts" }).click();
    await page.getByText("No open alerts. Everything monitored is healthy.").waitFor({ timeout: 60_000 });
    const resolved = await server.db
      .selectFrom("tickets")
      .select("status_category")
      .executeTakeFirstOrThrow();
    expect(resolved.status_category).toBe("resolved");

    // Sunday patching at the branch: a weekly window in the site's time zone.
    const windows = page.locator('section[aria-labelledby="maintenance"]');
    await windows.getByRole("combobox", { name: "Client" }).click();
    await page.getByRole("option", { name: "Riverside Public Library" }).click();
    await windows.getByRole("combobox", { name: "Site" }).click();
    await page.getByRole("option", { name: "Main branch" }).click();
    await windows.getByRole("combobox", { name: "Repeats" }).click();
    await page.getByRole("option", { name: "Every week" }).click();
    await windows.getByLabel(/^At \(site time\)/).fill("02:00");
    await windows.getByLabel("Reason").fill("Sunday patching");
    await windows.getByRole("button", { name: "Add window" }).click();
    const recurring = page.getByRole("table", { name: "Recurring maintenance windows" });
    await recurring.getByText("Every Sunday 02:00 for 2 h").waitFor();
    await recurring.getByText("America/Chicago").waitFor();
    await expectAccessible(page, "maintenance windows");

    // Policies and ticket rules: a new policy's form is there to fill in, and the page passes axe.
    await page.getByRole("link", { name: "Monitoring policies" }).click();
    await page.getByRole("heading", { name: "Monitoring policies", level: 1 }).waitFor();
    await page.getByRole("button", { name: "New policy" }).click();
    await page.getByLabel("Policy name").fill("Library servers");
    // A ping from the office watching the branch's line, which runs a script once when it fires.
    await page.getByRole("combobox", { name: "Check", exact: true }).click();
    await page.getByRole("option", { name: "ping", exact: true }).click();
    await page.getByLabel(/^Name/).fill("Main branch internet");
    await page.getByLabel(/^Host/).fill("203.0.113.7");
    await page.getByRole("combobox", { name: "Watches the connection of" }).click();
    await page.getByRole("option", { name: "Riverside Public Library" }).click();
    await page.getByRole("combobox", { name: "Site", exact: true }).last().click();
    await page.getByRole("option", { name: "Main branch" }).click();
    await page.getByRole("combobox", { name: "On alert, try once" }).click();
    await page.getByRole("option", { name: "Run a script" }).click();
    await page.getByLabel(/^Remediation script/).fill("logger 'main branch line down'");
    await page.mouse.move(700, 10);
    await expectAccessible(page, "monitoring policies");
    await screenshot(page, "monitoring-policies");
    await page.getByRole("button", { name: "Save policy" }).click();
    const checks = page.getByRole("table", { name: "Checks of Library servers" });
    await checks.getByText("watches Main branch (Riverside Public Library)").waitFor();
    await checks.getByText("run a bash script").waitFor();
    const saved = await server.db
      .selectFrom("monitoring_checks")
      .select(["uplink_site_id", "remediation"])
      .where("name", "=", "Main branch internet")
      .executeTakeFirstOrThrow();
    expect(saved.uplink_site_id).not.toBeNull();
    expect(saved.remediation).toMatchObject({ kind: "script.run", script: "logger 'main branch line down'" });
  }, 120_000);
});
