import {
  IdParams,
  SupportAgentOfferDto,
  SupportEnrollRequest,
  SupportEnrollResponse,
  SupportEventDto,
} from "@switchboard/shared";
import type { FastifyRequest } from "fastify";
import type { App, AppDeps } from "../../../app.ts";
import { asSystem } from "../../../db/scope.ts";
import { actorOf } from "../../../http/auth.ts";
import { publicRoute, writers } from "../../../http/policy.ts";
import { availableBuilds } from "../../agents/builds.ts";
import type { RemoteRuntime } from "../channel.ts";
import { enrollSupportAgent, offerSupportAgent } from "./agent.ts";
import { supportDownloads } from "./downloads.ts";
import { requestConsent, type sessionForToken } from "./service.ts";
import { broadcast } from "./socket.ts";

type SessionRow = Awaited<ReturnType<typeof sessionForToken>>;

/**
 * Control and shell on request: the technician asks, the caller allows it separately and gets a one-time
 * code for the support agent (the same executable every agent is), which enrolls with it as a temporary
 * device of the ticket's client for this session only.
 */
export async function supportAgentRoutes(
  app: App,
  deps: AppDeps,
  rt: RemoteRuntime,
  ctx: { caller: (req: FastifyRequest) => Promise<SessionRow>; mspName: () => Promise<string> },
) {
  const { db } = deps;
  const tags = ["support sessions"];
  const baseUrl = (req: FastifyRequest) =>
    (deps.config.SWITCHBOARD_PUBLIC_URL ?? `${req.protocol}://${req.headers.host}`).replace(/\/$/, "");

  app.post(
    "/api/v1/support-sessions/:id/control-request",
    {
      config: writers,
      schema: {
        tags,
        summary: "Ask the caller to run the one-time support agent (a shell and files on their computer)",
        params: IdParams,
        response: { 201: SupportEventDto },
      },
    },
    async (req, reply) => {
      const ev = await requestConsent(db, actorOf(req), req.params.id, { scope: "control" });
      broadcast(rt.bus, req.params.id, { t: "event", event: ev });
      reply.code(201);
      return ev;
    },
  );

  app.post(
    "/api/v1/join/support-agent",
    {
      config: publicRoute,
      schema: {
        tags,
        summary:
          "The caller, after allowing control: a one-time code for the support agent and how to run it (x-support-token)",
        response: { 201: SupportAgentOfferDto },
      },
    },
    async (req, reply) =>
      asSystem(async () => {
        const s = await ctx.caller(req);
        const offer = await offerSupportAgent(db, deps.config, s);
        const key = await rt.serverKey();
        const url = baseUrl(req);
        reply.code(201);
        return {
          code: offer.code,
          expiresAt: offer.expiresAt.toISOString(),
          serverUrl: url,
          serverKeyFingerprint: key.fingerprint,
          downloads: supportDownloads(url, offer.code, key.fingerprint, availableBuilds()),
        };
      }),
  );

  app.post(
    "/api/v1/agent/support-enroll",
    {
      config: publicRoute,
      schema: {
        tags,
        summary: "The support agent enrolls with the caller's one-time code (called by the agent)",
        body: SupportEnrollRequest,
        response: { 200: SupportEnrollResponse },
      },
    },
    async (req) => {
      // The code is this route's credential: checked inside, in the system scope.
      const { response, event } = await asSystem(async () =>
        enrollSupportAgent(db, await rt.serverKey(), await ctx.mspName(), req.body, req.ip),
      );
      broadcast(rt.bus, response.supportSessionId, { t: "event", event });
      return { ...response, heartbeatSeconds: deps.config.AGENT_HEARTBEAT_SECONDS };
    },
  );
}
