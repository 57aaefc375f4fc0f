import { Command, CommanderError } from "commander";
import { ZodError } from "zod";
import { registerConfig } from "./config.ts";
import { CliError } from "./context.ts";
import { registerMigrate } from "./migrate.ts";
import { registerSeed } from "./seed.ts";
import { registerStart } from "./start.ts";
import { registerStatus } from "./status.ts";
import { registerTokens } from "./tokens.ts";
import { registerUsers } from "./users.ts";

const program = new Command("switchboard")
  .description("Switchboard: the service desk for managed IT service providers")
  .option("--debug", "print stack traces on failure")
  .showHelpAfterError("(run `switchboard --help` for usage)")
  .exitOverride();

registerStart(program);
registerMigrate(program);
registerStatus(program);
registerConfig(program);
registerUsers(program);
registerTokens(program);
registerSeed(program);

// Every command but `start` is done when its action returns: exit without waiting on idle handles.
program.hook("postAction", (_program, command) => {
  if (command.name() !== "start") process.exit(process.exitCode ?? 0);
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  if (program.opts().debug) console.error(err);
  // AppError messages are written for users ("Switchboard is already set up"); show them as they are.
  const message =
    err instanceof ZodError
      ? err.issues.map((i) => `${i.path.join(".") || "input"}: ${i.message}`).join("; ")
      : err instanceof Error
        ? err.message
        : String(err);
  process.stderr.write(`switchboard: ${message.split("\n")[0]}\n`);
  process.exit(err instanceof CliError ? err.exitCode : 1);
}
