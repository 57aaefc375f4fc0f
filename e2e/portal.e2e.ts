import { simpleParser } from "mailparser";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newSecret, sha256 } from "../apps/server/src/domains/auth/crypto.ts";
import { startReceiver, waitFor } from "../apps/server/src/domains/email/test-support.ts";
import { BUILTIN_STATUS } from "../apps/server/src/domains/tickets/queries.ts";
import { freePort } from "../apps/server/test/net.ts";
import { apiCall, expectAccessible, launchBrowser, screenshot, startE2EServer } from "./harness.ts";

type Server = Awaited<ReturnType<typeof startE2EServer>>;
type Browser = Awaited<ReturnType<typeof launchBrowser>>;

const ADMIN = {
  name: "Dana Whitfield",
  email: "dana@lakeshore-it.example",
  password: "a long enough password",
};
const CONTACT = "maria.lopez@harbor-dental.example";

// The client's side: a contact signs in by a link mailed to them, opens a ticket after the portal
// suggests an article, and rates it once resolved; a technician shares network documentation by link
// and the contact opens it; a vault reveal is audited.
describe("client portal", () => {
  let server: Server;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let tech: Browser;
  let contact: Browser;
  let token: string;
  let clientId: string;
  let contactId: string;
  const pages: Page[] = [];

  const api = <T>(method: string, url: string, body?: unknown) =>
    apiCall<T>(server.baseUrl, token, method, url, body);
  const mailText = async (to: string, subject: RegExp) => {
    const m = await waitFor(async () => {
      for (const raw of receiver.mails.filter((x) => x.to.includes(to))) {
        const parsed = await simpleParser(raw.raw);
        if (subject.test(parsed.subject ?? "")) return parsed.text ?? "";
      }
      return null;
    }, 30_000);
    return m;
  };

  beforeAll(async () => {
    receiver = await startReceiver();
    const port = await freePort();
    server = await startE2EServer({
      PORT: String(port),
      SWITCHBOARD_PUBLIC_URL: `http://127.0.0.1:${port}`,
      SWITCHBOARD_SMTP_RELAY_URL: `smtp://127.0.0.1:${receiver.port}`,
      SWITCHBOARD_EMAIL_FROM: "help@lakeshore-it.example",
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
    const client = await api<{ id: string }>("POST", "/clients", { name: "Harbor Dental" });
    clientId = client.id;
    const c = await api<{ id: string }>("POST", "/contacts", {
      clientId,
      firstName: "Maria",
      lastName: "Lopez",
      emails: [CONTACT],
    });
    contactId = c.id;
    await api("POST", "/kb/articles", {
      title: "Printer offline? Restart the print spooler",
      visibility: "public",
      bodyHtml:
        "<p>Open Services, find <b>Print Spooler</b>, choose Restart.</p><pre><code>Restart-Service Spooler</code></pre>",
    });
    tech = await launchBrowser();
    contact = await launchBrowser();
    pages.push(tech.page, contact.page);
    // The technician signs in to the console once.
    await tech.page.goto(server.baseUrl);
    await tech.page.getByLabel("Email").fill(ADMIN.email);
    await tech.page.getByLabel(/^Password/).fill(ADMIN.password);
    await tech.page.getByRole("button", { name: "Sign in" }).click();
    await tech.page.getByRole("heading", { name: "My day" }).waitFor();
  });
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === "fail") {
      for (const [i, p] of pages.entries()) {
        await screenshot(p, `failed-portal-${i}-${ctx.task.name.slice(0, 30).replace(/\W+/g, "-")}`).catch(
          () => {},
        );
      }
    }
  });
  afterAll(async () => {
    await tech?.close();
    await contact?.close();
    await server?.stop();
    await receiver?.close();
  });

  it("a contact signs in by a mailed link, opens a ticket after a suggested article, and rates it once resolved", async () => {
    await api("PUT", `/contacts/${contactId}/portal`, { invite: true });
    const invite = await mailText(CONTACT, /Sign in/);
    const link = /(http:\/\/\S+\/portal\/sign-in#token=\S+)/.exec(invite)![1]!;
    const page = contact.page;
    await page.goto(link);
    await page.getByRole("heading", { name: "My tickets" }).waitFor();
    await expectAccessible(page, "portal: my tickets");

    await page.getByRole("link", { name: "New ticket" }).click();
    await page.getByLabel("What is wrong?").fill("The printer is offline again");
    const suggestions = page.getByRole("region", { name: "Articles that may help" });
    await suggestions.getByRole("link", { name: "Printer offline? Restart the print spooler" }).waitFor();
    await expectAccessible(page, "portal: new ticket with a suggested article");
    await page.getByRole("button", { name: "Open ticket" }).click();
    await page.getByRole("heading", { name: /The printer is offline again/ }).waitFor();

    const ticket = await server.db
      .selectFrom("tickets")
      .select(["id", "number", "version", "source"])
      .where("client_id", "=", clientId)
      .executeTakeFirstOrThrow();
    expect(ticket.source).toBe("portal");
    await api("PATCH", `/tickets/${ticket.id}`, {
      version: ticket.version,
      statusId: BUILTIN_STATUS.resolved.id,
    });
    const resolved = await mailText(CONTACT, /^Resolved/);
    const rate = /Good: (http:\/\/\S+)/.exec(resolved)![1]!;
    await page.goto(rate);
    await page.getByText("Thank you: we recorded “Good”.").waitFor();
    await expectAccessible(page, "portal: rating");
    await page.getByLabel("Anything to add? (optional)").fill("Quick and friendly");
    await page.getByRole("button", { name: "Send" }).click();
    await page.getByText("Thanks for your feedback.").waitFor();
    const rating = await server.db
      .selectFrom("csat_ratings")
      .selectAll()
      .where("ticket_id", "=", ticket.id)
      .executeTakeFirstOrThrow();
    expect(rating).toMatchObject({ rating: "good", comment: "Quick and friendly" });
  }, 120_000);

  it("a technician shares network documentation by link, and the contact opens it", async () => {
    const layouts = await api<Array<{ id: string; name: string }>>("GET", "/doc-layouts");
    const doc = await api<{ id: string }>("POST", "/documents", {
      clientId,
      layoutId: layouts.find((l) => l.name === "Network")!.id,
      title: "Harbor Dental network",
      data: {
        subnets: [{ cidr: "192.168.10.0/24", gateway: "192.168.10.1", vlan: "10", purpose: "Front desk" }],
        circuits: [{ provider: "Bayline Fiber", circuitId: "BF-22817", supportPhone: "+1 231 555 0142" }],
      },
    });
    const ticket = await api<{ number: number }>("POST", "/tickets", {
      subject: "Please send our network documentation",
      clientId,
    });
    const page = tech.page;
    await page.goto(`${server.baseUrl}/documents/${doc.id}`);
    await page.getByRole("heading", { name: "Harbor Dental network" }).waitFor();
    await expectAccessible(page, "console: a network document");
    await page.getByRole("button", { name: "Share" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("Record on ticket #").fill(String(ticket.number));
    await dialog.getByText("Please send our network documentation").waitFor();
    await dialog.getByRole("button", { name: "Create link" }).click();
    const url = await dialog.getByLabel("Share link").inputValue();
    await expectAccessible(page, "console: share link");

    await contact.page.goto(url);
    await contact.page.getByRole("heading", { name: "Documentation for Harbor Dental" }).waitFor();
    await contact.page.getByText("BF-22817").waitFor();
    await expectAccessible(contact.page, "portal: shared documentation");
    const share = await server.db
      .selectFrom("document_shares")
      .select(["open_count", "ticket_id"])
      .executeTakeFirstOrThrow();
    expect(share.open_count).toBe(1);
  }, 120_000);

  it("a vault reveal asks for the ticket and the password again, and is audited", async () => {
    const entry = await api<{ id: string }>("POST", "/vault/entries", {
      clientId,
      title: "Front desk router",
      username: "admin",
      password: "Harbor-Router-7731",
    });
    const ticket = await api<{ id: string; number: number }>("POST", "/tickets", {
      subject: "Router port forward",
      clientId,
    });
    const page = tech.page;
    await page.goto(`${server.baseUrl}/vault`);
    await page.getByRole("heading", { name: "Password vault" }).waitFor();
    await page.getByRole("button", { name: "Reveal the password of Front desk router" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.getByLabel("For ticket #").fill(String(ticket.number));
    await dialog.getByText("Router port forward").waitFor();
    await dialog.getByRole("button", { name: "Reveal" }).click();
    await dialog.getByLabel("Confirm your password").fill(ADMIN.password);
    await expectAccessible(page, "console: vault step-up");
    await dialog.getByRole("button", { name: "Reveal" }).click();
    await expect
      .poll(() => dialog.getByLabel("Revealed password").inputValue(), { timeout: 10_000 })
      .toBe("Harbor-Router-7731");
    await expectAccessible(page, "console: a revealed password");
    const audit = await server.db
      .selectFrom("audit_log")
      .select(["action", "after"])
      .where("entity_id", "=", entry.id)
      .where("action", "=", "vault.reveal")
      .executeTakeFirstOrThrow();
    expect(audit.after).toMatchObject({ field: "password", ticketId: ticket.id });
  }, 120_000);
});
