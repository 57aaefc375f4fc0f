import { randomUUID } from "node:crypto";
import type { CommandPayload } from "@switchboard/shared";
import type { FastifyBaseLogger as Logger } from "fastify";
import { sql } from "kysely";
import type { Database } from "../../db/database.ts";
import type { AlertSeverity } from "../../db/schema.ts";
import { asSystem } from "../../db/scope.ts";
import type { AgentHub } from "../../gateway/hub.ts";
import { commandFrame } from "../agents/commands.ts";
import { type ServerKey, signCommandPayload } from "../agents/signing-key.ts";
import { type EffectiveCheck, POLICY_LEVEL, POLICY_REACHES } from "./checks.ts";
import { latestDue, parseCron, validZone } from "./cron.ts";
import { advanceAlert, type IngestSettings } from "./results.ts";
import { taskAlertKey } from "./tasks.ts";

export interface TaskSchedulerDeps {
  db: Database;
  hub: AgentHub;
  serverKey: () => Promise<ServerKey>;
}

/** An online device's run may still reach it this long after its due time (a reconnect soon after). */
const ONLINE_GRACE_MS = 10 * 60_000;
/** A missed run caught up on reconnect: the device has this long to come back. */
const CATCH_UP_MS = 7 * 86_400_000;
const OUTPUT_LIMIT = 64 * 1024;
/** Task runs (and their output) are kept this long for the device's Monitoring section. */
const RUN_DAYS = 30;

interface Candidate {
  task_id: string;
  name: string;
  interpreter: string;
  script: string;
  timeout_seconds: number;
  run_missed: boolean;
  device_id: string;
  client_id: string;
  online: boolean;
  due_at: Date;
  /** An earlier run of this task still waits in the queue for this device. */
  waiting: boolean;
}

/**
 * Due runs of every scheduled task: for each task and time zone in use, the latest due time (cron in the
 * site's zone, the MSP's for devices without a site), then one run per device the task reaches (through
 * its policy, inherited downwards like checks: a task of the same name lower down replaces it, a disabled
 * one there switches it off). The run's unique (task, device, due time) makes it exactly once however many
 * workers do this at the same moment: the loser's insert finds the row and creates no command.
 */
export async function scheduleDueRuns(deps: TaskSchedulerDeps, now = new Date()) {
  const key = await deps.serverKey();
  const created = await asSystem(() =>
    deps.db.transaction().execute(async (trx) => {
      const tasks = await trx
        .selectFrom("monitoring_tasks as t")
        .innerJoin("monitoring_policies as p", "p.id", "t.policy_id")
        .select(["t.id", "t.cron", "t.schedule_from"])
        .where("t.enabled", "=", true)
        .where("p.enabled", "=", true)
        // A task deleted during the pass waits for it: its dues and runs would otherwise fail their keys.
        .forKeyShare("t")
        .execute();
      if (!tasks.length) return [];
      const { rows: zoneRows } = await sql<{ zone: string }>`
        select timezone as zone from sites
        union select coalesce((select timezone from msp limit 1), 'UTC')`.execute(trx);
      const zones = [...new Set(zoneRows.map((z) => z.zone))];
      const due: { task: string; zone: string; at: Date }[] = [];
      for (const t of tasks) {
        const cron = parseCron(t.cron);
        for (const zone of zones) {
          const at = latestDue(cron, validZone(zone), now, t.schedule_from);
          if (at) due.push({ task: t.id, zone, at });
        }
      }
      await sql`delete from monitoring_task_dues where due_at < ${now}::timestamptz - interval '3 days'`.execute(
        trx,
      );
      if (!due.length) return [];
      // Claimed by exactly one worker (a concurrent one waits on the key, then finds it taken).
      const { rows: claimed } = await sql<{ task_id: string; zone: string; due_at: Date }>`
        insert into monitoring_task_dues (task_id, zone, due_at)
        select * from unnest(${due.map((d) => d.task)}::uuid[], ${due.map((d) => d.zone)}::text[],
          ${due.map((d) => d.at.toISOString())}::timestamptz[])
        on conflict do nothing
        returning task_id, zone, due_at`.execute(trx);
      if (!claimed.length) return [];
      const { rows } = await sql<Candidate>`
        with due(task_id, zone, due_at) as (
          select * from unnest(${claimed.map((d) => d.task_id)}::uuid[], ${claimed.map((d) => d.zone)}::text[],
            ${claimed.map((d) => d.due_at)}::timestamptz[])),
        reach as (
          select distinct on (d.id, t.name) d.id as device_id, d.client_id, d.online, d.enrolled_at,
            coalesce(s.timezone, (select timezone from msp limit 1), 'UTC') as zone,
            t.id as task_id, t.name, t.interpreter, t.script, t.timeout_seconds, t.run_missed, t.enabled
          from devices d
          left join sites s on s.id = d.site_id
          join monitoring_policies p on p.enabled and ${POLICY_REACHES}
          join monitoring_tasks t on t.policy_id = p.id
          where d.retired_at is null and d.support_session_id is null
          order by d.id, t.name, ${POLICY_LEVEL} desc, t.created_at desc)
        select r.task_id, r.name, r.interpreter, r.script, r.timeout_seconds, r.run_missed, r.device_id,
          r.client_id, r.online, due.due_at,
          exists (select 1 from monitoring_task_runs w join device_commands c on c.id = w.command_id
            where w.task_id = r.task_id and w.device_id = r.device_id and not w.judged
              and c.status = 'queued') as waiting
        from reach r join due on due.task_id = r.task_id and due.zone = r.zone
        where r.enabled and r.enrolled_at < due.due_at
          and not exists (select 1 from monitoring_task_runs x
            where x.task_id = r.task_id and x.device_id = r.device_id and x.due_at = due.due_at)`.execute(
        trx,
      );
      if (!rows.length) return [];
      // Offline at the due time: caught up on reconnect (once, however many due times it sleeps through),
      // or recorded as missed.
      const status = (c: Candidate) =>
        c.online ? "queued" : !c.run_missed ? "missed" : c.waiting ? "skipped" : "queued";
      const { rows: inserted } = await sql<{ id: string; task_id: string; device_id: string; due_at: Date }>`
        insert into monitoring_task_runs (task_id, device_id, client_id, due_at, status, judged, output)
        select v.task_id, v.device_id, v.client_id, v.due_at, v.status, v.status <> 'queued',
          case v.status when 'missed' then 'The device was offline at the due time.'
            when 'skipped' then 'An earlier run still waits for the device to reconnect.' else '' end
        from unnest(${rows.map((r) => r.task_id)}::uuid[], ${rows.map((r) => r.device_id)}::uuid[],
          ${rows.map((r) => r.client_id)}::uuid[], ${rows.map((r) => r.due_at)}::timestamptz[],
          ${rows.map(status)}::text[]) as v(task_id, device_id, client_id, due_at, status)
        on conflict (task_id, device_id, due_at) do nothing
        returning id, task_id, device_id, due_at`.execute(trx);
      const byKey = new Map(rows.map((r) => [`${r.task_id}/${r.device_id}`, r]));
      const runs = inserted
        .map((i) => ({ run: i, c: byKey.get(`${i.task_id}/${i.device_id}`)! }))
        .filter((x) => status(x.c) === "queued");
      if (!runs.length) return [];
      // The signed command carries the real clock: the agent checks its freshness against its own.
      const issued = new Date();
      const commands = runs.map(({ run, c }) => {
        const payload: CommandPayload = {
          v: 1,
          id: randomUUID(),
          deviceId: c.device_id,
          issuedAt: issued.toISOString(),
          expiresAt: new Date(
            issued.getTime() + (c.run_missed ? CATCH_UP_MS : ONLINE_GRACE_MS),
          ).toISOString(),
          command: {
            kind: "script.run",
            interpreter: c.interpreter as "bash",
            script: c.script,
            timeoutSeconds: c.timeout_seconds,
            outputLimitBytes: OUTPUT_LIMIT,
          },
        };
        const text = JSON.stringify(payload);
        return { run, c, payload, text, signature: signCommandPayload(key, text) };
      });
      await trx
        .insertInto("device_commands")
        .values(
          commands.map((x) => ({
            id: x.payload.id,
            device_id: x.c.device_id,
            client_id: x.c.client_id,
            kind: "script.run",
            command: JSON.stringify(x.payload.command),
            payload: x.text,
            signature: x.signature,
            status: "queued",
            requested_by_user_id: null,
            requested_by_label: `Scheduled task: ${x.c.name}`,
            expires_at: x.payload.expiresAt,
          })),
        )
        .execute();
      await sql`
        update monitoring_task_runs r set command_id = v.command_id
        from unnest(${commands.map((x) => x.run.id)}::uuid[], ${commands.map((x) => x.payload.id)}::uuid[])
          as v(run_id, command_id)
        where r.id = v.run_id`.execute(trx);
      return commands.map((x) => ({
        id: x.payload.id,
        device_id: x.c.device_id,
        online: x.c.online,
        payload: x.text,
        signature: x.signature,
      }));
    }),
  );
  // After the commit: online devices get theirs now. Claimed from `queued` first, so a reconnect at the
  // same moment (the gateway claims queued commands too) cannot send it twice.
  let delivered = 0;
  for (const c of created.filter((x) => x.online)) {
    const claimed = await asSystem(() =>
      deps.db
        .updateTable("device_commands")
        .set({ status: "sent", sent_at: new Date() })
        .where("id", "=", c.id)
        .where("status", "=", "queued")
        .executeTakeFirst(),
    );
    if (!claimed.numUpdatedRows) continue;
    if (await deps.hub.deliver(c.device_id, commandFrame(c))) delivered++;
    else
      await asSystem(() =>
        deps.db
          .updateTable("device_commands")
          .set({ status: "queued", sent_at: null })
          .where("id", "=", c.id)
          .where("status", "=", "sent")
          .execute(),
      );
  }
  return { created: created.length, delivered };
}

interface Finished {
  id: string;
  task_id: string;
  name: string;
  severity: AlertSeverity;
  policy_id: string;
  device_id: string;
  client_id: string;
  site_id: string | null;
  hostname: string;
  status: string;
  exit_code: number | null;
  stdout: string;
  stderr: string;
  error: string | null;
  timeout_seconds: number;
}

function describe(f: Finished): { ok: boolean; status: string; output: string } {
  const text = `${f.stdout}${f.stderr ? `\n${f.stderr}` : ""}`.trim().slice(-3500);
  if (f.status === "expired")
    return { ok: true, status: "missed", output: "The device did not come back before the run expired." };
  if (f.status === "succeeded" && (f.exit_code ?? 0) === 0)
    return { ok: true, status: "succeeded", output: text };
  const why =
    f.status === "timed_out"
      ? `Timed out after ${f.timeout_seconds} s.`
      : f.status === "refused"
        ? `Refused: ${f.error ?? "by the agent"}.`
        : f.exit_code !== null
          ? `Exited with code ${f.exit_code}.`
          : `Failed: ${f.error ?? "no exit code"}.`;
  return {
    ok: false,
    status: f.status === "timed_out" ? "timed_out" : "failed",
    output: `${why}\n${text}`.trim(),
  };
}

/**
 * Finished runs move the (device, task) alert through the same machinery as a check: a failing run (a
 * non-zero exit, a timeout, a refusal) fires it at once with its ticket, the next run that succeeds
 * resolves both. Oldest first, rows locked and skipped by a concurrent worker, each judged once.
 */
export async function judgeFinishedRuns(db: Database, s: IngestSettings) {
  return asSystem(() =>
    db.transaction().execute(async (trx) => {
      // History is kept RUN_DAYS; a bounded batch per pass.
      await sql`delete from monitoring_task_runs where id = any(array(
        select id from monitoring_task_runs where judged and created_at < now() - make_interval(days => ${RUN_DAYS})
        limit 5000))`.execute(trx);
      const { rows } = await sql<Finished>`
        select r.id, r.task_id, t.name, t.severity, t.policy_id, t.timeout_seconds, r.device_id, d.client_id,
          d.site_id, d.hostname, c.status, c.exit_code, c.stdout, c.stderr, c.error
        from monitoring_task_runs r
        join device_commands c on c.id = r.command_id
        join monitoring_tasks t on t.id = r.task_id
        join devices d on d.id = r.device_id
        where not r.judged and c.status in ('succeeded', 'failed', 'timed_out', 'refused', 'expired')
        order by r.due_at
        limit 500
        for update of r skip locked`.execute(trx);
      for (const f of rows) {
        const d = describe(f);
        await trx
          .updateTable("monitoring_task_runs")
          .set({
            judged: true,
            status: d.status,
            exit_code: f.exit_code,
            output: d.output,
            finished_at: new Date(),
          })
          .where("id", "=", f.id)
          .execute();
        if (d.status === "missed") continue;
        const pseudo: EffectiveCheck = {
          id: f.task_id,
          kind: "task",
          name: f.name,
          config: {} as EffectiveCheck["config"],
          interval_seconds: 0,
          severity: f.severity,
          fail_after: 1,
          pass_after: 1,
          remediation: null,
          policy_id: f.policy_id,
          level: 0,
        };
        await advanceAlert(
          trx,
          { id: f.device_id, client_id: f.client_id, site_id: f.site_id, hostname: f.hostname },
          pseudo,
          { state: d.ok ? "ok" : "critical", output: d.output, streak: 1 },
          s,
          taskAlertKey(f.task_id),
          null,
        );
      }
      return rows.length;
    }),
  );
}

/**
 * The worker's task timer: due runs, then results. Every worker may run it (the run's unique key and the
 * skip-locked judging make that safe); a pass that fails is the next one's work.
 */
export function startTaskScheduler(
  deps: TaskSchedulerDeps,
  s: IngestSettings & { everySeconds: number },
  log: Logger,
) {
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    scheduleDueRuns(deps)
      .then(() => judgeFinishedRuns(deps.db, s))
      .catch((err) => log.error({ err }, "scheduled tasks pass failed"))
      .finally(() => {
        running = false;
      });
  }, s.everySeconds * 1000);
  timer.unref();
  return () => clearInterval(timer);
}
