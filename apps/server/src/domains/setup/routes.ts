import { SetupRequest, SetupStatus } from "@switchboard/shared";
import type { App, AppDeps } from "../../app.ts";
import { publicRoute } from "../../http/policy.ts";
import { setSessionCookie } from "../auth/routes.ts";
import { login, loginLimits } from "../auth/service.ts";
import { isSetUp, runSetup } from "./service.ts";

export async function setupRoutes(app: App, deps: AppDeps) {
  app.get(
    "/api/v1/setup",
    { config: publicRoute, schema: { tags: ["setup"], response: { 200: SetupStatus } } },
    async () => {
      const msp = await deps.db.selectFrom("msp").select("name").executeTakeFirst();
      return { setUp: await isSetUp(deps.db), mspName: msp?.name ?? null };
    },
  );

  app.post(
    "/api/v1/setup",
    {
      config: publicRoute,
      schema: {
        tags: ["setup"],
        summary: "First run: create the MSP and its first admin (409 once any user exists)",
        body: SetupRequest,
      },
    },
    async (req, reply) => {
      const user = await runSetup(deps.db, req.body);
      // The new admin is signed in straight away.
      const session = await login(
        deps.db,
        {
          email: req.body.email,
          password: req.body.password,
          ip: req.ip,
          userAgent: req.headers["user-agent"],
          ttlHours: deps.config.SESSION_TTL_HOURS,
        },
        loginLimits(deps.config),
      );
      setSessionCookie(reply, deps, session.token, session.expiresAt);
      return reply.code(201).send({ userId: user.id });
    },
  );
}
