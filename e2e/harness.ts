import { existsSync } from "node:fs";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import AxeBuilder from "@axe-core/playwright";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { expect } from "vitest";
import { loadConfig } from "../apps/server/src/config.ts";
import { WEB_DIST } from "../apps/server/src/domains/console/static.ts";
import { startServer } from "../apps/server/src/server.ts";
import { isolatedDatabase } from "../apps/server/test/helpers.ts";
import { chromiumLaunch } from "./chromium.ts";

export const SCREENSHOTS = fileURLToPath(new URL("./screenshots/", import.meta.url));

/**
 * A real Switchboard (api + worker) on its own empty, migrated database, on a free loopback port.
 * `env` adds settings (an SMTP relay, a public URL on a fixed PORT).
 */
export async function startE2EServer(env: Record<string, string> = {}) {
  if (!existsSync(path.join(WEB_DIST, "index.html"))) {
    throw new Error("The console is not built: run `npm run build:web` before `npm run e2e`.");
  }
  const databaseUrl = await isolatedDatabase();
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "switchboard-e2e-"));
  const config = loadConfig({
    DATABASE_URL: databaseUrl,
    PORT: "0",
    HOST: "127.0.0.1",
    SWITCHBOARD_DATA_DIR: dataDir,
    SWITCHBOARD_ROLES: "api,worker",
    LOG_LEVEL: "silent",
    DB_POOL_SIZE: "5",
    ...env,
  });
  const server = await startServer(config);
  const { port } = server.app.server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    baseUrl,
    db: server.deps.db,
    async stop() {
      await server.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Debian's Chromium through Playwright-core; each call is a separate browser profile (a technician).
 * `args` adds Chromium flags (fake screen capture for the remote support scenario).
 */
export async function launchBrowser(args: string[] = []): Promise<{
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}> {
  const userDataDir = await mkdtemp(path.join(os.tmpdir(), "switchboard-chromium-"));
  // launchPersistentContext passes --user-data-dir itself: a fresh directory per technician.
  const context = await chromium.launchPersistentContext(userDataDir, {
    ...chromiumLaunch,
    args: [...chromiumLaunch.args, ...args],
    colorScheme: "light",
    timezoneId: "UTC",
    // No fades: axe must see the page as it settles, not an overlay half-way through its transition.
    reducedMotion: "reduce",
  });
  context.setDefaultTimeout(10_000);
  const page = context.pages()[0] ?? (await context.newPage());
  // A crash in the page is a failure worth reading in the test output.
  page.on("pageerror", (e) => console.error(`[browser] ${e.message}`));
  return {
    context,
    page,
    async close() {
      await context.close();
      await rm(userDataDir, { recursive: true, force: true });
    },
  };
}

export async function screenshot(page: Page, name: string) {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`), fullPage: false });
}

/** axe-core on the page as it is: no serious or critical violations allowed. */
export async function expectAccessible(page: Page, what: string) {
  // Let any transition still running finish first (contrast is measured on the settled page).
  await page.waitForFunction(() => document.getAnimations().every((a) => a.playState !== "running"), null, {
    timeout: 5000,
  });
  const result = await new AxeBuilder({ page })
    .withTags(["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"])
    .analyze();
  const bad = result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => ({
      id: v.id,
      help: v.help,
      nodes: v.nodes
        .slice(0, 3)
        .map((n) => `${n.html.slice(0, 160)} :: ${n.failureSummary?.split("\n")[1] ?? ""}`),
    }));
  if (bad.length) console.error(`[axe] ${what}\n${JSON.stringify(bad, null, 1)}`);
  expect(bad, `accessibility of ${what}`).toEqual([]);
}

/** JSON over the API with a bearer token, for arranging data a scenario starts from. */
export async function apiCall<T>(
  baseUrl: string,
  token: string,
  method: string,
  url: string,
  body?: unknown,
) {
  const res = await fetch(`${baseUrl}/api/v1${url}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { "content-type": "application/json" } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${method} ${url} -> ${res.status} ${text}`);
  return (text ? JSON.parse(text) : undefined) as T;
}
