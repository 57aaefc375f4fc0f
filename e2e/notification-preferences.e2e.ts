import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { expectAccessible, launchBrowser, screenshot, startE2EServer } from "./harness.ts";

type Server = Awaited<ReturnType<typeof startE2EServer>>;
type Browser = Awaited<ReturnType<typeof launchBrowser>>;

const ADMIN = {
  name: "Priya Natarajan",
  email: "priya@northwind-it.example",
  password: "a long enough password",
};
const ASSIGNED = "Email me when a ticket is assigned to me";
const NEW_REPLY = "Email me when a customer replies on my ticket";

// A technician turns off one notification email in Settings, and it is still off after a reload.
describe("notification settings", () => {
  let server: Server;
  let browser: Browser;
  let page: Page;

  beforeAll(async () => {
    server = await startE2EServer();
    const setup = await fetch(`${server.baseUrl}/api/v1/setup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ mspName: "Northwind IT", ...ADMIN }),
    });
    expect(setup.status).toBeLessThan(300);
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

  it("turns off the assignment email and keeps it off after a reload", async () => {
    await page.goto(server.baseUrl);
    await page.getByLabel("Email").fill(ADMIN.email);
    await page.getByLabel(/^Password/).fill(ADMIN.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "My day" }).waitFor();

    await page.getByRole("button", { name: `Account: ${ADMIN.name}` }).click();
    await page.getByRole("menuitem", { name: "Settings" }).click();
    await page.getByRole("heading", { name: "Settings", level: 1 }).waitFor();
    const assigned = page.getByRole("switch", { name: ASSIGNED });
    const newReply = page.getByRole("switch", { name: NEW_REPLY });
    await expect.poll(() => assigned.isChecked()).toBe(true);
    expect(await newReply.isChecked()).toBe(true);
    await expectAccessible(page, "settings");

    // By keyboard, as a switch should work: focus it, press Space.
    await assigned.focus();
    const [saved] = await Promise.all([
      page.waitForResponse(
        (r) => r.url().endsWith("/api/v1/me/notification-preferences") && r.request().method() === "PUT",
      ),
      page.keyboard.press("Space"),
    ]);
    expect(saved.status()).toBe(200);
    expect(await assigned.isChecked()).toBe(false);

    await page.reload();
    await page.getByRole("heading", { name: "Settings", level: 1 }).waitFor();
    await expect.poll(() => page.getByRole("switch", { name: ASSIGNED }).isChecked()).toBe(false);
    expect(await page.getByRole("switch", { name: NEW_REPLY }).isChecked()).toBe(true);
    await expectAccessible(page, "settings after a change");

    const stored = await server.db
      .selectFrom("user_notification_preferences as p")
      .innerJoin("users as u", "u.id", "p.user_id")
      .select(["p.assigned", "p.new_reply"])
      .where("u.email", "=", ADMIN.email)
      .executeTakeFirstOrThrow();
    expect(stored).toEqual({ assigned: false, new_reply: true });
  });

  it("puts a switch back and says so when the save fails", async () => {
    // The server answering 500 is the only way to make this save fail on purpose.
    await page.route("**/api/v1/me/notification-preferences", (route) =>
      route.request().method() === "PUT"
        ? route.fulfill({
            status: 500,
            contentType: "application/json",
            body: JSON.stringify({ error: { code: "internal_error", message: "Internal server error" } }),
          })
        : route.continue(),
    );
    const newReply = page.getByRole("switch", { name: NEW_REPLY });
    await newReply.focus();
    await page.keyboard.press("Space");
    await page.getByText("Not saved").waitFor();
    await expect.poll(() => newReply.isChecked()).toBe(true);
    await page.unroute("**/api/v1/me/notification-preferences");
    const stored = await server.db
      .selectFrom("user_notification_preferences as p")
      .innerJoin("users as u", "u.id", "p.user_id")
      .select("p.new_reply")
      .where("u.email", "=", ADMIN.email)
      .executeTakeFirstOrThrow();
    expect(stored.new_reply).toBe(true);
  });
});
