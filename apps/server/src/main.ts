import { ConfigError, loadConfig } from "./config.ts";
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
  const server = await startServer(config, log).catch((err: Error) => {
    log.fatal({ err }, `Switchboard could not start: ${err.message}`);
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
}

if (import.meta.main) await main();
