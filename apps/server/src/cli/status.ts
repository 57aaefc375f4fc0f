import type { Command } from "commander";
import { sql } from "kysely";
import type { Config } from "../config.ts";
import type { Database } from "../db/database.ts";
import { migrator } from "../db/migrate.ts";
import { CliError, cliConfig, print, schemaMissing, withDatabase } from "./context.ts";

interface Check {
  name: string;
  ok: boolean;
  detail: string;
  /** A failed warning is reported but does not fail the command. */
  warning?: boolean;
}

async function counts(db: Database) {
  const { rows } = await sql<Record<string, number>>`
    select
      (select count(*)::int from users where active) as technicians,
      (select count(*)::int from teams) as teams,
      (select count(*)::int from clients where active) as clients,
      (select count(*)::int from contacts where active) as contacts,
      (select count(*)::int from tickets where merged_into_id is null) as tickets,
      (select count(*)::int from tickets where is_open) as open_tickets,
      (select count(*)::int from timeline_entries) as timeline_entries,
      (select count(*)::int from domain_events where dispatched_at is null) as undispatched_events,
      (select count(*)::int from api_tokens where revoked_at is null) as api_tokens`.execute(db);
  return rows[0] ?? {};
}

async function httpState(config: Config): Promise<string> {
  try {
    const res = await fetch(`http://127.0.0.1:${config.PORT}/readyz`, { signal: AbortSignal.timeout(1500) });
    const body = (await res.json().catch(() => ({}))) as { status?: string };
    return `answering on port ${config.PORT} (${body.status ?? res.status})`;
  } catch {
    return `not answering on port ${config.PORT}`;
  }
}

async function collect(config: Config) {
  const checks: Check[] = [];
  const info: Record<string, unknown> = {};
  checks.push({
    name: "configuration",
    ok: true,
    detail: config.DATABASE_URL ? "external PostgreSQL (DATABASE_URL)" : `data in ${config.dataDir}`,
  });
  try {
    await withDatabase(config, async ({ db, mode }) => {
      const { rows } = await sql<{ v: string }>`select current_setting('server_version') as v`.execute(db);
      checks.push({ name: "database", ok: true, detail: `PostgreSQL ${rows[0]?.v} (${mode})` });
      if (await schemaMissing(db)) {
        checks.push({ name: "migrations", ok: false, detail: "no tables yet: run `switchboard migrate`" });
        return;
      }
      const all = await migrator(db).getMigrations();
      const pending = all.filter((m) => !m.executedAt);
      checks.push({
        name: "migrations",
        ok: pending.length === 0,
        detail: pending.length
          ? `${pending.length} pending (${pending.map((m) => m.name).join(", ")}): run \`switchboard migrate\``
          : `${all.length} applied`,
      });
      const msp = await db.selectFrom("msp").select("name").executeTakeFirst();
      const admins = await db
        .selectFrom("users")
        .select((eb) => eb.fn.countAll<number>().as("n"))
        .where("role", "=", "admin")
        .where("active", "=", true)
        .executeTakeFirstOrThrow();
      checks.push({
        name: "setup",
        ok: Number(admins.n) > 0,
        warning: true,
        detail:
          Number(admins.n) > 0
            ? `${msp?.name ?? "MSP"}, ${admins.n} active admin(s)`
            : "no admin yet: open the web console, or run `switchboard create-admin`",
      });
      Object.assign(info, await counts(db));
    });
  } catch (err) {
    if (!(err instanceof CliError)) throw err;
    checks.push({ name: "database", ok: false, detail: err.message });
  }
  checks.push({ name: "server", ok: true, detail: await httpState(config) });
  return { checks, counts: info };
}

export function registerStatus(program: Command) {
  program
    .command("status")
    .alias("doctor")
    .description("check the configuration, database and migrations; show what the database holds")
    .option("--json", "print the result as JSON")
    .action(async (opts: { json?: boolean }) => {
      const result = await collect(cliConfig());
      const failed = result.checks.filter((c) => !c.ok && !c.warning);
      if (opts.json) {
        print(JSON.stringify({ ok: failed.length === 0, ...result }, null, 2));
      } else {
        for (const c of result.checks) {
          print(`${c.ok ? "ok  " : c.warning ? "warn" : "FAIL"}  ${c.name.padEnd(14)} ${c.detail}`);
        }
        const entries = Object.entries(result.counts);
        if (entries.length) {
          print();
          for (const [k, v] of entries) print(`      ${k.replaceAll("_", " ").padEnd(20)} ${v}`);
        }
      }
      if (failed.length) process.exitCode = 1;
    });
}
