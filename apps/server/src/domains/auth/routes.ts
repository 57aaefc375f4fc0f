import {
  ApiTokenDto,
  CreateApiTokenRequest,
  CreatedApiTokenDto,
  IdParams,
  LoginRequest,
  MeDto,
} from "@switchboard/shared";
import type { FastifyReply } from "fastify";
import type { Selectable } from "kysely";
import { z } from "zod";
import type { App, AppDeps } from "../../app.ts";
import type { ApiTokensTable } from "../../db/schema.ts";
import { actorOf, SESSION_COOKIE } from "../../http/auth.ts";
import { notFound } from "../../http/errors.ts";
import { publicRoute, signedIn } from "../../http/policy.ts";
import { createApiToken, listApiTokens, login, loginLimits, logout, revokeApiToken } from "./service.ts";

export function setSessionCookie(reply: FastifyReply, deps: AppDeps, token: string, expires: Date) {
  const secure =
    deps.config.SECURE_COOKIES ?? deps.config.SWITCHBOARD_PUBLIC_URL?.startsWith("https:") ?? false;
  reply.setCookie(SESSION_COOKIE, token, {
    httpOnly: true,
    sameSite: "strict",
    secure,
    path: "/",
    expires,
  });
}

const toTokenDto = (t: Selectable<ApiTokensTable>) => ({
  id: t.id,
  name: t.name,
  prefix: t.prefix,
  createdAt: t.created_at.toISOString(),
  expiresAt: t.expires_at?.toISOString() ?? null,
  lastUsedAt: t.last_used_at?.toISOString() ?? null,
  revokedAt: t.revoked_at?.toISOString() ?? null,
});

export async function authRoutes(app: App, deps: AppDeps) {
  app.post(
    "/api/v1/auth/login",
    {
      config: publicRoute,
      schema: {
        tags: ["auth"],
        summary: "Sign in; sets an httpOnly SameSite=Strict session cookie",
        body: LoginRequest,
        response: { 200: z.object({ userId: z.uuid(), expiresAt: z.string() }) },
      },
    },
    async (req, reply) => {
      const s = await login(
        deps.db,
        {
          ...req.body,
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

  app.post(
    "/api/v1/auth/logout",
    { config: publicRoute, schema: { tags: ["auth"], summary: "Sign out (ends the session)" } },
    async (req, reply) => {
      const cookie = req.cookies[SESSION_COOKIE];
      if (cookie) await logout(deps.db, cookie);
      reply.clearCookie(SESSION_COOKIE, { path: "/" });
      return reply.code(204).send();
    },
  );

  app.get(
    "/api/v1/auth/me",
    { config: signedIn, schema: { tags: ["auth"], response: { 200: MeDto } } },
    async (req) => {
      const actor = actorOf(req);
      if (!actor.userId) throw notFound("User");
      const user = await deps.db
        .selectFrom("users")
        .select(["email", "timezone", "all_clients"])
        .where("id", "=", actor.userId)
        .executeTakeFirstOrThrow();
      const msp = await deps.db.selectFrom("msp").select("name").executeTakeFirst();
      return {
        id: actor.userId,
        name: actor.name,
        email: user.email,
        role: actor.role,
        timezone: user.timezone,
        allClients: user.all_clients,
        clientIds: actor.clientIds ?? [],
        teamIds: actor.teamIds,
        mspName: msp?.name ?? "",
      };
    },
  );

  app.get(
    "/api/v1/auth/tokens",
    {
      config: signedIn,
      schema: { tags: ["auth"], summary: "My API tokens", response: { 200: z.array(ApiTokenDto) } },
    },
    async (req) => (await listApiTokens(deps.db, actorOf(req))).map(toTokenDto),
  );

  app.post(
    "/api/v1/auth/tokens",
    {
      config: signedIn,
      schema: {
        tags: ["auth"],
        summary: "Create an API token (the secret is shown once)",
        body: CreateApiTokenRequest,
        response: { 201: CreatedApiTokenDto },
      },
    },
    async (req, reply) => {
      const { row, token } = await createApiToken(deps.db, actorOf(req), {
        name: req.body.name,
        expiresAt: req.body.expiresAt ? new Date(req.body.expiresAt) : undefined,
      });
      return reply.code(201).send({ ...toTokenDto(row), token });
    },
  );

  app.delete(
    "/api/v1/auth/tokens/:id",
    {
      config: signedIn,
      schema: {
        tags: ["auth"],
        summary: "Revoke an API token",
        params: IdParams,
        response: { 200: ApiTokenDto },
      },
    },
    async (req) => toTokenDto(await revokeApiToken(deps.db, actorOf(req), req.params.id)),
  );
}
