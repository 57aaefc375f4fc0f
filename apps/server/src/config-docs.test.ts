import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { ConfigSchema } from "./config.ts";
import {
  CONFIG_FILE,
  configRows,
  END,
  expectedReadme,
  README,
  renderTable,
  START,
  withTable,
} from "./config-docs.ts";

describe("README's configuration table", () => {
  const readme = readFileSync(README, "utf8");
  const source = readFileSync(CONFIG_FILE, "utf8");

  it("is exactly what config.ts generates (run `npm run docs:config` after changing a setting)", () => {
    expect(readme).toBe(expectedReadme(readme));
  });

  it("lists every setting once, with the schema's own default", () => {
    const table = readme.slice(readme.indexOf(START), readme.indexOf(END));
    const names = [...table.matchAll(/^\| `([A-Z0-9_]+)` \|/gm)].map((m) => m[1]);
    expect(names).toEqual(Object.keys(ConfigSchema.shape));
    expect(new Set(names).size).toBe(names.length);
    const row = (name: string) => table.split("\n").find((l) => l.startsWith(`| \`${name}\` |`));
    expect(row("AGENT_OFFLINE_AFTER_MISSED")).toContain("| `2` |");
    expect(row("PORT")).toContain("| `8080` |");
    expect(row("SWITCHBOARD_ROLES")).toContain("| `api,worker,gateway` |");
    expect(row("ATTACHMENT_LIMIT_BYTES")).toContain("| `26214400` (25 MiB) |");
  });

  it("changes when a default changes, and refuses settings it cannot describe", () => {
    const shape = { ...ConfigSchema.shape, PORT: z.coerce.number().default(9090) };
    const changed = withTable(readme, renderTable(configRows(source, shape)));
    expect(changed).not.toBe(readme);
    expect(changed).toContain("| `PORT` | `9090` |");

    const undocumented = `${source}\n  NEW_SETTING: z.string().optional(),\n`;
    expect(() =>
      configRows(undocumented, { ...ConfigSchema.shape, NEW_SETTING: z.string().optional() }),
    ).toThrow(/NEW_SETTING: no \/\*\* description \*\//);
    const contradicting = `${source}\n  /**\n   * Something.\n   * @default 7\n   */\n  OTHER: z.number().default(8),\n`;
    expect(() => configRows(contradicting, { ...ConfigSchema.shape, OTHER: z.number().default(8) })).toThrow(
      /OTHER: has the default `8` in the schema/,
    );
  });
});
