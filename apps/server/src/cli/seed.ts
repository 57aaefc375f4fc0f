import type { Command } from "commander";
import { demoSeedSteps, seedDemo } from "../domains/demo/seed.ts";
import { cliConfig, print, withDatabase } from "./context.ts";
import { runMigrations } from "./migrate.ts";
import { progress } from "./progress.ts";

export function registerSeed(program: Command) {
  const seed = program.command("seed").description("fill the database with sample data");
  seed
    .command("demo")
    .description(
      "a believable MSP (15 clients, technicians in teams, a week of tickets) in an EMPTY database",
    )
    .option("--password <password>", "password for every demo technician (default: a random one, printed)")
    .action(async (opts: { password?: string }) => {
      const config = cliConfig();
      await withDatabase(config, async ({ db }) => {
        await runMigrations(db);
        const bar = progress("seed demo", demoSeedSteps());
        let result: Awaited<ReturnType<typeof seedDemo>>;
        try {
          result = await seedDemo(db, { password: opts.password, onStep: (s) => bar.tick(s) });
        } finally {
          bar.stop();
        }
        const n = result.counts;
        print(
          `Demo MSP ready: ${n.clients} clients, ${n.contacts} contacts, ${n.technicians} users, ${n.tickets} tickets, ${n.timelineEntries} timeline entries.`,
        );
        print(
          `Sign in as ${result.admin.email} (admin) or any demo technician, e.g. martin.hale@lakeshore-it.example`,
        );
        print(`Password for every demo technician: ${result.password}`);
        if (!result.createdSetup) print("(Your existing users and MSP name were kept.)");
      });
    });
}
