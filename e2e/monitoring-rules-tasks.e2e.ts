import AxeBuilder from "@axe-core/playwright";
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
const P1_SWITCH = "Email me when monitoring opens a P1 ticket";

// The dispatcher sets monitoring up for the dental practice's SQL server: a tag policy with a nightly
// "verify the backup" task, the server tagged so the policy reaches it, an after-hours ticket rule, and
// their own P1 email turned off.
describe("monitoring rules, tags and scheduled tasks", () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  let deviceId = "";

  beforeAll(async () => {
    server = await startE2EServer();
    const setup = await fetch(`${server.baseUrl}/api/v1/setup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ mspName: "Northwind IT", ...ADMIN }),
    });
    expect(setup.status).toBeLessThan(300);
    const client = await server.db
      .insertInto("clients")
      .values({ name: "Harbor Dental", email_domains: ["harbor-dental.example"] })
      .returning("id")
      .executeTakeFirstOrThrow();
    const site = await server.db
      .insertInto("sites")
      .values({ client_id: client.id, name: "Surgery", timezone: "Europe/London" })
      .returning("id")
      .executeTakeFirstOrThrow();
    const device = await server.db
      .insertInto("devices")
      .values({
        client_id: client.id,
        site_id: site.id,
        hostname: "HD-SQL-01",
        platform: "win32",
        arch: "x64",
        os_name: "Windows Server 2022",
        os_version: "21H2",
        agent_version: "1.0.0",
        public_key: "unused",
        online: true,
        last_seen_at: new Date(),
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    deviceId = device.id;
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

  it("a tag policy with a scheduled task, a tagged device, a business-hours rule and the P1 switch", async () => {
    await page.goto(server.baseUrl);
    await page.getByLabel("Email").fill(ADMIN.email);
    await page.getByLabel(/^Password/).fill(ADMIN.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "My day" }).waitFor();

    // A policy for every client's devices tagged sql-server, with one check.
    await page.getByRole("link", { name: "Monitoring policies" }).click();
    await page.getByRole("heading", { name: "Monitoring policies", level: 1 }).waitFor();
    await page.getByRole("button", { name: "New policy" }).click();
    await page.getByLabel("Policy name").fill("SQL servers");
    await page.getByRole("combobox", { name: "Devices tagged" }).fill("sql-server");
    await page.getByRole("textbox", { name: /^Name/ }).fill("SQL engine");
    await page.getByLabel("Service name").fill("MSSQLSERVER");
    await page.getByRole("button", { name: "Save policy" }).click();
    await page
      .getByRole("heading", { name: /SQL servers — Devices tagged sql-server \(every client\)/ })
      .waitFor();

    // Its editor: a scheduled task.
    await page.getByRole("button", { name: "Edit SQL servers" }).click();
    await page.getByRole("button", { name: "Add a scheduled task" }).click();
    const taskForm = page.getByRole("form", { name: "New scheduled task" });
    await taskForm.getByLabel("Task name").fill("Verify last night's backup");
    await taskForm.getByLabel(/^Schedule/).fill("30 6 * * *");
    await taskForm.getByLabel("Script").fill('test -n "$(find D:/Backups -mtime -1)"');
    await taskForm.getByRole("button", { name: "Save task" }).click();
    await page.getByText("Verify last night's backup").waitFor();
    await page.getByText("30 6 * * *").waitFor();
    await page.mouse.move(700, 10);
    await expectAccessible(page, "policy editor with a scheduled task");
    await screenshot(page, "monitoring-policy-task");
    const task = await server.db
      .selectFrom("monitoring_tasks")
      .select(["id", "cron"])
      .where("name", "=", "Verify last night's backup")
      .executeTakeFirstOrThrow();
    expect(task.cron).toBe("30 6 * * *");

    // This morning's run, as the scheduler and the agent leave it.
    const client = await server.db
      .selectFrom("devices")
      .select("client_id")
      .where("id", "=", deviceId)
      .executeTakeFirstOrThrow();
    await server.db
      .insertInto("monitoring_task_runs")
      .values({
        task_id: task.id,
        device_id: deviceId,
        client_id: client.client_id,
        due_at: new Date(Date.now() - 3 * 3600_000),
        status: "succeeded",
        judged: true,
        exit_code: 0,
        output: "Backup of 02:00 found (41 GB)",
        finished_at: new Date(Date.now() - 3 * 3600_000 + 20_000),
      })
      .execute();

    // The server, untagged: no checks. Tagged (typed in capitals): the tag policy's check appears.
    await page.goto(`${server.baseUrl}/devices/${deviceId}`);
    await page.getByRole("heading", { name: "HD-SQL-01", level: 1 }).waitFor();
    await page.getByText("No checks apply to this device.", { exact: false }).waitFor();
    await page.getByRole("button", { name: "Edit tags" }).click();
    const tags = page.getByLabel("Device tags").first();
    await tags.fill("SQL-Server");
    await tags.press("Enter");
    await page.getByRole("button", { name: "Save tags" }).click();
    await page.getByRole("group", { name: "Tags" }).getByText("sql-server").waitFor();
    const checks = page.getByRole("table", { name: "Checks" });
    await checks.getByText("SQL engine").waitFor();
    await checks.getByText(/service every \d+s · SQL servers/).waitFor();
    const runs = page.getByRole("table", { name: "Task runs" });
    await runs.getByText("Verify last night's backup").waitFor();
    await runs.getByText("succeeded").waitFor();
    expect(
      (
        await server.db
          .selectFrom("devices")
          .select("tags")
          .where("id", "=", deviceId)
          .executeTakeFirstOrThrow()
      ).tags,
    ).toEqual(["sql-server"]);
    await page.mouse.move(700, 10);
    const axe = await new AxeBuilder({ page })
      .include('section[aria-labelledby="device-monitoring"]')
      .include('section[aria-labelledby="device-task-runs"]')
      .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
      .analyze();
    expect(axe.violations.filter((v) => v.impact === "serious" || v.impact === "critical")).toEqual([]);
    await screenshot(page, "monitoring-device-tags");

    // Ticket rules: an after-hours P1 rule and a quiet one for backups, reordered, one removed.
    await page.getByRole("link", { name: "Monitoring policies" }).click();
    await page.getByRole("heading", { name: "Monitoring policies", level: 1 }).waitFor();
    await page.getByRole("button", { name: "Add a rule" }).click();
    let form = page.getByRole("form", { name: "New ticket rule" });
    await form.getByLabel("Rule name").fill("After hours");
    await form.getByRole("combobox", { name: "Business hours" }).click();
    await page.getByRole("option", { name: "Outside business hours (and holidays)" }).click();
    await form.getByRole("combobox", { name: "Priority" }).click();
    await page.getByRole("option", { name: "P1" }).click();
    await form.getByRole("button", { name: "Save rule" }).click();
    const list = page.getByRole("table", { name: "Ticket rules: Every client" });
    await list.getByText("outside business hours (the client's SLA calendar)").waitFor();
    await list.getByText(/^P1 · resolved on recovery$/).waitFor();

    await page.getByRole("button", { name: "Add a rule" }).click();
    form = page.getByRole("form", { name: "New ticket rule" });
    await form.getByLabel("Rule name").fill("Quiet");
    await form.getByLabel("Open a ticket").uncheck();
    await form.getByRole("button", { name: "Save rule" }).click();
    await list.getByText("no ticket (the alert stays on the Alerts page)").waitFor();
    // Edit the first rule: a name that says who it is for.
    await list
      .getByRole("row", { name: /After hours/ })
      .getByRole("button", { name: "Edit" })
      .click();
    form = page.getByRole("form", { name: "Edit ticket rule" });
    await form.getByLabel("Rule name").fill("After hours on call");
    await form.getByRole("button", { name: "Save rule" }).click();
    await list.getByRole("cell", { name: "After hours on call", exact: true }).waitFor();
    await page.getByRole("button", { name: "Move Quiet up" }).click();
    await expect
      .poll(async () => (await list.getByRole("row").nth(1).textContent()) ?? "")
      .toContain("Quiet");
    await page.mouse.move(700, 10);
    await expectAccessible(page, "ticket rules");
    await screenshot(page, "monitoring-ticket-rules");
    await page.getByRole("button", { name: "Delete Quiet" }).click();
    await expect.poll(() => list.getByRole("row").count()).toBe(2);
    const rules = await server.db
      .selectFrom("monitoring_ticket_rules")
      .select(["name", "business_hours", "priority", "client_id"])
      .execute();
    expect(rules).toEqual([
      { name: "After hours on call", business_hours: "outside", priority: 1, client_id: null },
    ]);

    // The P1 email: off, and still off after a reload.
    await page.getByRole("button", { name: `Account: ${ADMIN.name}` }).click();
    await page.getByRole("menuitem", { name: "Settings" }).click();
    await page.getByRole("heading", { name: "Settings", level: 1 }).waitFor();
    const p1 = page.getByRole("switch", { name: P1_SWITCH });
    await expect.poll(() => p1.isChecked()).toBe(true);
    const [saved] = await Promise.all([
      page.waitForResponse(
        (r) => r.url().endsWith("/api/v1/me/notification-preferences") && r.request().method() === "PUT",
      ),
      p1.click(),
    ]);
    expect(saved.status()).toBe(200);
    await page.reload();
    await page.getByRole("heading", { name: "Settings", level: 1 }).waitFor();
    await expect.poll(() => page.getByRole("switch", { name: P1_SWITCH }).isChecked()).toBe(false);
    await expectAccessible(page, "settings with the P1 switch");
    const stored = await server.db
      .selectFrom("user_notification_preferences as p")
      .innerJoin("users as u", "u.id", "p.user_id")
      .select("p.monitoring_p1")
      .where("u.email", "=", ADMIN.email)
      .executeTakeFirstOrThrow();
    expect(stored.monitoring_p1).toBe(false);
  }, 120_000);
});
