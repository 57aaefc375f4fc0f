import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import type { Command } from "commander";
import { WEB_DIST } from "../domains/console/static.ts";
import { cliConfig } from "./context.ts";

/**
 * A fresh clone has no built console: build it once, on the first `npm start`, so the two-command
 * install gives a working UI. Later starts find apps/web/dist and skip this entirely.
 */
async function buildWebIfMissing() {
  if (existsSync(path.join(WEB_DIST, "index.html"))) return;
  const webDir = path.resolve(WEB_DIST, "..");
  if (!existsSync(path.join(webDir, "package.json"))) return;
  process.stderr.write("Building the web console (first start only)...\n");
  const npm = process.env.npm_execpath;
  const [cmd, args] = npm ? [process.execPath, [npm, "run", "build"]] : ["npm", ["run", "build"]];
  const code = await new Promise<number>((resolve) => {
    const child = spawn(cmd, args, { cwd: webDir, stdio: ["ignore", "inherit", "inherit"] });
    child.on("error", () => resolve(1));
    child.on("exit", (c) => resolve(c ?? 1));
  });
  if (code !== 0) {
    // The API still works without it; the console answers with how to build it.
    process.stderr.write(
      "The web console did not build; starting the API anyway (try `npm run build:web`).\n",
    );
  }
}

export function registerStart(program: Command) {
  program
    .command("start")
    .description("run Switchboard: migrate, then serve http://localhost:$PORT until stopped")
    .option("-p, --port <port>", "listen on this port (sets PORT)")
    .option(
      "--role <roles>",
      "run only these roles, comma separated: api,worker,gateway (sets SWITCHBOARD_ROLES)",
    )
    .option("--no-build-web", "do not build the web console when apps/web/dist is missing")
    .action(async (opts: { port?: string; role?: string; buildWeb: boolean }) => {
      if (opts.port) process.env.PORT = opts.port;
      if (opts.role) process.env.SWITCHBOARD_ROLES = opts.role;
      // Validate here so a bad setting is one line naming the variable, before anything starts.
      const config = cliConfig();
      if (opts.buildWeb && config.SWITCHBOARD_ROLES.includes("api")) await buildWebIfMissing();
      const { main } = await import("../main.ts");
      await main();
    });
}
