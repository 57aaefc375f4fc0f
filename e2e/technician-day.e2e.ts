import { simpleParser } from "mailparser";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newSecret, sha256 } from "../apps/server/src/domains/auth/crypto.ts";
import { startReceiver } from "../apps/server/src/domains/email/test-support.ts";
import { makeContact } from "../apps/server/test/helpers.ts";
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
  name: "Morgan Hale",
  email: "morgan@lakeshore-it.example",
  password: "a long enough password",
};
// A 1x1 PNG: an image attachment the timeline previews.
const PNG = Buffer.from(
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==",
  "base64",
);

/** Nothing in `selector` sticks out of the viewport, and neither the page nor a list scrolls sideways. */
async function expectFits(page: Page, what: string, selector: string) {
  const problems = await page.evaluate((sel) => {
    const width = document.documentElement.clientWidth;
    const out: string[] = [];
    if (document.documentElement.scrollWidth > width + 1) {
      out.push(`page scrolls sideways: ${document.documentElement.scrollWidth} > ${width}`);
    }
    for (const root of document.querySelectorAll(sel)) {
      for (const el of [root, ...root.querySelectorAll("*")] as HTMLElement[]) {
        const r = el.getBoundingClientRect();
        const style = getComputedStyle(el);
        if (r.width === 0 || r.height === 0 || style.visibility === "hidden") continue;
        // Inside a box that clips on purpose (ellipsis, scroll areas), only that box has to fit.
        if (el.closest("[data-clip-ok]")) continue;
        if (r.right > width + 1 || r.left < -1) {
          out.push(
            `${el.tagName.toLowerCase()}.${el.className} "${el.textContent?.slice(0, 30)}" spans ${Math.round(r.left)}-${Math.round(r.right)}`,
          );
        }
        if (
          (style.overflowX === "auto" || style.overflowX === "scroll") &&
          el.scrollWidth > el.clientWidth + 1
        ) {
          out.push(`${el.tagName.toLowerCase()} scrolls sideways (${el.scrollWidth} > ${el.clientWidth})`);
        }
        // A badge whose words do not fit is cut ("Waiting on cli…").
        if (el.classList.contains("mantine-Badge-label") && el.scrollWidth > el.clientWidth + 1) {
          out.push(`badge "${el.textContent}" is cut`);
        }
      }
    }
    return out.slice(0, 10);
  }, selector);
  expect(problems, `${what} at 390 px`).toEqual([]);
}

describe("a technician's day: replies, phone intake, keyboard, search, phone layout", () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  let token = "";
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const world = { clientId: "", danaId: "", openNumber: 0, resolvedNumber: 0, waitingStatus: "" };

  beforeAll(async () => {
    receiver = await startReceiver({
      reject: (rcpt) => (rcpt.startsWith("gone") ? "5.1.1 No such user here" : null),
    });
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
    const client = await apiCall<{ id: string }>(server.baseUrl, token, "POST", "/clients", {
      name: "Riverbend Family Dentistry",
      emailDomains: ["riverbenddental.example"],
    });
    world.clientId = client.id;
    const dana = await makeContact(server, client.id, {
      firstName: "Dana",
      lastName: "Whitfield",
      phone: "(555) 201-3344",
      email: "dana@riverbenddental.example",
    });
    await makeContact(server, client.id, {
      firstName: "Dan",
      lastName: "Okafor",
      email: "dan@riverbenddental.example",
    });
    world.danaId = dana.id;
    const statuses = await apiCall<Array<{ id: string; category: string; name: string }>>(
      server.baseUrl,
      token,
      "GET",
      "/statuses",
    );
    const resolved = statuses.find((s) => s.category === "resolved")?.id;
    world.waitingStatus = statuses.find((s) => s.category === "waiting_client")?.id ?? "";
    const old = await apiCall<Ticket>(server.baseUrl, token, "POST", "/tickets", {
      subject: "Server down at the practice",
      clientId: client.id,
      contactId: dana.id,
      priority: 1,
      statusId: resolved,
    });
    world.resolvedNumber = old.number;
    const open = await apiCall<Ticket>(server.baseUrl, token, "POST", "/tickets", {
      subject: "Scanner at front desk offline",
      clientId: client.id,
      contactId: dana.id,
      priority: 2,
      statusId: world.waitingStatus,
      tags: ["hardware", "front-desk", "scanner"],
    });
    world.openNumber = open.number;
    browser = await launchBrowser();
    page = browser.page;
    await page.goto(server.baseUrl);
    await page.getByLabel("Email").fill(ADMIN.email);
    await page.getByLabel(/^Password/).fill(ADMIN.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "My day" }).waitFor();
  });
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === "fail") {
      await screenshot(page, `failed-${ctx.task.name.slice(0, 40).replace(/\W+/g, "-")}`).catch(() => {});
    }
  });
  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    await receiver?.close();
  });

  it("search finds a client by a word in its domain; after clicking a queue, j and Enter open a ticket", async () => {
    await page.keyboard.press("Control+K");
    await page.getByRole("combobox", { name: "Search" }).fill("dental");
    await page.getByRole("dialog").getByText("Riverbend Family Dentistry").first().waitFor();
    await page.keyboard.press("Escape");

    await page.getByRole("navigation", { name: "Main" }).getByRole("link", { name: "All open" }).click();
    await page.locator("[data-ticket-number]").first().waitFor();
    await page.keyboard.press("j");
    await page.keyboard.press("k");
    const number = await page.locator('[data-current="true"]').getAttribute("data-ticket-number");
    await page.keyboard.press("Enter");
    await page.waitForURL(`**/tickets/${number}`);

    // An empty queue with no filter set does not tell me to clear one.
    await page.goto(`${server.baseUrl}/queues/follow_ups`);
    await page.getByText("No follow-ups are due today.").waitFor();
    expect(await page.getByText("Clear a filter").count()).toBe(0);
  });

  it("phone intake: arrows pick a caller, Enter never submits, the call survives opening a ticket, and is logged on it", async () => {
    await page.goto(`${server.baseUrl}/intake`);
    const lookup = page.getByTestId("caller-lookup");
    await lookup.fill("Dan");
    const options = page.getByTestId("caller-matches").getByRole("option");
    await expect.poll(() => options.count(), { timeout: 10_000 }).toBe(2);
    await lookup.press("ArrowDown");
    const second = (await options.nth(1).textContent()) ?? "";
    expect(await options.nth(1).getAttribute("aria-selected")).toBe("true");
    await lookup.press("Enter");
    // Enter picked the highlighted caller; no form was submitted, so no error shows.
    await expect
      .poll(() => page.getByTestId("caller").textContent(), { timeout: 10_000 })
      .toContain(second.includes("Okafor") ? "Dan Okafor" : "Dana Whitfield");
    expect(await page.getByRole("alert").count()).toBe(0);
    await page.getByRole("button", { name: "Change caller" }).click();
    await lookup.fill("555 201 3344");
    await page
      .getByTestId("caller-matches")
      .getByRole("option", { name: /Dana Whitfield/ })
      .click();
    await page.getByLabel("Call notes").fill("Scanner still offline after the restart.");

    // The history says the old P1 is resolved, and opening the open ticket keeps the call.
    const history = page.getByTestId("caller-ticket");
    await history
      .filter({ hasText: `#${world.resolvedNumber}` })
      .getByText("Resolved", { exact: true })
      .waitFor();
    expect(await history.filter({ hasText: `#${world.resolvedNumber}` }).getAttribute("data-closed")).toBe(
      "true",
    );
    await expectAccessible(page, "intake with a caller");
    await page.getByRole("link", { name: new RegExp(`#${world.openNumber}`) }).click();
    await page.getByTestId("ticket-subject").waitFor();
    await page.goBack();
    await expect
      .poll(() => page.getByTestId("caller").textContent(), { timeout: 10_000 })
      .toContain("Dana Whitfield");
    expect(await page.getByLabel("Call notes").inputValue()).toBe("Scanner still offline after the restart.");

    await page.getByRole("button", { name: `Log this call on #${world.openNumber}` }).click();
    await page.waitForURL(`**/tickets/${world.openNumber}`);
    await page.getByTestId("call-log").first().waitFor();
    await page.getByText("Scanner still offline after the restart.").waitFor();
  });

  it("a caller not on file is added inline; the form's errors are in words and clear when fixed", async () => {
    await page.goto(`${server.baseUrl}/intake`);
    // The logged call ended the previous one: a fresh form.
    expect(await page.getByTestId("caller-lookup").inputValue()).toBe("");
    await page.getByTestId("caller-lookup").fill("Chris Newman");
    await page.getByText("Add a new caller").click();
    const form = page.getByTestId("new-caller");
    await form.getByLabel("First name").waitFor();
    expect(await form.getByLabel("Last name").inputValue()).toBe("Newman");
    await form.getByLabel("Client", { exact: true }).click();
    await page.getByRole("option", { name: "Riverbend Family Dentistry" }).click();
    await form.getByRole("button", { name: "Save caller" }).click();
    await expect
      .poll(() => page.getByTestId("caller").textContent(), { timeout: 10_000 })
      .toContain("Chris Newman");

    await page.getByRole("button", { name: "Create ticket" }).click();
    const subjectError = page.getByText("Say in a few words what the call is about.");
    await subjectError.waitFor();
    expect(await page.getByText("must be").count()).toBe(0);
    await page.getByLabel("Subject").fill("Printer jams on tray 2");
    await subjectError.waitFor({ state: "detached" });
    await page.getByRole("button", { name: "Create ticket" }).click();
    await page.getByTestId("ticket-subject").getByText("Printer jams on tray 2").waitFor();
  });

  it("a reply says before sending that it cannot be emailed; once a mailbox exists it goes out, a refused one shows why with Retry", async () => {
    // The ticket from the last scenario came by phone; Chris has no email address.
    const problem = page.getByTestId("reply-problem");
    await problem.getByText("No From address").waitFor();
    expect(await page.getByRole("button", { name: "Send reply" }).isDisabled()).toBe(true);

    await server.db
      .insertInto("email_mailboxes")
      .values({
        address: "help@lakeshore-it.example",
        smtp_host: "127.0.0.1",
        smtp_port: receiver.port,
        smtp_tls: "none",
      })
      .execute();
    await page.reload();
    await page.getByText(/From help@lakeshore-it\.example/).waitFor();
    expect(await problem.count()).toBe(0);

    await apiCall(server.baseUrl, token, "POST", "/snippets", {
      title: "Printer steps",
      body: "Hi {{contact.firstName}}, about #{{ticket.number}}: please open tray 2.",
    });
    await page.getByTestId("reply-to").fill("gone@riverbenddental.example");
    await page.getByRole("button", { name: "Snippets" }).click();
    await page.getByRole("menuitem", { name: "Printer steps" }).click();
    await expect
      .poll(() => page.getByTestId("composer").inputValue(), { timeout: 10_000 })
      .toMatch(/^Hi Chris, about #\d+: please open tray 2\.$/);
    await page.getByRole("button", { name: "Send reply" }).click();
    await page.getByText("Reply queued for sending").waitFor();
    const failed = page.locator('[data-testid="delivery"][data-status="failed"]');
    await failed.waitFor({ timeout: 15_000 });
    expect(await failed.getByTestId("delivery-error").textContent()).toContain("No such user");
    await failed.getByRole("button", { name: "Retry" }).waitFor();
    await expectAccessible(page, "ticket with a failed reply");

    await page.getByTestId("reply-to").fill("office@riverbenddental.example");
    await page.getByTestId("reply-cc").fill("dana@riverbenddental.example");
    await page.getByTestId("composer").fill("The photo of the tray is attached.");
    await page
      .locator('input[type="file"]')
      .setInputFiles({ name: "tray.png", mimeType: "image/png", buffer: PNG });
    await page.getByRole("button", { name: "Send reply" }).click();
    await page.locator('[data-testid="delivery"][data-status="sent"]').waitFor({ timeout: 15_000 });
    await page.getByTestId("attachment-image").first().waitFor();
    const mail = receiver.mails.find((m) => m.to.includes("office@riverbenddental.example"));
    expect(mail?.to.sort()).toEqual(["dana@riverbenddental.example", "office@riverbenddental.example"]);
    const parsed = await simpleParser(mail?.raw ?? "");
    expect(parsed.attachments.map((a) => a.filename)).toEqual(["tray.png"]);
    await screenshot(page, "ticket-delivery");
  });

  it("e asks for a resolution note and offers Undo; customer HTML shows in a sandboxed frame", async () => {
    const number = Number(page.url().split("/").pop());
    await page.keyboard.press("e");
    const dialog = page.getByRole("dialog", { name: `Resolve #${number}` });
    await dialog.getByTestId("resolution-note").fill("Cleaned the rollers on tray 2.");
    await dialog.getByRole("button", { name: "Resolve", exact: true }).click();
    await page.getByRole("button", { name: "Undo" }).click();
    await page.getByText(`#${number} is`).waitFor();
    await page.getByRole("button", { name: "Resolve (e)" }).waitFor();
    await page.getByText("Resolution: Cleaned the rollers on tray 2.").waitFor();

    // A customer's HTML mail on the ticket: shown only inside a frame with no scripts and no origin.
    const ticket = await server.db
      .selectFrom("tickets")
      .select(["id", "client_id"])
      .where("number", "=", number)
      .executeTakeFirstOrThrow();
    const entry = await server.db
      .insertInto("timeline_entries")
      .values({ ticket_id: ticket.id, kind: "email", visibility: "public", body: "See the formatted note." })
      .returning("id")
      .executeTakeFirstOrThrow();
    await server.db
      .insertInto("email_messages")
      .values({
        direction: "inbound",
        source: "api",
        status: "processed",
        ticket_id: ticket.id,
        timeline_entry_id: entry.id,
        body_html: "<p><b>Tray 2</b> works again.</p>",
        from_address: "dana@riverbenddental.example",
      })
      .execute();
    await page.reload();
    await page.getByRole("button", { name: "Show formatted email" }).click();
    const frame = page.getByTestId("email-frame");
    await frame.waitFor();
    const sandbox = (await frame.getAttribute("sandbox")) ?? "";
    expect(sandbox).not.toContain("allow-scripts");
    expect(sandbox).not.toContain("allow-same-origin");
    await page.frameLocator('[data-testid="email-frame"]').getByText("works again").waitFor();
  });

  it("at 390x844 the header, My day, a queue, a ticket and intake neither clip nor scroll sideways", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    try {
      await page.goto(server.baseUrl);
      await page.getByRole("heading", { name: "My day" }).waitFor();
      await expectFits(page, "header", "header");
      await expectFits(page, "My day", "main");
      await screenshot(page, "phone-my-day");

      await page.goto(`${server.baseUrl}/queues/all`);
      await page.locator("[data-ticket-number]").first().waitFor();
      const status = page.getByRole("columnheader", { name: "Status" });
      const box = await status.boundingBox();
      expect(box && box.x + box.width).toBeLessThanOrEqual(390);
      await expectFits(page, "a queue", "main");
      await screenshot(page, "phone-queue");

      await page.goto(`${server.baseUrl}/tickets/${world.openNumber}`);
      await page.getByTestId("ticket-subject").waitFor();
      await expectFits(page, "a ticket", "main");
      await screenshot(page, "phone-ticket");

      await page.goto(`${server.baseUrl}/intake`);
      await page.getByTestId("caller-lookup").waitFor();
      await expectFits(page, "intake", "main");
      await screenshot(page, "phone-intake");
      await expectAccessible(page, "intake on a phone");
    } finally {
      await page.setViewportSize({ width: 1440, height: 900 });
    }
  });
});
