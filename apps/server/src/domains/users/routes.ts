import {
  CreateUserRequest,
  IdParams,
  NotificationPreferencesDto,
  UpdateNotificationPreferencesRequest,
  UpdateUserRequest,
  UserDto,
  UserListQuery,
  UserSummaryDto,
} from "@switchboard/shared";
import { z } from "zod";
import type { App, AppDeps } from "../../app.ts";
import { actorOf } from "../../http/auth.ts";
import { rolesOnly, signedIn } from "../../http/policy.ts";
import { requireUser } from "../auth/actor.ts";
import { toUserDto, toUserSummaryDto } from "./dto.ts";
import { inviteRoutes } from "./invite-routes.ts";
import { getNotificationPreferences, updateNotificationPreferences } from "./notification-preferences.ts";
import { createUser, getUser, listUsers, updateUser } from "./service.ts";

const tags = ["users"];

export async function userRoutes(app: App, deps: AppDeps) {
  app.get(
    "/api/v1/users",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "List users",
        description:
          "Admins and dispatchers get full records (and may include inactive users); everyone else gets the active users' id, name and role.",
        querystring: UserListQuery,
        response: { 200: z.array(z.union([UserDto, UserSummaryDto])) },
      },
    },
    async (req) => {
      const { full, rows } = await listUsers(deps.db, actorOf(req), req.query);
      return rows.map(full ? toUserDto : toUserSummaryDto);
    },
  );

  app.post(
    "/api/v1/users",
    {
      config: rolesOnly(["admin"], { allClients: true }),
      schema: {
        tags,
        summary: "Create a user (admin)",
        body: CreateUserRequest,
        response: { 201: UserDto },
      },
    },
    async (req, reply) => reply.code(201).send(toUserDto(await createUser(deps.db, actorOf(req), req.body))),
  );

  app.get(
    "/api/v1/users/:id",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "One user (a summary unless you are an admin, a dispatcher or that user)",
        params: IdParams,
        response: { 200: z.union([UserDto, UserSummaryDto]) },
      },
    },
    async (req) => {
      const { full, row } = await getUser(deps.db, actorOf(req), req.params.id);
      return full ? toUserDto(row) : toUserSummaryDto(row);
    },
  );

  app.patch(
    "/api/v1/users/:id",
    {
      config: rolesOnly(["admin"], { allClients: true, orSelf: "id" }),
      schema: {
        tags,
        summary: "Change a user (admin; users may change their own name, time zone, phone and password)",
        description:
          "Send the `version` you read: a stale one gets 412 `version_conflict` with the current user.",
        params: IdParams,
        body: UpdateUserRequest,
        response: { 200: UserDto },
      },
    },
    async (req) => toUserDto(await updateUser(deps.db, actorOf(req), req.params.id, req.body)),
  );

  await notificationPreferenceRoutes(app, deps);
  await inviteRoutes(app, deps);
}

const PREFERENCES_DESCRIPTION =
  "`assigned`: email when a ticket is assigned to the user by someone else; `newReply`: email when the customer writes on a ticket assigned to the user; `monitoringP1`: email when monitoring opens a P1 ticket for a client the user dispatches for (or assigned to them). Every one is on until turned off.";

async function notificationPreferenceRoutes(app: App, deps: AppDeps) {
  app.get(
    "/api/v1/me/notification-preferences",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "My notification emails",
        description: PREFERENCES_DESCRIPTION,
        response: { 200: NotificationPreferencesDto },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      return getNotificationPreferences(deps.db, actor, requireUser(actor));
    },
  );

  app.put(
    "/api/v1/me/notification-preferences",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "Choose my notification emails",
        description: `Send the preferences to change; the others keep their value. ${PREFERENCES_DESCRIPTION}`,
        body: UpdateNotificationPreferencesRequest,
        response: { 200: NotificationPreferencesDto },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      return updateNotificationPreferences(deps.db, actor, requireUser(actor), req.body);
    },
  );

  app.get(
    "/api/v1/users/:id/notification-preferences",
    {
      config: rolesOnly(["admin"], { allClients: true, orSelf: "id" }),
      schema: {
        tags,
        summary: "A user's notification emails (admins, or that user)",
        description: PREFERENCES_DESCRIPTION,
        params: IdParams,
        response: { 200: NotificationPreferencesDto },
      },
    },
    async (req) => getNotificationPreferences(deps.db, actorOf(req), req.params.id),
  );

  app.put(
    "/api/v1/users/:id/notification-preferences",
    {
      config: rolesOnly(["admin"], { allClients: true, orSelf: "id" }),
      schema: {
        tags,
        summary: "Choose a user's notification emails (admins, or that user)",
        description: `Send the preferences to change; the others keep their value. ${PREFERENCES_DESCRIPTION}`,
        params: IdParams,
        body: UpdateNotificationPreferencesRequest,
        response: { 200: NotificationPreferencesDto },
      },
    },
    async (req) => updateNotificationPreferences(deps.db, actorOf(req), req.params.id, req.body),
  );
}
