import {
  CreateTaskRequest,
  IdParams,
  TaskDto,
  TaskList,
  TaskRunList,
  UpdateTaskRequest,
} from "@switchboard/shared";
import type { App, AppDeps } from "../../app.ts";
import { actorOf } from "../../http/auth.ts";
import { rolesOnly, signedIn } from "../../http/policy.ts";
import { startTaskScheduler } from "./task-scheduler.ts";
import { createTask, deleteTask, listDeviceRuns, listTasks, updateTask } from "./tasks.ts";

/** Scheduled tasks of a policy and a device's runs; the task timer in worker processes. */
export async function taskRoutes(app: App, deps: AppDeps) {
  const tags = ["monitoring"];
  // Worker processes (the server, not a test app) run the timer; the app's hub reaches any gateway.
  if (deps.boss && deps.config.SWITCHBOARD_ROLES.includes("worker")) {
    const stop = startTaskScheduler(
      { db: deps.db, hub: app.agents.hub, serverKey: app.agents.serverKey },
      {
        everySeconds: deps.config.MONITORING_SWEEP_SECONDS,
        reopenSeconds: deps.config.MONITORING_REOPEN_SECONDS,
        groupSeconds: deps.config.MONITORING_GROUP_SECONDS,
      },
      app.log,
    );
    app.addHook("onClose", async () => stop());
  }

  app.get(
    "/api/v1/monitoring/policies/:id/tasks",
    {
      config: signedIn,
      schema: { tags, summary: "A policy's scheduled tasks", params: IdParams, response: { 200: TaskList } },
    },
    async (req) => ({ items: await listTasks(deps.db, actorOf(req), req.params.id) }),
  );
  app.post(
    "/api/v1/monitoring/policies/:id/tasks",
    {
      config: rolesOnly(["admin", "dispatcher"]),
      schema: {
        tags,
        summary: "Schedule a script on the policy's devices (cron, in each site's time zone)",
        params: IdParams,
        body: CreateTaskRequest,
        response: { 201: TaskDto },
      },
    },
    async (req, reply) => {
      const t = await createTask(deps.db, actorOf(req), req.params.id, req.body);
      reply.code(201);
      return t;
    },
  );
  app.put(
    "/api/v1/monitoring/tasks/:id",
    {
      config: rolesOnly(["admin", "dispatcher"]),
      schema: {
        tags,
        summary: "Change a scheduled task",
        params: IdParams,
        body: UpdateTaskRequest,
        response: { 200: TaskDto },
      },
    },
    async (req) => updateTask(deps.db, actorOf(req), req.params.id, req.body),
  );
  app.delete(
    "/api/v1/monitoring/tasks/:id",
    {
      config: rolesOnly(["admin", "dispatcher"]),
      schema: { tags, summary: "Delete a scheduled task (its open alerts resolve)", params: IdParams },
    },
    async (req, reply) => {
      await deleteTask(deps.db, actorOf(req), req.params.id);
      return reply.code(204).send();
    },
  );
  app.get(
    "/api/v1/devices/:id/task-runs",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "A device's scheduled task runs, newest first, with their output",
        params: IdParams,
        response: { 200: TaskRunList },
      },
    },
    async (req) => ({ items: await listDeviceRuns(deps.db, actorOf(req), req.params.id) }),
  );
}
