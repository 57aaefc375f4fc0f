import {
  CreateShellRequest,
  FileDownloadRequest,
  FileUploadQuery,
  IdParams,
  RemotePolicyDto,
  RemoteSessionDto,
  RemoteSessionPage,
  UpdateRemotePolicyRequest,
} from "@switchboard/shared";
import { WebSocketServer } from "ws";
import type { App, AppDeps } from "../../app.ts";
import { asSystem } from "../../db/scope.ts";
import { RemoteBus } from "../../gateway/remote-bus.ts";
import { AgentRemoteRelay } from "../../gateway/remote-relay.ts";
import { actorOf } from "../../http/auth.ts";
import { AppError, invalid, notFound } from "../../http/errors.ts";
import { rolesOnly, signedIn, writers } from "../../http/policy.ts";
import { webSocketUpgrade } from "../../http/websocket.ts";
import { systemActor } from "../auth/actor.ts";
import type { RemoteRuntime } from "./channel.ts";
import { toRemoteSessionDto } from "./dto.ts";
import { getPolicy, updatePolicy } from "./policy.ts";
import { getSession, listSessions, sweepAbandoned, touchSessions } from "./records.ts";
import { attachShell, liveShells, requestShell, ShellConsole } from "./shell.ts";
import { supportHousekeeping } from "./support/housekeeping.ts";
import { supportRoutes } from "./support/routes.ts";
import { downloadFromDevice, uploadToDevice } from "./transfers.ts";

declare module "fastify" {
  interface FastifyInstance {
    remote: RemoteRuntime;
  }
}

/** How often live sessions are marked alive, and after how long without it a row is swept. */
const HEARTBEAT_MS = 30_000;
const ABANDONED_AFTER_SECONDS = 150;

/** Remote shells and file transfers on devices, and the per-client policy over them. */
export async function remoteRoutes(app: App, deps: AppDeps) {
  const hub = app.agents.hub;
  const bus = new RemoteBus(hub.nats);
  const rt: RemoteRuntime = {
    db: deps.db,
    blobs: deps.blobs,
    config: deps.config,
    log: app.log,
    hub,
    bus,
    serverKey: app.agents.serverKey,
    agentSide: new AgentRemoteRelay(bus, app.log),
  };
  app.decorate("remote", rt);
  const timer = setInterval(() => {
    void asSystem(async () => {
      await touchSessions(
        deps.db,
        [...liveShells].map((s) => s.sessionId),
      );
      await sweepAbandoned(deps.db, systemActor("remote"), ABANDONED_AFTER_SECONDS);
      // Support sessions end after their limit; their support agents outlive nothing.
      await supportHousekeeping({ db: deps.db, hub, bus, config: deps.config });
    }).catch((err) => app.log.error({ err }, "remote session housekeeping failed"));
  }, HEARTBEAT_MS);
  timer.unref();
  app.addHook("onClose", () => clearInterval(timer));
  const shellSockets = new WebSocketServer({
    noServer: true,
    maxPayload: 64 * 1024,
    perMessageDeflate: false,
    clientTracking: false,
  });
  const tags = ["remote access"];
  await supportRoutes(app, deps, rt);

  app.get(
    "/api/v1/clients/:id/remote-policy",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "The client's remote access policy",
        params: IdParams,
        response: { 200: RemotePolicyDto },
      },
    },
    async (req) => getPolicy(deps.db, actorOf(req), req.params.id),
  );

  app.put(
    "/api/v1/clients/:id/remote-policy",
    {
      config: rolesOnly(["admin"]),
      schema: {
        tags,
        summary:
          "Set who may open shells and move files on the client's devices, and whether consent is needed",
        params: IdParams,
        body: UpdateRemotePolicyRequest,
        response: { 200: RemotePolicyDto },
      },
    },
    async (req) => updatePolicy(deps.db, actorOf(req), req.params.id, req.body),
  );

  app.post(
    "/api/v1/devices/:id/shells",
    {
      config: writers,
      schema: {
        tags,
        summary: "Ask for a shell on the device; connect to its socket within two minutes",
        params: IdParams,
        body: CreateShellRequest,
        response: { 201: RemoteSessionDto },
      },
    },
    async (req, reply) => {
      const row = await requestShell(rt, actorOf(req), req.params.id, req.body);
      reply.code(201);
      return toRemoteSessionDto(row);
    },
  );

  app.get(
    "/api/v1/remote/shells/:id/socket",
    {
      config: writers,
      schema: {
        tags,
        summary: "The shell's WebSocket (frames: ShellClientFrame / ShellServerFrame)",
        params: IdParams,
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const upgrade = webSocketUpgrade(req);
      const { row, hostname, idleTimeoutSeconds } = await attachShell(rt, actor, req.params.id);
      const ws = await upgrade.accept(reply, shellSockets);
      const shell = new ShellConsole(rt, actor, ws, {
        id: row.id,
        deviceId: row.device_id,
        cols: row.cols ?? 80,
        rows: row.rows ?? 24,
        hostname,
        idleTimeoutSeconds,
        supportSessionId: row.support_session_id,
      });
      await asSystem(() => shell.start());
    },
  );

  app.post(
    "/api/v1/devices/:id/files",
    {
      config: writers,
      schema: {
        tags,
        summary: "Upload a file to the device (multipart/form-data, one file); answers when it is in place",
        params: IdParams,
        querystring: FileUploadQuery,
        consumes: ["multipart/form-data"],
        response: { 200: RemoteSessionDto },
      },
    },
    async (req) => {
      if (!req.isMultipart()) throw new AppError("unsupported_media_type", 415, "Send multipart/form-data");
      const part = await req.file({ limits: { fileSize: deps.config.REMOTE_FILE_MAX_BYTES, files: 1 } });
      if (!part) throw invalid("body.file", "no file in the upload");
      const row = await uploadToDevice(rt, actorOf(req), req.params.id, req.query, {
        filename: part.filename,
        stream: part.file,
      });
      return toRemoteSessionDto(row);
    },
  );

  app.post(
    "/api/v1/devices/:id/file-downloads",
    {
      config: writers,
      schema: {
        tags,
        summary:
          "Fetch a file from the device into Switchboard (kept on the ticket); answers when it has arrived",
        params: IdParams,
        body: FileDownloadRequest,
        response: { 200: RemoteSessionDto },
      },
    },
    async (req) => toRemoteSessionDto(await downloadFromDevice(rt, actorOf(req), req.params.id, req.body)),
  );

  app.get(
    "/api/v1/devices/:id/remote-sessions",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "The device's shells and transfers, newest first",
        params: IdParams,
        response: { 200: RemoteSessionPage },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      const d = await deps.db
        .selectFrom("devices")
        .select("client_id")
        .where("id", "=", req.params.id)
        .executeTakeFirst();
      if (!d || (actor.clientIds && !actor.clientIds.includes(d.client_id))) throw notFound("Device");
      return {
        items: (await listSessions(deps.db, actor, { deviceId: req.params.id })).map(toRemoteSessionDto),
      };
    },
  );

  app.get(
    "/api/v1/remote/sessions/:id",
    { config: signedIn, schema: { tags, params: IdParams, response: { 200: RemoteSessionDto } } },
    async (req) => toRemoteSessionDto(await getSession(deps.db, actorOf(req), req.params.id)),
  );

  app.get(
    "/api/v1/remote/sessions/:id/file",
    {
      config: signedIn,
      schema: { tags, summary: "The shell's recording (asciicast v2) or the file moved", params: IdParams },
    },
    async (req, reply) => {
      const row = await getSession(deps.db, actorOf(req), req.params.id);
      if (!row.blob_key) throw notFound("File");
      const name = row.blob_name ?? "file";
      return reply
        .header("content-type", row.kind === "shell" ? "application/x-asciicast" : "application/octet-stream")
        .header("content-length", String(row.blob_size ?? 0))
        .header("x-content-type-options", "nosniff")
        .header("content-security-policy", "default-src 'none'; sandbox")
        .header("content-disposition", `attachment; filename*=UTF-8''${encodeURIComponent(name)}`)
        .send(await deps.blobs.get(row.blob_key));
    },
  );
}
