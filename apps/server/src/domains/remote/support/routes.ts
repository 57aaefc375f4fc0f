import {
  CallerConsentRequest,
  CallerSessionDto,
  IdParams,
  JoinRequest,
  JoinResponse,
  MintedSupportSessionDto,
  SupportEventDto,
  SupportJoinActivityDto,
  SupportSessionDto,
} from "@switchboard/shared";
import type { FastifyReply, FastifyRequest } from "fastify";
import { WebSocketServer } from "ws";
import { z } from "zod";
import type { App, AppDeps } from "../../../app.ts";
import { asSystem } from "../../../db/scope.ts";
import { actorOf } from "../../../http/auth.ts";
import { AppError, invalid, notFound } from "../../../http/errors.ts";
import { publicRoute, rolesOnly, signedIn, writers } from "../../../http/policy.ts";
import { webSocketUpgrade } from "../../../http/websocket.ts";
import { type Actor, systemActor } from "../../auth/actor.ts";
import type { RemoteRuntime } from "../channel.ts";
import { spoolUpload } from "../spool.ts";
import { supportAgentRoutes } from "./agent-routes.ts";
import { joinActivity, tryCode } from "./codes.ts";
import {
  addEvent,
  addFile,
  callerConsent,
  callerView,
  endByTechnician,
  endSession,
  getForStaff,
  listForTicket,
  mintSession,
  ownLiveSession,
  type Side,
  sessionFile,
  sessionForToken,
} from "./service.ts";
import { announceEnded, broadcast, SupportSocket, stopSupportAgents } from "./socket.ts";

const TOKEN_HEADER = "x-support-token";
const tokenOf = (req: FastifyRequest) => {
  const v = req.headers[TOKEN_HEADER];
  return typeof v === "string" ? v : undefined;
};

/**
 * Attended support sessions. The staff routes declare their roles; the caller's routes are public and
 * check their own credential: the 6-digit code (POST /api/v1/join, limited per address and globally) and
 * then the session token it returns, sent as `x-support-token` (first frame on the socket).
 */
export async function supportRoutes(app: App, deps: AppDeps, rt: RemoteRuntime) {
  const { db } = deps;
  const tags = ["support sessions"];
  const sockets = new WebSocketServer({
    noServer: true,
    maxPayload: 64 * 1024,
    perMessageDeflate: false,
    clientTracking: false,
  });
  const socketDeps = { db, bus: rt.bus, hub: rt.hub, log: app.log };
  const mspName = async () =>
    (await db.selectFrom("msp").select("name").executeTakeFirst())?.name ?? deps.config.SWITCHBOARD_MSP_NAME;
  const ice = deps.config.REMOTE_ICE_SERVERS;
  const limits = {
    windowMinutes: deps.config.SUPPORT_CODE_TTL_MINUTES,
    perAddress: deps.config.SUPPORT_JOIN_FAILURES_PER_ADDRESS,
  };

  // ---- the technician --------------------------------------------------------------------------

  app.post(
    "/api/v1/tickets/:id/support-sessions",
    {
      config: writers,
      schema: {
        tags,
        summary: "Start an attended support session: a 6-digit code for the caller (shown once)",
        params: IdParams,
        response: { 201: MintedSupportSessionDto },
      },
    },
    async (req, reply) => {
      reply.code(201);
      return { ...(await mintSession(db, deps.config, actorOf(req), req.params.id)), iceServers: ice };
    },
  );

  app.get(
    "/api/v1/tickets/:id/support-sessions",
    {
      config: signedIn,
      schema: { tags, params: IdParams, response: { 200: z.object({ items: z.array(SupportSessionDto) }) } },
    },
    async (req) => ({
      items: (await listForTicket(db, actorOf(req), req.params.id)).map((s) => ({ ...s, iceServers: ice })),
    }),
  );

  app.get(
    "/api/v1/support-sessions/:id",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "A support session with its record",
        params: IdParams,
        response: { 200: SupportSessionDto },
      },
    },
    async (req) => ({ ...(await getForStaff(db, actorOf(req), req.params.id)), iceServers: ice }),
  );

  app.post(
    "/api/v1/support-sessions/:id/end",
    { config: writers, schema: { tags, params: IdParams, response: { 200: SupportSessionDto } } },
    async (req) => {
      const actor = actorOf(req);
      await endByTechnician(db, actor, req.params.id);
      await announceEnded(socketDeps, req.params.id, "technician", "ended by the technician");
      return { ...(await getForStaff(db, actor, req.params.id)), iceServers: ice };
    },
  );

  app.post(
    "/api/v1/support-sessions/:id/files",
    {
      config: writers,
      schema: {
        tags,
        summary: "Send the caller a file (multipart/form-data); it is kept on the ticket",
        params: IdParams,
        consumes: ["multipart/form-data"],
        response: { 201: SupportEventDto },
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const s = await ownLiveSession(db, actor, req.params.id);
      const ev = await receiveFile(req, s, "technician", actor);
      reply.code(201);
      return ev;
    },
  );

  app.get(
    "/api/v1/support-sessions/:id/socket",
    {
      config: writers,
      schema: {
        tags,
        summary: "The technician's socket (SupportClientFrame / SupportServerFrame)",
        params: IdParams,
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const upgrade = webSocketUpgrade(req);
      const s = await ownLiveSession(db, actor, req.params.id);
      if (!["waiting", "joined", "active"].includes(s.status)) {
        throw new AppError("invalid_transition", 409, "The session has ended");
      }
      const ws = await upgrade.accept(reply, sockets);
      new SupportSocket(socketDeps, ws, "technician", actor).attach(s.id, s.status);
    },
  );

  await supportAgentRoutes(app, deps, rt, {
    caller: (req) => asSystem(() => sessionForToken(db, tokenOf(req))),
    mspName,
  });

  app.get(
    "/api/v1/support/join-activity",
    {
      config: rolesOnly(["admin"], { allClients: true }),
      schema: {
        tags,
        summary: "Codes entered on /join in the current window: failures, the guessing budget, top addresses",
        response: { 200: SupportJoinActivityDto },
      },
    },
    async () => joinActivity(db, limits.windowMinutes),
  );

  // ---- the caller (public: the code, then the session token) -----------------------------------

  app.post(
    "/api/v1/join",
    {
      config: publicRoute,
      schema: { tags, summary: "Enter the 6-digit code", body: JoinRequest, response: { 200: JoinResponse } },
    },
    async (req) =>
      asSystem(async () => {
        const verdict = await tryCode(db, req.body.code, req.ip, limits);
        if (verdict.kind === "throttled") {
          throw new AppError(
            "rate_limited",
            429,
            "Too many codes were tried. Wait a few minutes, then try again.",
            {
              retryAfterSeconds: verdict.retryAfterSeconds,
            },
          );
        }
        // Wrong, expired, used or cancelled: one answer for all, so a guess learns nothing.
        if (verdict.kind === "invalid") {
          throw new AppError(
            "not_found",
            404,
            "That code is not valid. Check the six digits with your technician.",
          );
        }
        const s = await sessionForToken(db, verdict.token);
        await addEvent(db, s, {
          kind: "joined",
          actor: "caller",
          body: `The caller entered the code from ${req.ip}`,
        });
        broadcast(rt.bus, s.id, { t: "status", status: "joined" });
        return { token: verdict.token, session: await callerView(db, deps.config, await mspName(), s) };
      }),
  );

  const caller = (req: FastifyRequest) => asSystem(() => sessionForToken(db, tokenOf(req)));

  app.get(
    "/api/v1/join/session",
    {
      config: publicRoute,
      schema: {
        tags,
        summary: "The caller's session (x-support-token)",
        response: { 200: CallerSessionDto },
      },
    },
    async (req) => asSystem(async () => callerView(db, deps.config, await mspName(), await caller(req))),
  );

  app.post(
    "/api/v1/join/consent",
    {
      config: publicRoute,
      schema: {
        tags,
        summary: "The caller allows or declines",
        body: CallerConsentRequest,
        response: { 200: SupportEventDto },
      },
    },
    async (req) =>
      asSystem(async () => {
        const s = await caller(req);
        const ev = await callerConsent(db, s, req.body);
        broadcast(rt.bus, s.id, { t: "event", event: ev });
        const now = await db
          .selectFrom("support_sessions")
          .select("status")
          .where("id", "=", s.id)
          .executeTakeFirstOrThrow();
        if (now.status === "ended") await announceEnded(socketDeps, s.id, "caller", "the caller declined");
        else {
          broadcast(rt.bus, s.id, { t: "status", status: now.status });
          // Control taken back: the agent already running is told to stop (its device was retired).
          if (req.body.scope === "control" && !req.body.granted) await stopSupportAgents(socketDeps, s.id);
        }
        return ev;
      }),
  );

  app.post(
    "/api/v1/join/end",
    { config: publicRoute, schema: { tags, summary: "The caller ends the session" } },
    async (req, reply) =>
      asSystem(async () => {
        const s = await caller(req);
        if (await endSession(db, s, "caller", "ended by the caller")) {
          await announceEnded(socketDeps, s.id, "caller", "ended by the caller");
        }
        return reply.code(204).send();
      }),
  );

  app.post(
    "/api/v1/join/files",
    {
      config: publicRoute,
      schema: {
        tags,
        summary: "The caller sends a file (multipart/form-data)",
        consumes: ["multipart/form-data"],
        response: { 201: SupportEventDto },
      },
    },
    async (req, reply) =>
      asSystem(async () => {
        const s = await caller(req);
        const ev = await receiveFile(req, s, "caller", systemActor("support caller"));
        reply.code(201);
        return ev;
      }),
  );

  app.get(
    "/api/v1/join/files/:id",
    { config: publicRoute, schema: { tags, summary: "A file of the caller's session", params: IdParams } },
    async (req, reply) =>
      asSystem(async () => {
        const s = await caller(req);
        const a = await sessionFile(db, s, req.params.id);
        return sendFile(reply, a);
      }),
  );

  app.get(
    "/api/v1/join/socket",
    {
      config: publicRoute,
      schema: { tags, summary: "The caller's socket; the first frame is {t:'auth', token}" },
    },
    async (req, reply) => {
      const ws = await webSocketUpgrade(req).accept(reply, sockets);
      new SupportSocket(socketDeps, ws, "caller", null).awaitCallerAuth();
    },
  );

  async function receiveFile(
    req: FastifyRequest,
    s: Awaited<ReturnType<typeof ownLiveSession>>,
    side: Side,
    actor: Actor,
  ) {
    if (!req.isMultipart()) throw new AppError("unsupported_media_type", 415, "Send multipart/form-data");
    const part = await req.file({ limits: { fileSize: deps.config.ATTACHMENT_LIMIT_BYTES, files: 1 } });
    if (!part) throw invalid("body.file", "no file in the upload");
    const spooled = await spoolUpload(deps.blobs, part.file, deps.config.ATTACHMENT_LIMIT_BYTES);
    const ev = await addFile(db, deps.blobs, s, side, actor, {
      filename: part.filename || "file",
      spool: spooled.file,
      sha256: spooled.sha256,
    });
    broadcast(rt.bus, s.id, { t: "event", event: ev });
    return ev;
  }

  async function sendFile(
    reply: FastifyReply,
    a: { filename: string; size_bytes: number; storage_key: string },
  ) {
    if (!a) throw notFound("File");
    return reply
      .header("content-type", "application/octet-stream")
      .header("content-length", String(a.size_bytes))
      .header("x-content-type-options", "nosniff")
      .header("content-security-policy", "default-src 'none'; sandbox")
      .header("content-disposition", `attachment; filename*=UTF-8''${encodeURIComponent(a.filename)}`)
      .send(await deps.blobs.get(a.storage_key));
  }
}
