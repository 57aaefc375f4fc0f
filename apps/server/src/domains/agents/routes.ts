import { createReadStream, existsSync } from "node:fs";
import path from "node:path";
import {
  CommandDto,
  CommandHistoryQuery,
  CommandPage,
  CreateCommandRequest,
  CreatedEnrollmentTokenDto,
  CreateEnrollmentTokenRequest,
  DeviceDetailDto,
  DevicePage,
  DeviceQuery,
  EnrollmentTokenDto,
  EnrollmentTokenQuery,
  EnrollRequest,
  EnrollResponse,
  IdParams,
} from "@switchboard/shared";
import type { FastifyRequest } from "fastify";
import { z } from "zod";
import type { App, AppDeps } from "../../app.ts";
import { asSystem } from "../../db/scope.ts";
import { AgentHub } from "../../gateway/hub.ts";
import { actorOf } from "../../http/auth.ts";
import { AppError } from "../../http/errors.ts";
import { publicRoute, rolesOnly, signedIn, writers } from "../../http/policy.ts";
import { AGENT_DIST, AGENT_FILES, availableBuilds, platformInstalls } from "./builds.ts";
import { type CommandDeps, createCommand, getCommand, listCommands } from "./commands.ts";
import { getDevice, listDevices, retireDevice } from "./devices.ts";
import { toCommandDto, toDeviceDetailDto, toDeviceDto, toTokenDto } from "./dto.ts";
import {
  createEnrollmentToken,
  enrollDevice,
  installCommands,
  listEnrollmentTokens,
  revokeEnrollmentToken,
} from "./enrollment.ts";
import { loadOrCreateServerKey, type ServerKey } from "./signing-key.ts";

export interface AgentRuntime {
  hub: AgentHub;
  serverKey: () => Promise<ServerKey>;
}

declare module "fastify" {
  interface FastifyInstance {
    agents: AgentRuntime;
  }
}

const DownloadParams = z.object({
  target: z.enum(Object.keys(AGENT_FILES) as [keyof typeof AGENT_FILES, ...Array<keyof typeof AGENT_FILES>]),
});

const baseUrl = (deps: AppDeps, req: FastifyRequest) =>
  (deps.config.SWITCHBOARD_PUBLIC_URL ?? `${req.protocol}://${req.headers.host}`).replace(/\/$/, "");

/** Devices, enrollment and commands; also makes the routing hub the gateway role attaches to. */
export async function agentRoutes(app: App, deps: AppDeps) {
  const hub = await AgentHub.create(deps.config.NATS_URL, app.log);
  let key: Promise<ServerKey> | null = null;
  const serverKey = () => {
    key ??= loadOrCreateServerKey(deps.db, deps.config.AGENT_SIGNING_KEY_PASSPHRASE).catch((err) => {
      key = null;
      throw err;
    });
    return key;
  };
  app.decorate("agents", { hub, serverKey });
  app.addHook("onClose", () => hub.close());
  const cmd: CommandDeps = { db: deps.db, hub, serverKey };
  const tags = ["devices"];

  app.post(
    "/api/v1/agent/enroll",
    {
      config: publicRoute,
      schema: {
        tags,
        summary: "Enroll a machine with a token (called by the agent)",
        body: EnrollRequest,
        response: { 200: EnrollResponse },
      },
    },
    async (req) => {
      // The enrollment token is this route's credential: checked inside, in the system scope.
      const result = await asSystem(async () => enrollDevice(deps.db, await serverKey(), req.body, req.ip));
      return { ...result, heartbeatSeconds: deps.config.AGENT_HEARTBEAT_SECONDS };
    },
  );

  app.get(
    "/agent/download/:target",
    {
      config: publicRoute,
      schema: {
        tags,
        summary: "Download the agent executable (or its Windows service wrapper)",
        params: DownloadParams,
      },
    },
    async (req, reply) => {
      const name = AGENT_FILES[req.params.target];
      const file = path.join(AGENT_DIST, name);
      if (!existsSync(file)) {
        throw new AppError("not_found", 404, `This server has no ${name}: run \`npm run build:agent\` on it`);
      }
      return reply
        .type("application/octet-stream")
        .header("content-disposition", `attachment; filename="${name}"`)
        .send(createReadStream(file));
    },
  );

  app.post(
    "/api/v1/enrollment-tokens",
    {
      config: rolesOnly(["admin"]),
      schema: {
        tags,
        summary: "Create an enrollment token (shown once) with install commands",
        body: CreateEnrollmentTokenRequest,
        response: { 201: CreatedEnrollmentTokenDto },
      },
    },
    async (req, reply) => {
      const { row, token } = await createEnrollmentToken(deps.db, actorOf(req), req.body);
      const k = await serverKey();
      const have = availableBuilds();
      reply.code(201);
      return {
        ...toTokenDto(row),
        token,
        serverKeyFingerprint: k.fingerprint,
        installCommands: installCommands(baseUrl(deps, req), token, k.fingerprint, have),
        platforms: platformInstalls(baseUrl(deps, req), token, k.fingerprint, have),
      };
    },
  );

  app.get(
    "/api/v1/enrollment-tokens",
    {
      config: rolesOnly(["admin"]),
      schema: {
        tags,
        querystring: EnrollmentTokenQuery,
        response: { 200: z.object({ items: z.array(EnrollmentTokenDto) }) },
      },
    },
    async (req) => ({
      items: (await listEnrollmentTokens(deps.db, actorOf(req), req.query.clientId)).map(toTokenDto),
    }),
  );

  app.post(
    "/api/v1/enrollment-tokens/:id/revoke",
    {
      config: rolesOnly(["admin"]),
      schema: { tags, params: IdParams, response: { 200: EnrollmentTokenDto } },
    },
    async (req) => toTokenDto(await revokeEnrollmentToken(deps.db, actorOf(req), req.params.id)),
  );

  app.get(
    "/api/v1/devices",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "Devices by client and site",
        querystring: DeviceQuery,
        response: { 200: DevicePage },
      },
    },
    async (req) => {
      const page = await listDevices(deps.db, actorOf(req), req.query);
      return { items: page.items.map(toDeviceDto), nextCursor: page.nextCursor };
    },
  );

  app.get(
    "/api/v1/devices/:id",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "A device with its inventory",
        params: IdParams,
        response: { 200: DeviceDetailDto },
      },
    },
    async (req) => toDeviceDetailDto(await getDevice(deps.db, actorOf(req), req.params.id)),
  );

  app.post(
    "/api/v1/devices/:id/retire",
    {
      config: rolesOnly(["admin"]),
      schema: {
        tags,
        summary: "Retire a device: its key is revoked",
        params: IdParams,
        response: { 200: DeviceDetailDto },
      },
    },
    async (req) => toDeviceDetailDto(await retireDevice(deps.db, hub, actorOf(req), req.params.id)),
  );

  app.post(
    "/api/v1/devices/:id/commands",
    {
      config: writers,
      schema: {
        tags,
        summary: "Send a signed command to a device (queued until it expires when the device is offline)",
        params: IdParams,
        body: CreateCommandRequest,
        response: { 202: CommandDto },
      },
    },
    async (req, reply) => {
      const row = await createCommand(cmd, actorOf(req), req.params.id, req.body);
      reply.code(202);
      return toCommandDto(row);
    },
  );

  app.get(
    "/api/v1/devices/:id/commands",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "Command history with output",
        params: IdParams,
        querystring: CommandHistoryQuery,
        response: { 200: CommandPage },
      },
    },
    async (req) => {
      const page = await listCommands(deps.db, actorOf(req), req.params.id, req.query);
      return { items: page.items.map(toCommandDto), nextBefore: page.nextBefore };
    },
  );

  app.get(
    "/api/v1/device-commands/:id",
    { config: signedIn, schema: { tags, params: IdParams, response: { 200: CommandDto } } },
    async (req) => toCommandDto(await getCommand(deps.db, actorOf(req), req.params.id)),
  );
}
