import { spawn } from "node:child_process";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { newSecret, sha256 } from "../apps/server/src/domains/auth/crypto.ts";
import { makeClient } from "../apps/server/test/helpers.ts";
import { apiCall, expectAccessible, launchBrowser, screenshot, startE2EServer } from "./harness.ts";

type Server = Awaited<ReturnType<typeof startE2EServer>>;
type Browser = Awaited<ReturnType<typeof launchBrowser>>;

const TECH = {
  name: "Priya Natarajan",
  email: "priya@northwind-it.example",
  password: "a long enough password",
};
const MSP = "Northwind IT";
/** A fake screen to share, picked without a dialog; loopback candidates allowed for WebRTC. */
const CAPTURE = [
  "--use-fake-ui-for-media-stream",
  "--use-fake-device-for-media-stream",
  "--auto-accept-this-tab-capture",
  "--allow-loopback-in-peer-connection",
  "--auto-select-desktop-capture-source=Entire screen",
];

// The attended session, in two browsers on loopback: the technician mints a code on the ticket, the
// caller enters it on /join (wrong and expired codes first), sees who is asking, consents, shares a
// (fake) screen that the technician's video receives, they chat both ways, the caller ends it, and the
// ticket keeps the record.
describe("attended support session", () => {
  let server: Server;
  let tech: Browser;
  let caller: Browser;
  let techPage: Page;
  let callerPage: Page;
  let token: string;
  let ticket: { id: string; number: number };

  beforeAll(async () => {
    // With the gateway role: the support agent connects to this server like any agent.
    server = await startE2EServer({ SWITCHBOARD_ROLES: "api,worker,gateway" });
    const setup = await fetch(`${server.baseUrl}/api/v1/setup`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ mspName: MSP, ...TECH }),
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
    const client = await makeClient(server, "Riverside Public Library");
    ticket = await apiCall(server.baseUrl, token, "POST", "/tickets", {
      clientId: client.id,
      subject: "Reservation system shows a database error",
    });
    tech = await launchBrowser();
    caller = await launchBrowser(CAPTURE);
    techPage = tech.page;
    callerPage = caller.page;
  });
  afterEach(async (ctx) => {
    if (ctx.task.result?.state === "fail") {
      await screenshot(techPage, "failed-support-technician").catch(() => {});
      await screenshot(callerPage, "failed-support-caller").catch(() => {});
    }
  });
  afterAll(async () => {
    await tech?.close();
    await caller?.close();
    await server?.stop();
  });

  const enterCode = async (code: string) => {
    const first = callerPage.locator("input[inputmode=numeric]").first();
    await first.click();
    await callerPage.keyboard.type(code);
  };

  it("runs a whole session from the code to the record on the ticket", { timeout: 180_000 }, async () => {
    const started = Date.now();
    const step = (what: string) =>
      console.log(`[remote e2e] ${((Date.now() - started) / 1000).toFixed(1)} s ${what}`);
    await techPage.goto(server.baseUrl);
    await techPage.getByLabel("Email").fill(TECH.email);
    await techPage.getByLabel(/^Password/).fill(TECH.password);
    await techPage.getByRole("button", { name: "Sign in" }).click();
    await techPage.getByRole("heading", { name: "My day" }).waitFor();
    await techPage.goto(`${server.baseUrl}/tickets/${ticket.number}`);
    await techPage.getByRole("button", { name: "Remote" }).click();
    await techPage.getByRole("menuitem", { name: "Start support session" }).click();
    const codeText = (await techPage.getByTestId("support-code").textContent()) ?? "";
    const code = codeText.replace(/\D/g, "");
    expect(code).toMatch(/^\d{6}$/);
    await expectAccessible(techPage, "support session, waiting");
    step("code minted");

    // A wrong code and an expired one get the same refusal, which says nothing about either.
    await callerPage.goto(`${server.baseUrl}/join`);
    await callerPage.getByRole("heading", { name: `${MSP} remote support` }).waitFor();
    await expectAccessible(callerPage, "join");
    await enterCode(code === "000000" ? "000001" : "000000");
    const refusal = callerPage.getByRole("alert");
    await refusal.waitFor();
    expect(await refusal.textContent()).toContain("That code is not valid");
    const expired = await apiCall<{ id: string; code: string }>(
      server.baseUrl,
      token,
      "POST",
      `/tickets/${ticket.id}/support-sessions`,
    );
    await server.db
      .updateTable("support_sessions")
      .set({ code_expires_at: new Date(Date.now() - 1000) })
      .where("id", "=", expired.id)
      .execute();
    await enterCode(expired.code);
    await callerPage.getByText("That code is not valid").waitFor();

    // The right code: who is asking, and the warning, before anything is shared.
    await enterCode(code);
    step("right code entered");
    await callerPage.getByRole("heading", { name: "Who is asking" }).waitFor();
    const ask = (await callerPage.locator("main").textContent()) ?? "";
    expect(ask).toContain(TECH.name);
    expect(ask).toContain(MSP);
    expect(ask).toContain(`#${ticket.number}`);
    expect(ask).toContain("Reservation system shows a database error");
    expect(ask).toContain("If someone called you unexpectedly, stop here.");
    await expectAccessible(callerPage, "who is asking");
    await callerPage.getByRole("button", { name: "Allow and share my screen" }).click();
    step("consented");

    await callerPage.getByText(`You are sharing your screen with ${TECH.name}`).waitFor();

    // The technician's video element receives frames of the caller's screen.
    await techPage.getByTestId("support-status").getByText("Connected").waitFor();
    await techPage.waitForFunction(
      () => {
        const v = document.querySelector<HTMLVideoElement>("[data-testid=caller-screen]");
        return !!v && v.videoWidth > 0 && (v.getVideoPlaybackQuality?.().totalVideoFrames ?? 0) > 0;
      },
      null,
      { timeout: 20_000 },
    );

    // Chat both ways.
    step("chat");

    await callerPage.getByLabel("Message").fill("The screen says ORA-12541: no listener");
    await callerPage.getByRole("button", { name: "Send", exact: true }).click();
    await techPage.getByText("The screen says ORA-12541: no listener").waitFor();
    await techPage.getByLabel("Message").fill("Thanks, I will restart the listener now");
    await techPage.getByRole("button", { name: "Send", exact: true }).click();
    await callerPage.getByText("Thanks, I will restart the listener now").waitFor();
    await expectAccessible(callerPage, "caller sharing, with the banner");
    await expectAccessible(techPage, "technician watching");

    // Control on request: the technician asks, the caller allows it separately and gets a one-time code,
    // runs the support agent with it, and the technician gets "Open shell on caller's machine".
    step("control");
    await techPage.getByRole("button", { name: "Request control/shell" }).click();
    await callerPage.getByTestId("control-request").waitFor();
    await expectAccessible(callerPage, "caller asked for control");
    await callerPage.getByRole("button", { name: "Allow control" }).click();
    const agentCode = ((await callerPage.getByTestId("support-agent-code").textContent()) ?? "").trim();
    expect(agentCode).toMatch(/^[0-9A-Z]{5}-[0-9A-Z]{5}$/);
    await expectAccessible(callerPage, "caller with the support agent's code");
    const agent = spawn(
      process.execPath,
      [
        path.resolve(import.meta.dirname, "../apps/agent/src/main.ts"),
        "support",
        "--server",
        server.baseUrl,
        "--code",
        agentCode,
      ],
      { env: { ...process.env, SWITCHBOARD_AGENT_SHELL: "/bin/sh" }, stdio: "ignore" },
    );
    const agentExited = new Promise<number | null>((resolve) => agent.on("exit", (c) => resolve(c)));
    try {
      await techPage
        .getByRole("link", { name: "Open shell on caller's machine" })
        .waitFor({ timeout: 30_000 });
      await techPage.getByTestId("caller-machine").getByText("online").waitFor({ timeout: 30_000 });
      // Screen sharing went on through all of it.
      const width = await techPage
        .locator("[data-testid=caller-screen]")
        .evaluate((v: HTMLVideoElement) => v.videoWidth);
      expect(width).toBeGreaterThan(0);
      await callerPage.getByText("The support program is running on").waitFor();
      await expectAccessible(techPage, "technician with the caller's machine");

      // One click on the banner ends it for both, and stops the support agent.
      step("banner end");
      await callerPage
        .getByRole("region", { name: "Support session" })
        .getByRole("button", { name: "End session" })
        .click();
      await callerPage.getByRole("heading", { name: "The session has ended" }).waitFor();
      await techPage.getByTestId("support-status").getByText("Ended").waitFor();
      const stopped = new Promise((r) => setTimeout(() => r("still running"), 20_000));
      expect(await Promise.race([agentExited, stopped])).toBe(0);
    } finally {
      agent.kill("SIGKILL");
    }

    // The ticket keeps the record: who, when, the consent, the chat.
    step("record");
    const onTicket = await apiCall<{ timeline: Array<{ body: string | null }> }>(
      server.baseUrl,
      token,
      "GET",
      `/tickets/by-number/${ticket.number}`,
    );
    const record = onTicket.timeline.map((e) => e.body ?? "").find((b) => b.startsWith("Support session by"));
    expect(record).toContain(`Support session by ${TECH.name}`);
    expect(record).toContain("The caller allowed screen sharing, chat and files with the technician");
    expect(record).toContain("Caller: The screen says ORA-12541: no listener");
    expect(record).toContain(`${TECH.name}: Thanks, I will restart the listener now`);
    expect(record).toContain("The caller allowed the support agent on their computer");
    expect(record).toContain("The support agent started on");
    expect(record).toContain("was told to stop and remove itself");
    expect(record).toContain("ended");
  });
});
