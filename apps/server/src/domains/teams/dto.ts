import type { TeamDto } from "@switchboard/shared";
import type { TeamRow } from "./queries.ts";

export const toTeamDto = (t: TeamRow): TeamDto => ({
  id: t.id,
  name: t.name,
  description: t.description,
  memberIds: t.member_ids,
  version: t.version,
});
