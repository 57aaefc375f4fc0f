import { CreateTeamRequest, IdParams, TeamDto, UpdateTeamRequest } from "@switchboard/shared";
import { z } from "zod";
import type { App, AppDeps } from "../../app.ts";
import { actorOf } from "../../http/auth.ts";
import { rolesOnly, signedIn } from "../../http/policy.ts";
import { toTeamDto } from "./dto.ts";
import { createTeam, deleteTeam, getTeam, listTeams, updateTeam } from "./service.ts";

const tags = ["teams"];

export async function teamRoutes(app: App, deps: AppDeps) {
  app.get(
    "/api/v1/teams",
    {
      config: signedIn,
      schema: { tags, summary: "List teams (queues)", response: { 200: z.array(TeamDto) } },
    },
    async (req) => (await listTeams(deps.db, actorOf(req))).map(toTeamDto),
  );

  app.post(
    "/api/v1/teams",
    {
      config: rolesOnly(["admin", "dispatcher"], { allClients: true }),
      schema: {
        tags,
        summary: "Create a team (admin or dispatcher)",
        body: CreateTeamRequest,
        response: { 201: TeamDto },
      },
    },
    async (req, reply) => reply.code(201).send(toTeamDto(await createTeam(deps.db, actorOf(req), req.body))),
  );

  app.get(
    "/api/v1/teams/:id",
    { config: signedIn, schema: { tags, summary: "One team", params: IdParams, response: { 200: TeamDto } } },
    async (req) => toTeamDto(await getTeam(deps.db, actorOf(req), req.params.id)),
  );

  app.patch(
    "/api/v1/teams/:id",
    {
      config: rolesOnly(["admin", "dispatcher"], { allClients: true }),
      schema: {
        tags,
        summary: "Change a team (admin or dispatcher)",
        description:
          "Send the `version` you read: a stale one gets 412 `version_conflict` with the current team.",
        params: IdParams,
        body: UpdateTeamRequest,
        response: { 200: TeamDto },
      },
    },
    async (req) => toTeamDto(await updateTeam(deps.db, actorOf(req), req.params.id, req.body)),
  );

  app.delete(
    "/api/v1/teams/:id",
    {
      config: rolesOnly(["admin", "dispatcher"], { allClients: true }),
      schema: {
        tags,
        summary: "Delete a team (its tickets stay, without a team)",
        params: IdParams,
      },
    },
    async (req, reply) => {
      await deleteTeam(deps.db, actorOf(req), req.params.id);
      return reply.code(204).send();
    },
  );
}
