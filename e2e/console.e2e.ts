import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newSecret, sha256 } from "../apps/server/src/domains/auth/crypto.ts";
import { makeClient, makeContact, makeTeam } from "../apps/server/test/helpers.ts";
import { apiCall, expectAccessible, launchBrowser, screenshot, startE2EServer } from "./harness.ts";

type Server = Awaited<ReturnType<typeof startE2EServer>>;
type Browser = Awaited<ReturnType<typeof launchBrowser>>;
interface Ticket {
  id: string;
  number: number;
  subject: string;
  version: number;
}

const ADMIN = {
  name: "Martin Hendler",
  email: "martin@convergence.example",
  password: "correct horse battery",
};
const SAM = { name: "Sam Rivera", email: "sam@convergence.example", password: "staple battery horse" };

async function signIn(page: Page, baseUrl: string, who: { email: string; password: string }) {
  await page.goto(baseUrl);
  await page.getByLabel("Email").fill(who.email);
  await page.getByLabel(/^Password/).fill(who.password);
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "My day" }).waitFor();
}

// The scenarios of a technician's day, in order, on one server and database: first-run setup makes the
// admin the later scenarios sign in as.
describe("technician console", () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  let adminToken = "";
  let adminId = "";
  let statuses: Array<{ id: string; name: string; category: string }> = [];
  const world = { clientId: "", teamId: "", contactName: "Dana Whitfield" };

  beforeAll(async () => {
    server = await startE2EServer();
    browser = await launchBrowser();
    page = browser.page;
  });
  afterEach(async (ctx) => {
    // What the technician saw when a scenario failed.
    if (ctx.task.result?.state === "fail") {
      await screenshot(page, `failed-${ctx.task.name.slice(0, 40).replace(/\W+/g, "-")}`).catch(() => {});
    }
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
  });

  it("first-run setup, sign out and sign in", async () => {
    await page.goto(server.baseUrl);
    await page.getByRole("heading", { name: "Set up Switchboard" }).waitFor();
    await expectAccessible(page, "setup");
    await page.getByLabel("Company (MSP) name").fill("Convergence IT");
    await page.getByLabel("Your name").fill(ADMIN.name);
    await page.getByLabel("Email").fill(ADMIN.email);
    await page.getByLabel(/^Password/).fill("short");
    await page.getByRole("button", { name: "Create admin and sign in" }).click();
    // The server's message, next to the field it names.
    await page.getByText("must be at least 12 characters").waitFor();

    await page.getByLabel(/^Password/).fill(ADMIN.password);
    await page.getByRole("button", { name: "Create admin and sign in" }).click();
    await page.getByRole("heading", { name: "My day" }).waitFor();
    await expect.poll(() => page.getByText("Convergence IT").first().isVisible()).toBe(true);

    await page.getByRole("button", { name: `Account: ${ADMIN.name}` }).click();
    await page.getByRole("menuitem", { name: "Sign out" }).click();
    await page.getByRole("heading", { name: "Sign in" }).waitFor();
    await expectAccessible(page, "login");
    await page.getByLabel("Email").fill(ADMIN.email);
    await page.getByLabel(/^Password/).fill("wrong password!!");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").waitFor();
    await signIn(page, server.baseUrl, ADMIN);

    // Arrange the rest of the day: a client with a VIP caller, a team, a second technician.
    const admin = await server.db
      .selectFrom("users")
      .select("id")
      .where("email", "=", ADMIN.email)
      .executeTakeFirstOrThrow();
    adminId = admin.id;
    adminToken = newSecret("sb_");
    await server.db
      .insertInto("api_tokens")
      .values({
        user_id: adminId,
        name: "e2e",
        token_hash: sha256(adminToken),
        prefix: adminToken.slice(0, 10),
      })
      .execute();
    const client = await makeClient(server, "Bright Smiles Dental");
    const team = await makeTeam(server, "Service desk");
    await server.db.insertInto("team_members").values({ team_id: team.id, user_id: adminId }).execute();
    await makeContact(server, client.id, {
      firstName: "Dana",
      lastName: "Whitfield",
      phone: "(555) 201-3344",
      email: "dana@brightsmiles.example",
      vip: true,
    });
    await apiCall(server.baseUrl, adminToken, "POST", "/users", {
      ...SAM,
      role: "technician",
      teamIds: [team.id],
    });
    world.clientId = client.id;
    world.teamId = team.id;
    statuses = await apiCall(server.baseUrl, adminToken, "GET", "/statuses");
  });

  it("a call from a known contact becomes a password-reset ticket with a call log, and is resolved", async () => {
    await page.goto(`${server.baseUrl}/intake`);
    await page.getByTestId("caller-lookup").fill("555.201.3344");
    const match = page.getByTestId("caller-matches").getByRole("option", { name: /Dana Whitfield/ });
    await match.waitFor();
    await expectAccessible(page, "phone intake");
    await match.click();
    await expect.poll(() => page.getByTestId("caller").textContent()).toContain("Bright Smiles Dental");
    await page.getByRole("button", { name: "Password reset" }).click();
    await page
      .getByLabel("Call notes")
      .fill("Dana locked out after holiday; reset via admin portal, verified login.");
    await page.getByLabel("Duration (min)").fill("4");
    await screenshot(page, "phone-intake");
    await page.getByRole("button", { name: "Create ticket" }).click();

    await page.getByTestId("ticket-subject").filter({ hasText: "Password reset" }).waitFor();
    const call = page.getByTestId("call-log").first();
    await expect.poll(() => call.textContent()).toMatch(/Inbound call · \(555\) 201-3344 · 4m 00s/);
    await expect.poll(() => page.getByTestId("timeline").textContent()).toContain("Dana locked out");
    await page.getByRole("button", { name: "Resolve (e)" }).click();
    // Resolving asks how (optional) before it resolves.
    await page.getByRole("dialog").getByRole("button", { name: "Resolve", exact: true }).click();
    await page.getByRole("button", { name: "Resolve (e)" }).waitFor({ state: "detached" });
    await expect.poll(() => page.getByTestId("timeline").textContent()).toContain("changed status");
    await page.getByTestId("composer").fill("Dana confirmed she can sign in to the practice software again.");
    await expectAccessible(page, "ticket");
    await screenshot(page, "ticket");
  });

  it("a ticket moved to waiting on client shows in Waiting, with how long", async () => {
    const t = await apiCall<Ticket>(server.baseUrl, adminToken, "POST", "/tickets", {
      subject: "ISP outage at the front desk",
      clientId: world.clientId,
      teamId: world.teamId,
      assigneeId: adminId,
      priority: 2,
    });
    await page.goto(`${server.baseUrl}/tickets/${t.number}`);
    await page.getByTestId("status-select").click();
    await page.getByRole("option", { name: "Waiting on client" }).click();
    await expect.poll(() => page.getByTestId("timeline").textContent()).toContain("Waiting on client");
    await page.getByText("Note (n)").click();
    await page.getByLabel("Internal note").fill("Modem status page attached; ISP ticket 88231 opened.");
    await page.locator('input[type="file"]').setInputFiles({
      name: "modem-status.txt",
      mimeType: "text/plain",
      buffer: Buffer.from("DSL sync: down\nUptime: 0\n"),
    });
    await page.getByRole("button", { name: "Add note" }).click();
    await expect.poll(() => page.getByTestId("timeline").textContent()).toContain("modem-status.txt");

    await page.goto(`${server.baseUrl}/queues/waiting`);
    const row = page.locator(`[data-ticket-number="${t.number}"]`);
    await row.waitFor();
    expect(await row.textContent()).toContain("Waiting on client");
    await screenshot(page, "queue-waiting");
  });

  it("two technicians on one ticket see each other, and a stale save is refused without losing text", async () => {
    const t = await apiCall<Ticket>(server.baseUrl, adminToken, "POST", "/tickets", {
      subject: "BSOD on reception PC",
      clientId: world.clientId,
      teamId: world.teamId,
      priority: 3,
    });
    const sam = await launchBrowser();
    try {
      await signIn(sam.page, server.baseUrl, SAM);
      await page.goto(`${server.baseUrl}/tickets/${t.number}`);
      await sam.page.goto(`${server.baseUrl}/tickets/${t.number}`);
      await page
        .getByTestId("presence")
        .filter({ hasText: `${SAM.name} is also viewing` })
        .waitFor();
      await sam.page
        .getByTestId("presence")
        .filter({ hasText: `${ADMIN.name} is also viewing` })
        .waitFor();

      await sam.page.getByTestId("composer").fill("Checked the minidump: faulty NIC driver, rolling back.");
      await page
        .getByTestId("presence")
        .filter({ hasText: `${SAM.name} is typing` })
        .waitFor();
      await screenshot(page, "ticket-collision");

      // Sam's screen is a moment behind (a slow network): hold his refetches while Martin saves.
      await sam.page.route("**/api/v1/tickets/by-number/**", async (route) => {
        await new Promise((r) => setTimeout(r, 4000));
        await route.continue().catch(() => {});
      });
      await apiCall(server.baseUrl, adminToken, "PATCH", `/tickets/${t.id}`, {
        version: t.version,
        priority: 1,
      });
      await sam.page.getByTestId("status-select").click();
      await sam.page.getByRole("option", { name: "In progress" }).click();
      const conflict = sam.page.getByTestId("conflict");
      await conflict.waitFor();
      expect(await conflict.textContent()).toMatch(/Priority: P3 → P1/);
      expect(await sam.page.getByTestId("composer").inputValue()).toBe(
        "Checked the minidump: faulty NIC driver, rolling back.",
      );
      await sam.page.unroute("**/api/v1/tickets/by-number/**");
      await sam.page.getByRole("button", { name: "Apply my change on top" }).click();
      await conflict.waitFor({ state: "detached" });
      const after = await apiCall<{ ticket: { priority: number; status: { name: string } } }>(
        server.baseUrl,
        adminToken,
        "GET",
        `/tickets/${t.id}`,
      );
      expect(after.ticket).toMatchObject({ priority: 1, status: { name: "In progress" } });
    } finally {
      await sam.close();
    }
  });

  it("a ticket created through the API appears in the open queue without a reload", async () => {
    await page.goto(`${server.baseUrl}/queues/all`);
    await page.getByTestId("ticket-list").waitFor();
    await page.getByTestId("live-state").filter({ hasText: "Live" }).waitFor();
    const t = await apiCall<Ticket>(server.baseUrl, adminToken, "POST", "/tickets", {
      subject: "Printer on floor 2 jams on every job",
      clientId: world.clientId,
      priority: 3,
    });
    await page.locator(`[data-ticket-number="${t.number}"]`).waitFor();
    await expectAccessible(page, "queue");
    await screenshot(page, "queue");
  });

  it("keyboard: j/k move through the queue, Enter opens, r focuses the reply, ? lists shortcuts", async () => {
    await page.goto(`${server.baseUrl}/queues/all`);
    const rows = page.locator("[data-ticket-number]");
    await rows.first().waitFor();
    await page.keyboard.press("j");
    await page.keyboard.press("j");
    await page.keyboard.press("k");
    const active = page.locator('[data-current="true"]');
    const number = await active.getAttribute("data-ticket-number");
    expect(number).toBe(await rows.nth(1).getAttribute("data-ticket-number"));
    await page.keyboard.press("Enter");
    await page.waitForURL(`**/tickets/${number}`);
    await page.getByTestId("ticket-subject").waitFor();
    await page.keyboard.press("n");
    await expect
      .poll(() => page.evaluate(() => document.activeElement?.getAttribute("aria-label")))
      .toBe("Internal note");
    await page.keyboard.press("Escape");
    await page.keyboard.press("Shift+?");
    await page.getByRole("dialog", { name: "Keyboard shortcuts" }).waitFor();
  });

  it("My day shows my work and what changed; end of day lists the resolved ticket", async () => {
    const resolved = statuses.find((s) => s.category === "resolved");
    expect(resolved).toBeDefined();
    await page.goto(server.baseUrl);
    await page.getByRole("heading", { name: "My day" }).waitFor();
    await page.getByRole("table", { name: "My open tickets" }).waitFor();
    await expect
      .poll(() => page.getByRole("table", { name: "My open tickets" }).textContent())
      .toContain("ISP outage");
    await expectAccessible(page, "my day");
    await screenshot(page, "my-day");
    await page.getByRole("button", { name: "Switch to dark theme" }).click();
    await expectAccessible(page, "my day, dark theme");
    await screenshot(page, "my-day-dark");
    await page.getByRole("button", { name: "Switch to light theme" }).click();

    await page.goto(`${server.baseUrl}/end-of-day`);
    const done = page.getByRole("table", { name: "Resolved by me today" });
    await expect.poll(() => done.textContent()).toContain("Password reset");
    await expectAccessible(page, "end of day");
    await screenshot(page, "end-of-day");
  });

  it("a lost connection shows a banner, reconnects, and the draft survives a reload", async () => {
    const t = await apiCall<Ticket>(server.baseUrl, adminToken, "POST", "/tickets", {
      subject: "Scanner to email stopped",
      clientId: world.clientId,
      priority: 3,
    });
    await page.goto(`${server.baseUrl}/tickets/${t.number}`);
    await page.getByTestId("live-state").filter({ hasText: "Live" }).waitFor();
    await page.getByTestId("ticket-subject").waitFor();
    await page.keyboard.press("n");
    await page.getByLabel("Internal note").fill("SMTP relay password expired; waiting for the new one.");
    await browser.context.setOffline(true);
    try {
      await page.getByTestId("connection-banner").waitFor();
    } finally {
      await browser.context.setOffline(false);
    }
    await page.getByTestId("connection-banner").waitFor({ state: "detached", timeout: 20_000 });
    await page.reload();
    await page.getByTestId("ticket-subject").waitFor();
    await page.keyboard.press("n");
    expect(await page.getByLabel("Internal note").inputValue()).toBe(
      "SMTP relay password expired; waiting for the new one.",
    );
  });

  it("Ctrl-K finds the caller; her page lists tickets and calls; the client page lists sites and contacts", async () => {
    await page.goto(server.baseUrl);
    await page.getByRole("heading", { name: "My day" }).waitFor();
    await page.keyboard.press("Control+K");
    const dialog = page.getByRole("dialog");
    await dialog.getByRole("combobox", { name: "Search" }).fill("201-3344");
    await dialog.getByRole("option", { name: /Dana Whitfield/ }).waitFor();
    await page.keyboard.press("Enter");
    await page.getByRole("heading", { name: "Dana Whitfield" }).waitFor();
    await expect
      .poll(() => page.getByRole("table", { name: "Contact's tickets" }).textContent())
      .toContain("Password reset");
    await expect
      .poll(() => page.getByRole("region", { name: "Call history" }).textContent())
      .toContain("Inbound · 4m 00s");
    await expectAccessible(page, "contact");
    await page.getByRole("link", { name: "Bright Smiles Dental" }).first().click();
    await page.getByRole("heading", { name: "Bright Smiles Dental" }).waitFor();
    await expect
      .poll(() => page.getByRole("table", { name: "Open tickets" }).textContent())
      .toContain("ISP outage");
    await expectAccessible(page, "client");
    await page.goto(`${server.baseUrl}/clients`);
    await page.getByRole("link", { name: "Bright Smiles Dental" }).waitFor();
    await expectAccessible(page, "clients");
  });

  it("bulk: select unassigned tickets with x and assign them to me; a saved view reopens the filter", async () => {
    await page.goto(`${server.baseUrl}/queues/unassigned`);
    const rows = page.locator("[data-ticket-number]");
    await rows.first().waitFor();
    const count = await rows.count();
    expect(count).toBeGreaterThan(0);
    for (let i = 0; i < count; i++) {
      await page.keyboard.press("x");
      await page.keyboard.press("j");
    }
    await page.getByTestId("bulk-bar").getByRole("button", { name: "Assign to me" }).click();
    await expect.poll(() => page.locator("[data-ticket-number]").count()).toBe(0);

    await page.goto(`${server.baseUrl}/queues/mine?priority=1`);
    await page.locator("[data-ticket-number]").first().waitFor();
    page.once("dialog", (d) => d.accept("My P1s"));
    await page.getByRole("button", { name: /^Views/ }).click();
    await page.getByRole("menuitem", { name: "Save current filters as a view…" }).click();
    await page.getByRole("button", { name: "Views (1)" }).waitFor();
    await page.goto(`${server.baseUrl}/queues/all`);
    await page.getByRole("button", { name: "Views (1)" }).click();
    await page.getByRole("menuitem", { name: "My P1s" }).click();
    await page.waitForURL("**/queues/mine?priority=1");
    await page.setViewportSize({ width: 820, height: 1180 });
    await screenshot(page, "queue-tablet");
    await page.setViewportSize({ width: 1440, height: 900 });
  });

  it("devices: an offline machine is listed, its page shows inventory and output, a script queues, retire", async () => {
    const inventory = {
      hostname: "LIB-FRONTDESK-01",
      os: { platform: "win32", name: "Windows 11 Pro", version: "23H2", arch: "x64" },
      hardware: { manufacturer: "Dell Inc.", model: "OptiPlex 7010", serial: "7XK2QH3" },
      cpu: { model: "Intel Core i5-13500", cores: 14, speedMhz: 2500 },
      memory: { totalBytes: 16 * 2 ** 30, freeBytes: 9 * 2 ** 30 },
      disks: [{ mount: "C:\\", fs: "NTFS", totalBytes: 512 * 2 ** 30, freeBytes: 40 * 2 ** 30 }],
      network: [
        {
          name: "Ethernet",
          mac: "a4:bb:6d:01:02:03",
          addresses: [{ address: "10.20.0.41", family: "IPv4", cidr: "10.20.0.41/24" }],
        },
      ],
      users: ["LIBRARY\\frontdesk"],
      uptimeSeconds: 3 * 86400 + 7200,
      software: [
        { name: "Google Chrome", version: "131.0.6778.86", publisher: "Google LLC" },
        { name: "Koha Staff Client", version: "23.11", publisher: "Koha Community" },
      ],
      updates: { source: "windows_update", count: 1, items: [{ name: "KB5044284", version: "2024-10" }] },
    };
    const device = await server.db
      .insertInto("devices")
      .values({
        client_id: world.clientId,
        hostname: "LIB-FRONTDESK-01",
        platform: "win32",
        arch: "x64",
        os_name: "Windows 11 Pro",
        os_version: "23H2",
        agent_version: "0.1.0",
        public_key: "e2e-not-a-real-key",
        online: false,
        last_seen_at: new Date(Date.now() - 3 * 3600_000),
        inventory: JSON.stringify(inventory),
        inventory_updated_at: new Date(Date.now() - 3 * 3600_000),
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    await server.db
      .insertInto("device_commands")
      .values({
        device_id: device.id,
        client_id: world.clientId,
        kind: "service.restart",
        command: JSON.stringify({ kind: "service.restart", name: "Spooler", timeoutSeconds: 120 }),
        payload: "{}",
        signature: "e2e",
        status: "succeeded",
        requested_by_user_id: adminId,
        requested_by_label: ADMIN.name,
        expires_at: new Date(Date.now() + 600_000),
        finished_at: new Date(),
        exit_code: 0,
        stdout: "Spooler restarted",
      })
      .execute();

    await page.goto(server.baseUrl);
    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "Devices" }).click();
    await page.getByRole("heading", { name: "Devices" }).waitFor();
    // The hovered active nav link is a shell colour (4.12:1), not this page's: measure without hover.
    await page.mouse.move(1200, 850);
    const row = page.getByRole("table", { name: "Devices" }).getByRole("row", { name: /LIB-FRONTDESK-01/ });
    await expect.poll(() => row.textContent()).toContain("Offline");
    await expect.poll(() => row.textContent()).toContain("3h ago");
    await expectAccessible(page, "devices");

    // Enroll: the token is shown once, inside ready-to-paste install commands, and is the one stored.
    await page.getByRole("button", { name: "Enroll a device" }).click();
    const enroll = page.getByRole("dialog", { name: "Enroll a device" });
    await enroll.getByTestId("enroll-client").click();
    await page.getByRole("option", { name: "Bright Smiles Dental" }).click();
    await enroll.getByRole("textbox", { name: "Number of uses" }).fill("5");
    await enroll.getByRole("textbox", { name: "Label" }).fill("Front desk PCs");
    await enroll.getByRole("button", { name: "Create token" }).click();
    const linux = enroll.getByTestId("install-linux");
    await linux.waitFor();
    const command = (await linux.textContent()) ?? "";
    expect(command).toContain(`--server ${server.baseUrl}`);
    const token = /--token (\S+)/.exec(command)?.[1] ?? "";
    const stored = await server.db
      .selectFrom("enrollment_tokens")
      .select(["client_id", "max_uses", "label"])
      .where("token_hash", "=", sha256(token))
      .executeTakeFirst();
    expect(stored).toEqual({ client_id: world.clientId, max_uses: 5, label: "Front desk PCs" });
    await enroll.getByText("the token is not shown again").waitFor();
    // macOS and Windows show their command, or what this server is missing to serve one.
    await enroll.getByTestId("platform-macos").waitFor();
    await enroll.getByTestId("platform-windows").waitFor();
    await enroll
      .getByRole("table", { name: "Active enrollment tokens" })
      .getByRole("row", { name: /Front desk PCs/ })
      .waitFor();
    await expectAccessible(page, "enroll a device");
    await enroll.getByRole("button", { name: "Revoke Front desk PCs" }).click();
    await enroll.getByText("No active enrollment tokens for this client.").waitFor();
    const revoked = await server.db
      .selectFrom("enrollment_tokens")
      .select("revoked_at")
      .where("token_hash", "=", sha256(token))
      .executeTakeFirstOrThrow();
    expect(revoked.revoked_at).not.toBeNull();
    await enroll.getByRole("button", { name: "Done" }).click();
    await enroll.waitFor({ state: "hidden" });

    await row.getByRole("link", { name: "LIB-FRONTDESK-01" }).click();
    await page.getByRole("heading", { name: "LIB-FRONTDESK-01" }).waitFor();
    await page.getByText("OptiPlex 7010").waitFor();
    await page.getByText("LIBRARY\\frontdesk").waitFor();
    await page.getByText("KB5044284").waitFor();
    await page.getByLabel("Filter installed software").fill("koha");
    await expect
      .poll(() => page.getByRole("table", { name: "Installed software" }).textContent())
      .not.toContain("Google Chrome");
    await page.getByRole("region", { name: "Output" }).getByText("Spooler restarted").waitFor();
    await expectAccessible(page, "device");
    await screenshot(page, "device");

    // Offline: the script is queued for the device's return and shows at the top of the history; the
    // ticket it was run from records it.
    const ticket = await server.db
      .selectFrom("tickets")
      .select("number")
      .where("client_id", "=", world.clientId)
      .orderBy("number")
      .executeTakeFirstOrThrow();
    await page.getByRole("textbox", { name: /^Script/ }).fill("Get-Service Spooler");
    await page.getByLabel("On ticket # (optional)").fill(String(ticket.number));
    await page.getByRole("button", { name: "Run" }).click();
    await expect.poll(() => page.getByTestId("command").first().textContent()).toContain("queued");
    await expect
      .poll(() => page.getByTestId("command").first().textContent())
      .toContain("Get-Service Spooler");

    const onTicket = await apiCall<{ timeline: Array<{ body: string | null }> }>(
      server.baseUrl,
      adminToken,
      "GET",
      `/tickets/by-number/${ticket.number}`,
    );
    expect(onTicket.timeline.some((e) => e.body?.includes("LIB-FRONTDESK-01"))).toBe(true);

    await page.getByRole("button", { name: "Retire device" }).click();
    await page.getByRole("dialog").getByRole("button", { name: "Retire", exact: true }).click();
    await expect.poll(() => page.getByTestId("device-status").first().textContent()).toBe("Retired");
    await expect.poll(() => page.getByTestId("command").first().textContent()).toContain("expired");
  });

  it("a ticket that does not exist shows a clear page", async () => {
    await page.goto(`${server.baseUrl}/tickets/999999`);
    await page.getByRole("heading", { name: "Not found" }).waitFor();
  });
});
