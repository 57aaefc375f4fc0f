import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { simpleParser } from "mailparser";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newSecret, sha256 } from "../apps/server/src/domains/auth/crypto.ts";
import { startReceiver } from "../apps/server/src/domains/email/test-support.ts";
import {
  startTestDirectory,
  type TestDirectory,
} from "../apps/server/src/domains/identity/test-directory.ts";
import { makePortalContact } from "../apps/server/src/domains/portal/test-support.ts";
import { binary, canRun, ensureBuilt, run } from "../apps/server/src/gateway/agent-build.ts";
import { makeClient, makeContact } from "../apps/server/test/helpers.ts";
import { startSmsStub } from "../apps/server/test/sms-stub.ts";
import { apiCall, expectAccessible, launchBrowser, screenshot, startE2EServer } from "./harness.ts";

type Server = Awaited<ReturnType<typeof startE2EServer>>;
type Browser = Awaited<ReturnType<typeof launchBrowser>>;

const TECH = {
  name: "Priya Natarajan",
  email: "priya@northwind-it.example",
  password: "a long enough password",
};
const PHONE = "+15172013344";

// Monday morning: Dana calls, locked out. Phone intake finds her by number, the technician verifies her
// by a code texted to her mobile (the SMS provider is a loopback stub), finds her directory account by
// email through the agent on the client's domain controller (the real agent executable, a fake
// directory), resets the password, and reads out the passphrase shown once.
describe.skipIf(!canRun)("verify the caller, then reset the password", () => {
  let server: Server;
  let sms: Awaited<ReturnType<typeof startSmsStub>>;
  let directory: TestDirectory;
  let agent: ChildProcess | null = null;
  let browser: Browser;
  let page: Page;
  let token: string;
  let clientId: string;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    await ensureBuilt();
    sms = await startSmsStub();
    directory = await startTestDirectory(false);
    receiver = await startReceiver();
    server = await startE2EServer({
      ...sms.env,
      SWITCHBOARD_ROLES: "api,worker,gateway",
      SWITCHBOARD_SMTP_RELAY_URL: `smtp://127.0.0.1:${receiver.port}`,
      SWITCHBOARD_EMAIL_FROM: "help@northwind-it.example",
    });
    const setup = await fetch(`${server.baseUrl}/api/v1/setup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ mspName: "Northwind IT", ...TECH }),
    });
    expect(setup.status).toBeLessThan(300);
    const user = await server.db
      .selectFrom("users")
      .select("id")
      .where("email", "=", TECH.email)
      .executeTakeFirstOrThrow();
    token = newSecret("sb_");
    await server.db
      .insertInto("api_tokens")
      .values({ user_id: user.id, name: "e2e", token_hash: sha256(token), prefix: token.slice(0, 10) })
      .execute();
    const client = await makeClient(server, "Bright Smiles Dental");
    clientId = client.id;
    await makeContact(server, client.id, {
      firstName: "Dana",
      lastName: "Whitfield",
      email: "dana@brightsmiles.example",
      phone: PHONE,
    });
    await directory.addUser("dwhitfield", "dana@brightsmiles.example", "Winter-Passw0rd-1");
    const enrollment = await apiCall<{ token: string }>(server.baseUrl, token, "POST", "/enrollment-tokens", {
      clientId: client.id,
      maxUses: 1,
    });
    const stateDir = await mkdtemp(path.join(os.tmpdir(), "sb-e2e-dc-"));
    const enrolled = await run(binary, [
      "enroll",
      "--server",
      server.baseUrl,
      "--token",
      enrollment.token,
      "--state-dir",
      stateDir,
    ]);
    if (enrolled.code !== 0) throw new Error(enrolled.stderr);
    const deviceId = enrolled.stdout.match(/enrolled as device (\S+)/)?.[1] ?? "";
    agent = spawn(binary, ["run", "--state-dir", stateDir], {
      env: { ...process.env, ...directory.agentEnv },
      stdio: "ignore",
    });
    for (let i = 0; i < 300; i++) {
      const d = await apiCall<{ status: string }>(server.baseUrl, token, "GET", `/devices/${deviceId}`);
      if (d.status === "online") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    await apiCall(server.baseUrl, token, "PUT", `/clients/${client.id}/identity-policy`, {
      methods: ["sms", "email", "totp", "manager"],
      factors: 1,
      privilegedFactors: 2,
      managerSatisfiesPrivileged: true,
      validityMinutes: 10,
      directoryDeviceId: deviceId,
      directoryKind: "samba",
      version: 1,
    });
    browser = await launchBrowser();
    page = browser.page;
  }, 240_000);
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === "fail") await screenshot(page, "failed-identity").catch(() => {});
  });
  afterAll(async () => {
    agent?.kill("SIGKILL");
    await browser?.close();
    await server?.stop();
    await sms?.close();
    await directory?.close();
    await receiver?.close();
  });

  it("intake -> verify by SMS -> link the account -> reset, password shown once", {
    timeout: 180_000,
  }, async () => {
    await page.goto(server.baseUrl);
    await page.getByLabel("Email").fill(TECH.email);
    await page.getByLabel(/^Password/).fill(TECH.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "My day" }).waitFor();
    await page.goto(`${server.baseUrl}/intake`);
    await page.getByTestId("caller-lookup").fill("517.201.3344");
    const match = page.getByTestId("caller-matches").getByRole("option", { name: /Dana Whitfield/ });
    await match.waitFor();
    await match.click();

    await page.getByRole("button", { name: "Verify caller" }).click();
    const dialog = page.getByRole("dialog", { name: "Verify the caller" });
    await dialog.getByRole("button", { name: "Start verification" }).click();
    const before = sms.messages.length;
    await dialog.getByRole("button", { name: "Text a code" }).click();
    const codeField = dialog.getByLabel("Code the caller reads back");
    await codeField.waitFor();
    await expectAccessible(page, "verify caller, code sent");
    await expect.poll(() => sms.messages.length).toBeGreaterThan(before);
    const text = sms.messages.at(-1)!;
    expect(text.to).toBe(PHONE);
    const code = /code is (\d{6})/.exec(text.body)?.[1] ?? "";
    // A wrong code first: refused with the tries left.
    await codeField.fill(code === "000000" ? "111111" : "000000");
    await dialog.getByRole("button", { name: "Check", exact: true }).click();
    await dialog.getByText("Wrong code; 4 tries left").waitFor();
    await codeField.fill(code);
    await dialog.getByRole("button", { name: "Check", exact: true }).click();
    await dialog.getByText("Caller verified").waitFor();

    await dialog.getByRole("button", { name: "Find by email in the directory" }).click();
    await dialog.getByText("dwhitfield (dwhitfield@sb.test)").waitFor();
    await dialog.getByRole("button", { name: "Link", exact: true }).click();
    await dialog.getByText("Directory account dwhitfield").waitFor();
    await expectAccessible(page, "verify caller, verified, account linked");
    await dialog.getByRole("button", { name: "Reset password" }).click();
    const shown = dialog.getByTestId("new-password");
    await shown.waitFor({ timeout: 30_000 });
    const password = (await shown.textContent()) ?? "";
    expect(password).toMatch(/^([A-Z][a-z]+-){4}\d{2}$/);
    expect(await directory.bind("dwhitfield", password)).toBe(true);
    expect(await directory.bind("dwhitfield", "Winter-Passw0rd-1")).toBe(false);
    await expectAccessible(page, "verify caller, password reset");
    await screenshot(page, "identity-reset-done");

    // Shown once: closing the dialog forgets it, and nothing the server holds can show it again.
    await page.keyboard.press("Escape");
    await dialog.waitFor({ state: "hidden" });
    await page.getByRole("button", { name: "Verify caller" }).click();
    await page
      .getByRole("dialog", { name: "Verify the caller" })
      .getByRole("button", { name: "Start verification" })
      .waitFor();
    expect(await page.content()).not.toContain(password);
  });

  it("self-service in the portal: verify by SMS, choose a new password, a resolved ticket records it", {
    timeout: 120_000,
  }, async () => {
    const pc = await makePortalContact(server, clientId);
    await directory.addUser("pself", pc.email, "Spring-Passw0rd-1");
    await apiCall(server.baseUrl, token, "PUT", `/contacts/${pc.id}/identity`, {
      smsNumber: "+15172019999",
      email: pc.email,
      approver: false,
      adminAccount: false,
      directoryAccount: "pself",
      version: 0,
    });
    const portal = await launchBrowser();
    try {
      const p = portal.page;
      await portal.context.addCookies(
        Object.entries(pc.cookies).map(([name, value]) => ({ name, value, url: server.baseUrl })),
      );
      await p.goto(`${server.baseUrl}/portal/`);
      await p.getByRole("link", { name: "Reset my password" }).click();
      await p.getByRole("heading", { name: "Reset your password" }).waitFor();
      await p.getByRole("button", { name: "Start" }).click();
      const before = sms.messages.length;
      await p.getByRole("button", { name: "Text me a code" }).click();
      const field = p.getByLabel(/Code sent to/);
      await field.waitFor();
      await expectAccessible(p, "portal self-service, code sent");
      await expect.poll(() => sms.messages.length).toBeGreaterThan(before);
      await field.fill(/code is (\d{6})/.exec(sms.messages.at(-1)!.body)?.[1] ?? "");
      await p.getByRole("button", { name: "Check" }).click();
      await p.getByLabel(/^New password \*?$/).fill("password");
      await p.getByLabel(/^New password again/).fill("password");
      await p.getByRole("button", { name: "Set my password" }).click();
      await p.getByText("Your directory refused it").waitFor({ timeout: 30_000 });
      await p.getByLabel(/^New password \*?$/).fill("Summer-Passw0rd-22");
      await p.getByLabel(/^New password again/).fill("Summer-Passw0rd-22");
      await p.getByRole("button", { name: "Try again" }).click();
      await p.getByText("Your password is changed").waitFor({ timeout: 30_000 });
      await expectAccessible(p, "portal self-service, done");
      expect(await directory.bind("pself", "Summer-Passw0rd-22")).toBe(true);
      const ticket = await server.db
        .selectFrom("tickets")
        .select("status_category")
        .where("contact_id", "=", pc.id)
        .executeTakeFirstOrThrow();
      expect(ticket.status_category).toBe("resolved");
    } finally {
      await portal.close();
    }
  });

  it("a VIP caller is verified by a manager's approval from the mailed link", {
    timeout: 120_000,
  }, async () => {
    const vip = await makeContact(server, clientId, {
      firstName: "Marcus",
      lastName: "Bell",
      vip: true,
      phone: "+15172015555",
    });
    const boss = await makeContact(server, clientId, {
      firstName: "Olivia",
      lastName: "Grant",
      email: "olivia@brightsmiles.example",
    });
    await apiCall(server.baseUrl, token, "PUT", `/contacts/${boss.id}/identity`, {
      smsNumber: null,
      email: "olivia@brightsmiles.example",
      approver: true,
      adminAccount: false,
      directoryAccount: null,
      version: 0,
    });
    const ticket = await apiCall<{ number: number }>(server.baseUrl, token, "POST", "/tickets", {
      clientId,
      contactId: vip.id,
      subject: "VPN password expired",
    });
    await page.goto(`${server.baseUrl}/tickets/${ticket.number}`);
    await page.getByRole("button", { name: "Verify caller" }).click();
    const dialog = page.getByRole("dialog", { name: "Verify the caller" });
    await dialog.getByRole("button", { name: "Start verification" }).click();
    await dialog.getByText("Needs 2 factors, or a manager's approval").waitFor();
    const before = receiver.mails.length;
    await dialog.getByRole("button", { name: "Ask a manager to approve" }).click();
    await dialog.getByText(/Waiting for the approver/).waitFor();
    let link = "";
    await expect
      .poll(
        async () => {
          const m = receiver.mails.slice(before).find((x) => x.to.includes("olivia@brightsmiles.example"));
          link = m
            ? (/(\/portal\/approve#token=[\w.-]+)/.exec((await simpleParser(m.raw)).text ?? "")?.[1] ?? "")
            : "";
          return link;
        },
        { timeout: 30_000 },
      )
      .not.toBe("");
    const approver = await launchBrowser();
    try {
      await approver.page.goto(`${server.baseUrl}${link}`);
      await approver.page.getByText("Marcus Bell").first().waitFor();
      await expectAccessible(approver.page, "approval link");
      await approver.page.getByRole("button", { name: "Yes, it is Marcus Bell" }).click();
      await approver.page.getByText("Approved. The technician sees it now.").waitFor();
    } finally {
      await approver.close();
    }
    // The technician's dialog learns it from the event stream (or its fallback poll).
    await dialog.getByText("Caller verified").waitFor({ timeout: 15_000 });
  });
});
