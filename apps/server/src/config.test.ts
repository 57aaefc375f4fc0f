import { describe, expect, it } from "vitest";
import { ConfigError, loadConfig } from "./config.ts";

describe("configuration", () => {
  it("has working defaults", () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ PORT: 8080, SWITCHBOARD_ROLES: ["api", "worker", "gateway"] });
    expect(c.dataDir).toMatch(/data$/);
  });

  it("names every bad variable and what it expected", () => {
    try {
      loadConfig({ PORT: "eighty", DATABASE_URL: "mysql://x", SWITCHBOARD_ROLES: "api,cook" });
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as Error).message;
      expect(msg).toMatch(/PORT: .*number/i);
      expect(msg).toContain("DATABASE_URL");
      expect(msg).toContain("SWITCHBOARD_ROLES");
    }
  });

  it("requires the admin password when the admin email is set", () => {
    expect(() => loadConfig({ SWITCHBOARD_ADMIN_EMAIL: "a@b.example" })).toThrow(
      /SWITCHBOARD_ADMIN_PASSWORD/,
    );
  });
});
