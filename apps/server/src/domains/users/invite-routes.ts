import {
  AcceptInviteRequest,
  CreatedInviteDto,
  IdParams,
  InviteDto,
  InviteInfoDto,
  InviteTokenParams,
  InviteUserRequest,
} from "@switchboard/shared";
import type { FastifyRequest } from "fastify";
import { z } from "zod";
import type { App, AppDeps } from "../../app.ts";
import { actorOf } from "../../http/auth.ts";
import { publicRoute, rolesOnly } from "../../http/policy.ts";
import { setSessionCookie } from "../auth/routes.ts";
import { login, loginLimits } from "../auth/service.ts";
import {
  acceptInvite,
  describeInvite,
  inviteUser,
  listOpenInvites,
  resendInvite,
  toInviteDto,
} from "./invites.ts";

const tags = ["users"];
const userManagers = rolesOnly(["admin"], { allClients: true });

/** Where the set-password link points: the configured public URL, else the address the admin used. */
const baseUrlOf = (deps: AppDeps, req: FastifyRequest) =>
  deps.config.SWITCHBOARD_PUBLIC_URL ?? `${req.protocol}://${req.host}`;

const toCreated = (r: Awaited<ReturnType<typeof inviteUser>>) => ({
  user: { id: r.user.id, email: r.user.email, name: r.user.name, role: r.user.role },
  invite: toInviteDto(r.invite),
  inviteUrl: r.inviteUrl,
});

export async function inviteRoutes(app: App, deps: AppDeps) {
  app.post(
    "/api/v1/users/invite",
    {
      config: userManagers,
      schema: {
        tags,
        summary: "Invite a user: creates them without a password and emails a one-time set-password link",
        description:
          "The link is also in the answer (once) to pass on by hand; `invite.lastError` says why the mail did not go out.",
        body: InviteUserRequest,
        response: { 201: CreatedInviteDto },
      },
    },
    async (req, reply) =>
      reply
        .code(201)
        .send(
          toCreated(await inviteUser(deps.db, deps.config, actorOf(req), req.body, baseUrlOf(deps, req))),
        ),
  );

  app.post(
    "/api/v1/users/:id/invite",
    {
      config: userManagers,
      schema: {
        tags,
        summary: "Send a new set-password link to a user who has no password yet (older links stop working)",
        params: IdParams,
        response: { 201: CreatedInviteDto },
      },
    },
    async (req, reply) =>
      reply
        .code(201)
        .send(
          toCreated(
            await resendInvite(deps.db, deps.config, actorOf(req), req.params.id, baseUrlOf(deps, req)),
          ),
        ),
  );

  app.get(
    "/api/v1/users/invites",
    {
      config: userManagers,
      schema: {
        tags,
        summary: "The latest invitation of every user who has not set a password yet",
        response: { 200: z.object({ items: z.array(InviteDto) }) },
      },
    },
    async (req) => ({ items: await listOpenInvites(deps.db, actorOf(req)) }),
  );

  app.get(
    "/api/v1/invites/:token",
    {
      config: publicRoute,
      schema: {
        tags,
        summary: "Whose invitation a link is (public: the link is the credential)",
        params: InviteTokenParams,
        response: { 200: InviteInfoDto },
      },
    },
    async (req) => describeInvite(deps.db, req.params.token),
  );

  app.post(
    "/api/v1/invites/accept",
    {
      config: publicRoute,
      schema: {
        tags,
        summary: "Set the password through an invitation link, and sign in",
        body: AcceptInviteRequest,
        response: { 200: z.object({ userId: z.uuid(), expiresAt: z.string() }) },
      },
    },
    async (req, reply) => {
      const { email } = await acceptInvite(deps.db, { ...req.body, ip: req.ip });
      const s = await login(
        deps.db,
        {
          email,
          password: req.body.password,
          ip: req.ip,
          userAgent: req.headers["user-agent"],
          ttlHours: deps.config.SESSION_TTL_HOURS,
        },
        loginLimits(deps.config),
      );
      setSessionCookie(reply, deps, s.token, s.expiresAt);
      return { userId: s.userId, expiresAt: s.expiresAt.toISOString() };
    },
  );
}
