import type { UserDto, UserSummaryDto } from "@switchboard/shared";
import type { UserRow } from "./queries.ts";

export const toUserDto = (u: UserRow): UserDto => ({
  id: u.id,
  email: u.email,
  name: u.name,
  role: u.role,
  active: u.active,
  allClients: u.all_clients,
  clientIds: u.client_ids,
  teamIds: u.team_ids,
  timezone: u.timezone,
  phone: u.phone,
  createdAt: u.created_at.toISOString(),
  version: u.version,
});

export const toUserSummaryDto = (u: Pick<UserRow, "id" | "name" | "role">): UserSummaryDto => ({
  id: u.id,
  name: u.name,
  role: u.role,
});
