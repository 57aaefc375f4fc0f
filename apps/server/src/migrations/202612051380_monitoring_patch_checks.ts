import { type Kysely, sql } from "kysely";

// Four more check kinds the agent runs: a pending reboot, missing OS updates (security count and age),
// a plain-text log pattern (journald, a file, a Windows event log) and backup freshness. Their
// parameters are validated at save by packages/shared CheckConfig, like the others.
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
alter table monitoring_checks drop constraint monitoring_checks_kind_check;
alter table monitoring_checks add constraint monitoring_checks_kind_check check (kind in
  ('service', 'process', 'disk', 'cpu', 'memory', 'ping', 'tcp', 'http', 'script',
   'reboot', 'updates', 'log', 'backup'));
`.execute(db);
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`
delete from monitoring_checks where kind in ('reboot', 'updates', 'log', 'backup');
alter table monitoring_checks drop constraint monitoring_checks_kind_check;
alter table monitoring_checks add constraint monitoring_checks_kind_check check (kind in
  ('service', 'process', 'disk', 'cpu', 'memory', 'ping', 'tcp', 'http', 'script'));
`.execute(db);
}
