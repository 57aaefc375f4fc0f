import type { BrowserContextOptions } from "playwright-core";

/** Debian's Chromium (installed by .ci/run); `playwright install` cannot download a browser here. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";

/**
 * Launch options for a headless Chromium on this machine: the background-networking flags stop it
 * reaching for hosts the closed network refuses.
 */
export const chromiumLaunch = {
  executablePath: CHROMIUM,
  headless: true,
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
  viewport: { width: 1440, height: 900 },
} satisfies BrowserContextOptions & { executablePath: string; headless: boolean; args: string[] };
