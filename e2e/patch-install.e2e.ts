import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import AxeBuilder from "@axe-core/playwright";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newSecret, sha256 } from "../apps/server/src/domains/auth/crypto.ts";
import { type FakeApt, fakeApt } from "../apps/server/src/domains/monitoring/fake-apt.ts";
import { binary, canRun, ensureBuilt, run } from "../apps/server/src/gateway/agent-build.ts";
import { makeClient } from "../apps/server/test/helpers.ts";
import { apiCall, launchBrowser, screenshot, startE2EServer } from "./harness.ts";

type Server = Awaited<ReturnType<typeof startE2EServer>>;
type Browser = Awaited<ReturnType<typeof launchBrowser>>;

const TECH = {
  name: "Priya Natarajan",
  email: "priya@northwind-it.example",
  password: "a long enough password",
};

// Patch Tuesday at the library: the circulation server's agent (the real executable, with stand-ins for
// apt-get and dpkg-query on its PATH: nothing is installed on this machine) reports three security
// updates missing. The technician opens the device's Patch section, ticks two and installs them: one
// installs, the other fails with the mirror's error and a Retry; the missing list shrinks after the
// agent's rescan. The client's health summary shows the patch figures and the install.
describe.skipIf(!canRun)("approve and install updates from the Patch section", () => {
  let server: Server;
  let browser: Browser;
  let page: Page;
  let agent: ChildProcess | null = null;
  let apt: FakeApt | undefined;
  let deviceId = "";
  let clientId = "";

  beforeAll(async () => {
    await ensureBuilt();
    server = await startE2EServer({
      SWITCHBOARD_ROLES: "api,worker,gateway",
      MONITORING_SUMMARY_SECONDS: "10",
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
    const token = newSecret("sb_");
    await server.db
      .insertInto("api_tokens")
      .values({ user_id: user.id, name: "e2e", token_hash: sha256(token), prefix: token.slice(0, 10) })
      .execute();
    const client = await makeClient(server, "Riverside Public Library");
    clientId = client.id;
    const enrollment = await apiCall<{ token: string }>(server.baseUrl, token, "POST", "/enrollment-tokens", {
      clientId,
      maxUses: 1,
    });
    apt = await fakeApt(
      {
        openssl: ["3.0.11-1~deb12u2", "3.0.15-1~deb12u1"],
        curl: ["7.88.1-10+deb12u5", "7.88.1-10+deb12u8"],
        libxml2: ["2.9.14+dfsg-1.3", "2.9.14+dfsg-1.3~deb12u1"],
      },
      ["curl"],
    );
    const stateDir = await mkdtemp(path.join(os.tmpdir(), "sb-e2e-patch-"));
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
    deviceId = enrolled.stdout.match(/enrolled as device (\S+)/)?.[1] ?? "";
    agent = spawn(binary, ["run", "--state-dir", stateDir], {
      env: {
        ...process.env,
        PATH: `${apt.binDir}:${process.env.PATH}`,
        SWITCHBOARD_AGENT_PATCH_FIRST_SECONDS: "1",
      },
      stdio: "ignore",
    });
    // The first scan rides on the first summary.
    for (let i = 0; i < 600; i++) {
      const p = await apiCall<{ status: { missing: number } | null }>(
        server.baseUrl,
        token,
        "GET",
        `/devices/${deviceId}/patch-status`,
      );
      if (p.status?.missing === 3) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    browser = await launchBrowser();
    page = browser.page;
  }, 240_000);
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === "fail") await screenshot(page, "failed-patch-install").catch(() => {});
  });
  afterAll(async () => {
    agent?.kill("SIGKILL");
    await browser?.close();
    await server?.stop();
    await apt?.close();
  });

  it("shows what is missing, installs the ticked updates, and shows a result per update", {
    timeout: 180_000,
  }, async () => {
    await page.goto(server.baseUrl);
    await page.getByLabel("Email").fill(TECH.email);
    await page.getByLabel(/^Password/).fill(TECH.password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { name: "My day" }).waitFor();
    await page.goto(`${server.baseUrl}/devices/${deviceId}`);
    const patch = page.locator('section[aria-labelledby="device-patch"]');
    const missing = patch.getByRole("table", { name: "Missing updates" });
    await expect.poll(() => missing.getByRole("row").count(), { timeout: 30_000 }).toBe(4);
    await patch.getByText("3 updates, 3 security").waitFor();
    await page.mouse.move(700, 10);
    const axe = () =>
      new AxeBuilder({ page })
        .include('section[aria-labelledby="device-patch"]')
        .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
        .analyze()
        .then((r) => r.violations.filter((v) => v.impact === "serious" || v.impact === "critical"));
    expect(await axe()).toEqual([]);
    await screenshot(page, "patch-missing");

    await patch.getByRole("checkbox", { name: "Select openssl" }).check();
    await patch.getByRole("checkbox", { name: "Select curl" }).check();
    await patch.getByRole("button", { name: "Install selected (2)" }).click();

    // Live: the run's results arrive without a reload.
    const results = patch.getByRole("table", { name: /^Results of the install/ });
    const row = (name: string) => results.getByRole("row").filter({ hasText: name });
    await row("openssl").getByText("installed", { exact: true }).waitFor({ timeout: 60_000 });
    await row("openssl").getByText("3.0.11-1~deb12u2 → 3.0.15-1~deb12u1").waitFor();
    await row("curl").getByText("failed", { exact: true }).waitFor();
    await row("curl")
      .getByText(/E: Unable to fetch some archives/)
      .waitFor();
    await patch.getByText("partial", { exact: true }).waitFor();
    await patch.getByText(`Approved by ${TECH.name}`, { exact: false }).waitFor();
    const retry = patch.getByRole("button", { name: "Retry failed (1)" });
    await retry.waitFor();
    // The agent's rescan: openssl left the list; curl (failed) and libxml2 (not chosen) remain.
    await expect.poll(() => missing.getByRole("row").count(), { timeout: 60_000 }).toBe(3);
    await missing.getByText("libxml2").waitFor();
    await page.mouse.move(700, 10);
    expect(await axe()).toEqual([]);
    await screenshot(page, "patch-installed");

    // The mirror is fixed; Retry installs curl.
    await apt!.heal("curl");
    await retry.click();
    await patch.getByText("(retry)", { exact: false }).waitFor();
    await patch.getByText("done", { exact: true }).waitFor({ timeout: 60_000 });
    await expect.poll(() => missing.getByRole("row").count(), { timeout: 60_000 }).toBe(2);

    // The client's health summary: the patch rollup, with the install just made.
    await page.goto(`${server.baseUrl}/clients/${clientId}`);
    const health = page.locator('section[aria-labelledby="client-health"]');
    await health
      .getByText("1 of 1 devices reporting; 1 missing security updates", { exact: false })
      .waitFor();
    await health.getByText("1 unrated").waitFor();
    await health.getByText("Last install").waitFor();
    expect(await health.getByText("unknown").count()).toBe(0);
    // Auto-approval for the client, installing overnight in each site's time zone.
    const auto = health.getByRole("switch", { name: "Approve and install security updates automatically" });
    await auto.click();
    await expect.poll(() => auto.isChecked()).toBe(true);
    await health.getByLabel("Window from").fill("22:00");
    await health.getByLabel("to", { exact: true }).fill("04:00");
    await health.getByRole("button", { name: "Save window" }).click();
    await health.getByText("Installed between 22:00 and 04:00, each device's site time.").waitFor();
    const settings = await server.db
      .selectFrom("patch_settings")
      .select(["auto_install_security", "install_window_start", "install_window_end"])
      .where("client_id", "=", clientId)
      .executeTakeFirstOrThrow();
    expect(settings).toEqual({
      auto_install_security: true,
      install_window_start: 1320,
      install_window_end: 240,
    });
    await page.mouse.move(700, 10);
    const healthAxe = await new AxeBuilder({ page })
      .include('section[aria-labelledby="client-health"]')
      .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
      .analyze();
    expect(healthAxe.violations.filter((v) => v.impact === "serious" || v.impact === "critical")).toEqual([]);
    await screenshot(page, "patch-client-health");
  });
});
