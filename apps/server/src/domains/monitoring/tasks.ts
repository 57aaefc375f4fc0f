import type { CreateTaskRequest, TaskDto, TaskRunDto, UpdateTaskRequest } from "@switchboard/shared";
import { type Selectable, sql, type Transaction } from "kysely";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import type { DB, MonitoringTasksTable } from "../../db/schema.ts";
import { invalid, notFound, versionConflict } from "../../http/errors.ts";
import { recordChange } from "../audit/record.ts";
import { type Actor, canSeeClient } from "../auth/actor.ts";
import { CronError, parseCron } from "./cron.ts";
import { authorize } from "./policies.ts";
import { resolveTicketUnlessShared } from "./tickets.ts";

type TaskRow = Selectable<MonitoringTasksTable>;

/** The alert of a task on a device is keyed like a check's, with no check row behind it. */
export const taskAlertKey = (taskId: string) => `task:${taskId}`;

export function toTaskDto(t: TaskRow): TaskDto {
  return {
    id: t.id,
    policyId: t.policy_id,
    name: t.name,
    interpreter: t.interpreter as TaskDto["interpreter"],
    script: t.script,
    cron: t.cron,
    timeoutSeconds: t.timeout_seconds,
    severity: t.severity,
    runMissed: t.run_missed,
    enabled: t.enabled,
    version: t.version,
  };
}

/** A bad expression is a 400 naming the field and the part of it that is wrong. */
function checkCron(cron: string) {
  try {
    parseCron(cron);
  } catch (err) {
    if (err instanceof CronError) throw invalid("body.cron", err.message);
    throw err;
  }
}

async function policyFor(db: Database | Transaction<DB>, actor: Actor, policyId: string) {
  const p = await db
    .selectFrom("monitoring_policies")
    .select(["id", "client_id"])
    .where("id", "=", policyId)
    .executeTakeFirst();
  if (!p || (p.client_id && !canSeeClient(actor, p.client_id))) throw notFound("Policy");
  return p;
}

export async function listTasks(db: Database, actor: Actor, policyId: string): Promise<TaskDto[]> {
  await policyFor(db, actor, policyId);
  const rows = await db
    .selectFrom("monitoring_tasks")
    .selectAll()
    .where("policy_id", "=", policyId)
    .orderBy("name")
    .execute();
  return rows.map(toTaskDto);
}

const values = (input: z.output<typeof CreateTaskRequest>) => ({
  name: input.name,
  interpreter: input.interpreter,
  script: input.script,
  cron: input.cron.trim().replace(/\s+/g, " "),
  timeout_seconds: input.timeoutSeconds,
  severity: input.severity,
  run_missed: input.runMissed,
  enabled: input.enabled,
});

export async function createTask(
  db: Database,
  actor: Actor,
  policyId: string,
  input: z.output<typeof CreateTaskRequest>,
): Promise<TaskDto> {
  checkCron(input.cron);
  return db.transaction().execute(async (trx) => {
    const p = await policyFor(trx, actor, policyId);
    authorize(actor, p.client_id);
    const row = await trx
      .insertInto("monitoring_tasks")
      .values({ ...values(input), policy_id: policyId })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordChange(
      trx,
      actor,
      {
        action: "monitoring.task_create",
        entityType: "monitoring_task",
        entityId: row.id,
        clientId: p.client_id,
        after: { policyId, ...input },
      },
      { type: "monitoring.policy_changed", clientId: p.client_id, payload: { policyId } },
    );
    return toTaskDto(row);
  });
}

async function lockTask(trx: Transaction<DB>, actor: Actor, id: string) {
  const t = await trx
    .selectFrom("monitoring_tasks as t")
    .innerJoin("monitoring_policies as p", "p.id", "t.policy_id")
    .selectAll("t")
    .select("p.client_id")
    .where("t.id", "=", id)
    .forUpdate()
    .executeTakeFirst();
  if (!t || (t.client_id && !canSeeClient(actor, t.client_id))) throw notFound("Task");
  authorize(actor, t.client_id);
  return t;
}

export async function updateTask(
  db: Database,
  actor: Actor,
  id: string,
  input: z.output<typeof UpdateTaskRequest>,
): Promise<TaskDto> {
  checkCron(input.cron);
  return db.transaction().execute(async (trx) => {
    const t = await lockTask(trx, actor, id);
    if (t.version !== input.version) throw versionConflict("task", toTaskDto(t));
    const next = values(input);
    const row = await trx
      .updateTable("monitoring_tasks")
      .set({
        ...next,
        // A new schedule starts now: no due time of the old one is caught up under the new one.
        ...(next.cron !== t.cron || (next.enabled && !t.enabled) ? { schedule_from: new Date() } : {}),
        updated_at: new Date(),
        version: t.version + 1,
      })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
    if (!input.enabled) await resolveTaskAlerts(trx, id, "task disabled");
    await recordChange(
      trx,
      actor,
      {
        action: "monitoring.task_update",
        entityType: "monitoring_task",
        entityId: id,
        clientId: t.client_id,
        before: toTaskDto(t),
        after: input,
      },
      { type: "monitoring.policy_changed", clientId: t.client_id, payload: { policyId: t.policy_id } },
    );
    return toTaskDto(row);
  });
}

export async function deleteTask(db: Database, actor: Actor, id: string) {
  await db.transaction().execute(async (trx) => {
    const t = await lockTask(trx, actor, id);
    await resolveTaskAlerts(trx, id, "task removed");
    await trx.deleteFrom("monitoring_tasks").where("id", "=", id).execute();
    await recordChange(
      trx,
      actor,
      {
        action: "monitoring.task_delete",
        entityType: "monitoring_task",
        entityId: id,
        clientId: t.client_id,
        before: toTaskDto(t),
      },
      { type: "monitoring.policy_changed", clientId: t.client_id, payload: { policyId: t.policy_id } },
    );
  });
}

/** A task removed or switched off: its open alerts resolve with their tickets, nothing fires forever. */
export async function resolveTaskAlerts(trx: Transaction<DB>, taskId: string, why: string) {
  const { rows } = await sql<{ ticket_id: string | null; name: string }>`
    update monitoring_alerts set state = 'resolved', resolved_at = now(), resolution = ${why},
      updated_at = now(), version = version + 1
    where check_key = ${taskAlertKey(taskId)} and state <> 'resolved'
    returning ticket_id, name`.execute(trx);
  for (const r of rows)
    if (r.ticket_id)
      await resolveTicketUnlessShared(
        trx,
        r.ticket_id,
        `The task "${r.name}" is ${why.replace("task ", "")}; its alert is resolved.`,
      );
}

/** A device's task runs, newest first: what ran when, how it ended, its output. */
export async function listDeviceRuns(db: Database, actor: Actor, deviceId: string): Promise<TaskRunDto[]> {
  const device = await db
    .selectFrom("devices")
    .select("client_id")
    .where("id", "=", deviceId)
    .executeTakeFirst();
  if (!device || !canSeeClient(actor, device.client_id)) throw notFound("Device");
  const rows = await db
    .selectFrom("monitoring_task_runs as r")
    .innerJoin("monitoring_tasks as t", "t.id", "r.task_id")
    .leftJoin("device_commands as c", "c.id", "r.command_id")
    .select([
      "r.id",
      "r.task_id",
      "t.name",
      "r.due_at",
      "r.status",
      "r.judged",
      "r.exit_code",
      "r.output",
      "r.finished_at",
      "r.command_id",
      "c.status as command_status",
    ])
    .where("r.device_id", "=", deviceId)
    .orderBy("r.due_at", "desc")
    .limit(50)
    .execute();
  return rows.map((r) => ({
    id: r.id,
    taskId: r.task_id,
    taskName: r.name,
    dueAt: r.due_at.toISOString(),
    // Until its result is in, a run is where its command is (queued for the device, sent, running...).
    status: (r.judged ? r.status : r.command_status === "queued" ? "queued" : "sent") as TaskRunDto["status"],
    exitCode: r.exit_code,
    output: r.output,
    finishedAt: r.finished_at?.toISOString() ?? null,
    commandId: r.command_id,
  }));
}
