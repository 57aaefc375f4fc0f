import { describeConnectError } from "./cli/context.ts";
import { ConfigError, loadConfig } from "./config.ts";
import { EmbeddedStartError } from "./db/embedded.ts";
import { RoleSetupError } from "./db/roles.ts";
import { alive, parentPid, processCommand } from "./lib/process.ts";
import { createLogger, startServer } from "./server.ts";

/** `switchboard start`: serve until SIGINT/SIGTERM, then stop cleanly. */
export async function main() {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const log = createLogger(config);
  const server = await startServer(config, log).catch((err: unknown) => {
    // One line an operator can act on; the stack only for what nobody foresaw.
    const db = databaseError(err);
    const known = err instanceof EmbeddedStartError || err instanceof RoleSetupError || db !== null;
    const line = db
      ? describeConnectError(db, config)
      : String((err as Error)?.message ?? err).split("\n")[0];
    process.stderr.write(`Switchboard could not start: ${line}\n`);
    if (!known) log.fatal({ err }, `Switchboard could not start: ${line}`);
    process.exit(1);
  });
  const shutdown = (signal: string) => {
    log.info({ signal }, "shutting down");
    server
      .stop()
      .then(() => process.exit(0))
      .catch(() => process.exit(1));
  };
  process.once("SIGINT", () => shutdown("SIGINT"));
  process.once("SIGTERM", () => shutdown("SIGTERM"));
  watchLauncher(() => shutdown("launcher ended"));
}

const UNREACHABLE = new Set([
  "ECONNREFUSED",
  "ENOTFOUND",
  "ETIMEDOUT",
  "EHOSTUNREACH",
  "28P01",
  "28000",
  "3D000",
]);

/** The database's refusal inside an error (a migration wraps it as its cause), or null. */
function databaseError(err: unknown): unknown {
  let e = err as { code?: unknown; cause?: unknown } | undefined;
  for (let depth = 0; e && depth < 5; depth++, e = e.cause as typeof e) {
    if (typeof e.code === "string" && UNREACHABLE.has(e.code)) return e;
  }
  return null;
}

/**
 * Under `npm start`, a SIGTERM to npm reaches npm's shell, not us, and npm does not wait: the server and
 * its PostgreSQL would live on with nobody to stop them. So a server started by an npm script stops when
 * its launcher is gone: its parent (npm, or the shell npm runs it in) or, behind a shell, npm itself.
 */
function watchLauncher(onGone: () => void) {
  if (!process.env.npm_lifecycle_event) return;
  const parent = process.ppid;
  const shell = /^(\S*\/)?(sh|bash|dash|zsh|ash)(\s|$)/.test(processCommand(parent) ?? "");
  const launcher = shell ? parentPid(parent) : null;
  const timer = setInterval(() => {
    if (process.ppid === parent && (launcher === null || alive(launcher))) return;
    clearInterval(timer);
    onGone();
  }, 500);
  timer.unref();
}

if (import.meta.main) await main();
