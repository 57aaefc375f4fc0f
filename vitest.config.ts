import { defineConfig } from "vitest/config";

// One throwaway PostgreSQL per run (embedded, or a fresh database on TEST_DATABASE_URL), migrated once
// by the global setup; every test file shares it and makes its own rows with random data.
export default defineConfig({
  test: {
    include: ["apps/*/src/**/*.test.ts", "packages/*/src/**/*.test.ts"],
    globalSetup: ["apps/server/test/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: "forks",
    maxWorkers: 2,
  },
});
