import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { z } from "zod";
import { ConfigSchema } from "./config.ts";

/**
 * README's configuration table, generated from config.ts: the names and defaults from the schema itself,
 * the meaning from the doc comment above each setting (`@default text` in it describes a setting with
 * no fixed default, such as a generated key). `npm run docs:config` rewrites the table between the
 * markers; `npm run docs:config -- --check` (and config-docs.test.ts) fails when README disagrees.
 */

export const START =
  "<!-- config:start (generated from apps/server/src/config.ts by `npm run docs:config`) -->";
export const END = "<!-- config:end -->";
export const CONFIG_FILE = path.join(import.meta.dirname, "config.ts");
export const README = path.resolve(import.meta.dirname, "..", "..", "..", "README.md");

export interface ConfigRow {
  name: string;
  default: string;
  meaning: string;
}

/** The doc comment directly above `  NAME:` in config.ts: its text and its `@default`, if any. */
export function docComment(source: string, name: string): { text: string; default?: string } | null {
  const lines = source.split("\n");
  const at = lines.findIndex((l) => l.startsWith(`  ${name}:`));
  if (at < 0) return null;
  const above = lines[at - 1]?.trim() ?? "";
  let body: string[] = [];
  if (above.startsWith("/**") && above.endsWith("*/")) {
    body = [above.slice(3, -2)];
  } else if (above === "*/") {
    let i = at - 2;
    for (; i >= 0 && !lines[i]?.trim().startsWith("/**"); i--) body.unshift(lines[i] ?? "");
    if (i < 0) return null;
  } else {
    return null;
  }
  const cleaned = body.map((l) => l.replace(/^\s*\*\s?/, "").trim());
  const tag = cleaned.findIndex((l) => l.startsWith("@default"));
  const text = (tag >= 0 ? cleaned.slice(0, tag) : cleaned).filter(Boolean).join(" ");
  const def =
    tag >= 0
      ? cleaned
          .slice(tag)
          .join(" ")
          .replace(/^@default\s*/, "")
      : undefined;
  return { text, ...(def ? { default: def } : {}) };
}

function mib(n: number) {
  return n >= 1024 * 1024 && n % (1024 * 1024) === 0 ? ` (${n / 1024 / 1024} MiB)` : "";
}

/** How a schema default reads in the table; null when the setting has none (or an empty list). */
function schemaDefault(name: string, field: z.ZodType): string | null {
  const def = (field as unknown as { _zod: { def: { type: string; defaultValue?: unknown } } })._zod.def;
  if (def.type !== "default") return null;
  const v = def.defaultValue;
  if (Array.isArray(v)) return v.length ? `\`${v.join(",")}\`` : null;
  if (typeof v === "number") return `\`${v}\`${name.endsWith("_BYTES") ? mib(v) : ""}`;
  return `\`${String(v)}\``;
}

/** One row per setting, in config.ts order. Throws naming every setting without a description. */
export function configRows(
  source: string,
  shape: Record<string, z.ZodType> = ConfigSchema.shape,
): ConfigRow[] {
  const problems: string[] = [];
  const rows = Object.entries(shape).map(([name, field]) => {
    const doc = docComment(source, name);
    if (!doc?.text) problems.push(`${name}: no /** description */ directly above it in config.ts`);
    const fixed = schemaDefault(name, field);
    if (fixed !== null && doc?.default) {
      problems.push(
        `${name}: has the default ${fixed} in the schema, so its @default text would contradict it`,
      );
    }
    return { name, default: fixed ?? doc?.default ?? "(none)", meaning: doc?.text ?? "" };
  });
  if (problems.length) throw new Error(`config.ts cannot document itself:\n  ${problems.join("\n  ")}`);
  return rows;
}

const cell = (s: string) => s.replace(/\|/g, "\\|");

export function renderTable(rows: ConfigRow[]): string {
  return [
    "| Variable | Default | Meaning |",
    "| --- | --- | --- |",
    ...rows.map((r) => `| \`${r.name}\` | ${cell(r.default)} | ${cell(r.meaning)} |`),
  ].join("\n");
}

/** README with the generated table between the markers (which must each be there once). */
export function withTable(readme: string, table: string): string {
  const start = readme.indexOf(START);
  const end = readme.indexOf(END);
  if (start < 0 || end < start || readme.indexOf(START, start + 1) >= 0) {
    throw new Error(`README.md needs the markers ${START} and ${END}, once each`);
  }
  return `${readme.slice(0, start + START.length)}\n${table}\n${readme.slice(end)}`;
}

export function expectedReadme(readme = readFileSync(README, "utf8")) {
  return withTable(readme, renderTable(configRows(readFileSync(CONFIG_FILE, "utf8"))));
}

if (import.meta.main) {
  const current = readFileSync(README, "utf8");
  try {
    const next = expectedReadme(current);
    if (process.argv.includes("--check")) {
      if (next !== current) {
        process.stderr.write(
          "README.md's configuration table differs from config.ts: run `npm run docs:config`\n",
        );
        process.exit(1);
      }
    } else if (next !== current) {
      writeFileSync(README, next);
      process.stdout.write("README.md: configuration table regenerated from config.ts\n");
    }
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    process.exit(1);
  }
}
