import { defineConfig } from "vitest/config";

// Browser scenarios over a real server and database: separate from `npm test` so that stays fast.
// Needs the console built first (`npm run build:web`) and Chromium at /usr/bin/chromium (or CHROMIUM_PATH).
export default defineConfig({
  test: {
    include: ["e2e/**/*.e2e.ts"],
    globalSetup: ["apps/server/test/global-setup.ts"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    maxWorkers: 1,
    fileParallelism: false,
  },
});
