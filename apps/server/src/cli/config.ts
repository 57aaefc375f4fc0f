import type { Command } from "commander";
import { ConfigSchema } from "../config.ts";
import { cliConfig, print } from "./context.ts";

// ICE servers carry TURN credentials.
const SECRET = /PASSWORD|PASSPHRASE|_KEY$|_KEKS?$|_TOKEN$|ICE_SERVERS/;

/** Values as they may be shown: secrets hidden, passwords inside URLs too. */
function shown(name: string, value: unknown): string {
  if (value === undefined) return "(unset)";
  if (SECRET.test(name)) return "(set, hidden)";
  const text = Array.isArray(value) ? value.join(",") : String(value);
  if (/_URL$/.test(name)) {
    try {
      const url = new URL(text);
      if (url.password) url.password = "****";
      return url.toString();
    } catch {
      return text;
    }
  }
  return text;
}

export function registerConfig(program: Command) {
  program
    .command("config")
    .description("show the effective configuration (secrets hidden) and where each value came from")
    .action(() => {
      const config = cliConfig();
      const values = config as unknown as Record<string, unknown>;
      for (const name of Object.keys(ConfigSchema.shape)) {
        const from = process.env[name] ? "env" : "default";
        print(`${name.padEnd(40)} ${from.padEnd(8)} ${shown(name, values[name])}`);
      }
      print(`${"(data dir resolved)".padEnd(40)} ${"".padEnd(8)} ${config.dataDir}`);
    });
}
