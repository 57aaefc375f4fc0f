import {
  AcknowledgeAlertRequest,
  AlertDto,
  AlertList,
  AlertListQuery,
  ClientHealthDto,
  CreateMaintenanceRequest,
  CreateMaintenanceSeriesRequest,
  CreatePolicyRequest,
  DeviceMonitoringDto,
  DevicePatchStatusDto,
  DeviceTagsDto,
  IdParams,
  MaintenanceDto,
  MaintenanceList,
  MaintenanceQuery,
  MaintenanceSeriesDto,
  MetricHistory,
  MetricHistoryQuery,
  PolicyDto,
  PolicyList,
  ResolveAlertRequest,
  RestartServiceRequest,
  SnoozeAlertRequest,
  UpdateDeviceTagsRequest,
  UpdatePolicyRequest,
} from "@switchboard/shared";
import { z } from "zod";
import type { App, AppDeps } from "../../app.ts";
import { actorOf } from "../../http/auth.ts";
import { rolesOnly, signedIn, writers } from "../../http/policy.ts";
import { MonitoringAgentSide } from "./agent-side.ts";
import {
  alertsOfTicket,
  changeAlert,
  getAlert,
  listAlerts,
  remediateFromAlert,
  restartFromAlert,
} from "./alerts.ts";
import {
  createMaintenance,
  deleteMaintenance,
  deviceMetrics,
  deviceMonitoring,
  listMaintenance,
} from "./device.ts";
import { knownTags, setDeviceTags } from "./device-tags.ts";
import {
  createMaintenanceSeries,
  deleteMaintenanceSeries,
  listMaintenanceSeries,
} from "./maintenance-series.ts";
import { clientHealth, devicePatchStatus } from "./patch.ts";
import { patchRoutes } from "./patch-routes.ts";
import {
  createPolicy,
  deletePolicy,
  devicesOf,
  listPolicies,
  type PolicyReach,
  updatePolicy,
} from "./policies.ts";
import { ruleRoutes } from "./rule-routes.ts";
import { taskRoutes } from "./task-routes.ts";

declare module "fastify" {
  interface FastifyInstance {
    monitoring: MonitoringAgentSide;
  }
}

/** Alerts, policies, maintenance windows and the device's Monitoring tab; the gateway's monitoring side. */
export async function monitoringRoutes(app: App, deps: AppDeps) {
  const side = new MonitoringAgentSide({
    db: deps.db,
    hub: app.agents.hub,
    serverKey: app.agents.serverKey,
    log: app.log,
    summarySeconds: deps.config.MONITORING_SUMMARY_SECONDS,
    reopenSeconds: deps.config.MONITORING_REOPEN_SECONDS,
    groupSeconds: deps.config.MONITORING_GROUP_SECONDS,
  });
  app.decorate("monitoring", side);
  const cmd = { db: deps.db, hub: app.agents.hub, serverKey: app.agents.serverKey };
  const tags = ["monitoring"];
  await taskRoutes(app, deps);
  await patchRoutes(app, deps);
  await ruleRoutes(app, deps);
  // Agents learn their new checks after the change commits; a slow push never holds the request.
  const push = (p: PolicyReach) =>
    void devicesOf(deps.db, p)
      .then((ids) => side.push(ids))
      .catch((err) => app.log.error({ err }, "could not push checks to agents"));

  app.get(
    "/api/v1/alerts",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "Alerts, open first by severity",
        querystring: AlertListQuery,
        response: { 200: AlertList },
      },
    },
    async (req) => ({ items: await listAlerts(deps.db, actorOf(req), req.query) }),
  );
  app.get(
    "/api/v1/alerts/:id",
    {
      config: signedIn,
      schema: { tags, summary: "One alert", params: IdParams, response: { 200: AlertDto } },
    },
    async (req) => getAlert(deps.db, actorOf(req), req.params.id),
  );
  app.post(
    "/api/v1/alerts/:id/acknowledge",
    {
      config: writers,
      schema: {
        tags,
        summary: "Acknowledge the alert",
        params: IdParams,
        body: AcknowledgeAlertRequest,
        response: { 200: AlertDto },
      },
    },
    async (req) =>
      changeAlert(deps.db, actorOf(req), req.params.id, req.body.version, { action: "acknowledge" }),
  );
  app.post(
    "/api/v1/alerts/:id/snooze",
    {
      config: writers,
      schema: {
        tags,
        summary: "Hold the alert's ticket back for a while",
        params: IdParams,
        body: SnoozeAlertRequest,
        response: { 200: AlertDto },
      },
    },
    async (req) =>
      changeAlert(deps.db, actorOf(req), req.params.id, req.body.version, {
        action: "snooze",
        minutes: req.body.minutes,
      }),
  );
  app.post(
    "/api/v1/alerts/:id/resolve",
    {
      config: writers,
      schema: {
        tags,
        summary: "Resolve the alert by hand",
        params: IdParams,
        body: ResolveAlertRequest,
        response: { 200: AlertDto },
      },
    },
    async (req) =>
      changeAlert(deps.db, actorOf(req), req.params.id, req.body.version, {
        action: "resolve",
        note: req.body.note,
      }),
  );
  app.post(
    "/api/v1/alerts/:id/restart-service",
    {
      config: writers,
      schema: {
        tags,
        summary:
          "Restart the alert's service through the agent (the result shows on the alert and its ticket)",
        params: IdParams,
        body: RestartServiceRequest,
        response: { 200: AlertDto },
      },
    },
    async (req) => restartFromAlert(cmd, actorOf(req), req.params.id, req.body.service),
  );
  app.post(
    "/api/v1/alerts/:id/remediate",
    {
      config: writers,
      schema: {
        tags,
        summary:
          "Try the check's remediation again (its service restart or script, signed; the result shows on the alert and its ticket)",
        params: IdParams,
        response: { 200: AlertDto },
      },
    },
    async (req) => remediateFromAlert(cmd, actorOf(req), req.params.id),
  );
  app.get(
    "/api/v1/tickets/:id/alerts",
    {
      config: signedIn,
      schema: { tags, summary: "The alerts behind a ticket", params: IdParams, response: { 200: AlertList } },
    },
    async (req) => ({ items: await alertsOfTicket(deps.db, actorOf(req), req.params.id) }),
  );
  app.get(
    "/api/v1/devices/:id/monitoring",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "The device's checks, their last state, and its alerts",
        params: IdParams,
        response: { 200: DeviceMonitoringDto },
      },
    },
    async (req) => deviceMonitoring(deps.db, actorOf(req), req.params.id),
  );

  app.put(
    "/api/v1/devices/:id/tags",
    {
      config: writers,
      schema: {
        tags,
        summary: "Set the device's tags (tag policies follow: its agent gets its new checks at once)",
        params: IdParams,
        body: UpdateDeviceTagsRequest,
        response: { 200: DeviceTagsDto },
      },
    },
    async (req) => {
      const out = await setDeviceTags(deps.db, actorOf(req), req.params.id, req.body);
      if (out.changed)
        void side
          .push([out.deviceId])
          .catch((err) => app.log.error({ err }, "could not push checks to agents"));
      return { deviceId: out.deviceId, tags: out.tags };
    },
  );
  app.get(
    "/api/v1/device-tags",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "Tags in use on the devices you see",
        response: { 200: z.object({ items: z.array(z.string()) }) },
      },
    },
    async (req) => ({ items: await knownTags(deps.db, actorOf(req)) }),
  );

  app.get(
    "/api/v1/devices/:id/metrics",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "Hourly averages of the device's check metrics",
        params: IdParams,
        querystring: MetricHistoryQuery,
        response: { 200: MetricHistory },
      },
    },
    async (req) => ({ items: await deviceMetrics(deps.db, actorOf(req), req.params.id, req.query.hours) }),
  );

  app.get(
    "/api/v1/devices/:id/patch-status",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "The device's missing updates, reboot pending and last install, as its agent reported them",
        params: IdParams,
        response: { 200: DevicePatchStatusDto },
      },
    },
    async (req) => devicePatchStatus(deps.db, actorOf(req), req.params.id),
  );
  app.get(
    "/api/v1/clients/:id/health",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "The client's open alerts by severity and the patch rollup of its devices",
        params: IdParams,
        response: { 200: ClientHealthDto },
      },
    },
    async (req) => clientHealth(deps.db, actorOf(req), req.params.id),
  );

  app.get(
    "/api/v1/monitoring/policies",
    { config: signedIn, schema: { tags, summary: "Monitoring policies", response: { 200: PolicyList } } },
    async (req) => ({ items: await listPolicies(deps.db, actorOf(req)) }),
  );
  app.post(
    "/api/v1/monitoring/policies",
    {
      config: rolesOnly(["admin", "dispatcher"]),
      schema: {
        tags,
        summary: "Create a policy: checks for the MSP, a client, a site or a device",
        body: CreatePolicyRequest,
        response: { 201: PolicyDto },
      },
    },
    async (req, reply) => {
      const p = await createPolicy(deps.db, actorOf(req), req.body);
      push({ client_id: p.clientId, site_id: p.siteId, device_id: p.deviceId, tag: p.tag });
      reply.code(201);
      return p;
    },
  );
  app.put(
    "/api/v1/monitoring/policies/:id",
    {
      config: rolesOnly(["admin", "dispatcher"]),
      schema: {
        tags,
        summary: "Change a policy and its checks",
        params: IdParams,
        body: UpdatePolicyRequest,
        response: { 200: PolicyDto },
      },
    },
    async (req) => {
      const p = await updatePolicy(deps.db, actorOf(req), req.params.id, req.body);
      push({ client_id: p.clientId, site_id: p.siteId, device_id: p.deviceId, tag: p.tag });
      return p;
    },
  );
  app.delete(
    "/api/v1/monitoring/policies/:id",
    {
      config: rolesOnly(["admin", "dispatcher"]),
      schema: { tags, summary: "Delete a policy", params: IdParams },
    },
    async (req, reply) => {
      const p = await deletePolicy(deps.db, actorOf(req), req.params.id);
      push(p);
      return reply.code(204).send();
    },
  );

  app.get(
    "/api/v1/monitoring/maintenance",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "Current and coming maintenance windows",
        querystring: MaintenanceQuery,
        response: { 200: MaintenanceList },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const [items, series] = await Promise.all([
        listMaintenance(deps.db, actor, req.query.clientId),
        listMaintenanceSeries(deps.db, actor, req.query.clientId),
      ]);
      return { items, series };
    },
  );
  app.post(
    "/api/v1/monitoring/maintenance-series",
    {
      config: writers,
      schema: {
        tags,
        summary: "A recurring maintenance window (cron start and duration, in the site's time zone)",
        body: CreateMaintenanceSeriesRequest,
        response: { 201: MaintenanceSeriesDto },
      },
    },
    async (req, reply) => {
      const m = await createMaintenanceSeries(deps.db, actorOf(req), req.body);
      reply.code(201);
      return m;
    },
  );
  app.delete(
    "/api/v1/monitoring/maintenance-series/:id",
    {
      config: writers,
      schema: {
        tags,
        summary: "End a recurring maintenance window, the one in force now too",
        params: IdParams,
      },
    },
    async (req, reply) => {
      await deleteMaintenanceSeries(deps.db, actorOf(req), req.params.id);
      return reply.code(204).send();
    },
  );
  app.post(
    "/api/v1/monitoring/maintenance",
    {
      config: writers,
      schema: {
        tags,
        summary: "Hold alerts' tickets back during a window",
        body: CreateMaintenanceRequest,
        response: { 201: MaintenanceDto },
      },
    },
    async (req, reply) => {
      const m = await createMaintenance(deps.db, actorOf(req), req.body);
      reply.code(201);
      return m;
    },
  );
  app.delete(
    "/api/v1/monitoring/maintenance/:id",
    { config: writers, schema: { tags, summary: "End a maintenance window", params: IdParams } },
    async (req, reply) => {
      await deleteMaintenance(deps.db, actorOf(req), req.params.id);
      return reply.code(204).send();
    },
  );
}
