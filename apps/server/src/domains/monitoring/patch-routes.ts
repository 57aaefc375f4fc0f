import {
  IdParams,
  InstallUpdatesRequest,
  PatchInstallRunDto,
  PatchInstallRunList,
  PatchSettingsDto,
  UpdatePatchSettingsRequest,
} from "@switchboard/shared";
import type { App, AppDeps } from "../../app.ts";
import { asSystem } from "../../db/scope.ts";
import { actorOf } from "../../http/auth.ts";
import { rolesOnly, signedIn, writers } from "../../http/policy.ts";
import { getPatchSettings, retryInstall, setPatchSettings, startInstall } from "./patch-install.ts";
import { autoInstallInWindows, getRun, listRuns, settleRuns } from "./patch-install-runs.ts";

/** Approving and installing updates on a device, their runs, and a client's auto-approval. */
export async function patchRoutes(app: App, deps: AppDeps) {
  const tags = ["monitoring"];
  const cmd = { db: deps.db, hub: app.agents.hub, serverKey: app.agents.serverKey };
  // Worker processes settle runs whose command ended without the gateway seeing it (expired offline), and
  // start auto-approved installs whose window opened.
  if (deps.boss && deps.config.SWITCHBOARD_ROLES.includes("worker")) {
    let running = false;
    const timer = setInterval(() => {
      if (running) return;
      running = true;
      asSystem(() => settleRuns(deps.db))
        .then(() => asSystem(() => autoInstallInWindows(cmd)))
        .catch((err) => app.log.error({ err }, "settling update installs failed"))
        .finally(() => {
          running = false;
        });
    }, deps.config.MONITORING_SWEEP_SECONDS * 1000);
    timer.unref();
    app.addHook("onClose", async () => clearInterval(timer));
  }

  app.get(
    "/api/v1/devices/:id/patch-installs",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "The device's update installs, newest first, with a result per update",
        params: IdParams,
        response: { 200: PatchInstallRunList },
      },
    },
    async (req) => ({ items: await listRuns(deps.db, actorOf(req), req.params.id) }),
  );
  app.post(
    "/api/v1/devices/:id/patch-installs",
    {
      config: writers,
      schema: {
        tags,
        summary:
          "Approve updates the device reported missing (named, every security update, or all) and install them now through the agent",
        params: IdParams,
        body: InstallUpdatesRequest,
        response: { 201: PatchInstallRunDto },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const runId = await startInstall(cmd, actor, req.params.id, req.body);
      reply.code(201);
      return getRun(deps.db, actor, runId);
    },
  );
  app.post(
    "/api/v1/patch-installs/:id/retry",
    {
      config: writers,
      schema: {
        tags,
        summary: "Install again the updates of a run that failed and are still missing",
        params: IdParams,
        response: { 201: PatchInstallRunDto },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const runId = await retryInstall(cmd, actor, req.params.id);
      reply.code(201);
      return getRun(deps.db, actor, runId);
    },
  );
  app.get(
    "/api/v1/clients/:id/patch-settings",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "The client's patch auto-approval",
        params: IdParams,
        response: { 200: PatchSettingsDto },
      },
    },
    async (req) => getPatchSettings(deps.db, actorOf(req), req.params.id),
  );
  app.put(
    "/api/v1/clients/:id/patch-settings",
    {
      config: rolesOnly(["admin", "dispatcher"]),
      schema: {
        tags,
        summary:
          "Approve security updates automatically when a scan reports them; install at once or in a window of each site's time zone",
        params: IdParams,
        body: UpdatePatchSettingsRequest,
        response: { 200: PatchSettingsDto },
      },
    },
    async (req) => setPatchSettings(deps.db, actorOf(req), req.params.id, req.body),
  );
}
