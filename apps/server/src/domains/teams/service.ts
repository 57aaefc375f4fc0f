import type { CreateTeamRequest, UpdateTeamRequest } from "@switchboard/shared";
import type { Transaction } from "kysely";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import type { DB } from "../../db/schema.ts";
import { conflictOn, invalid, isUniqueViolation, notFound, versionConflict } from "../../http/errors.ts";
import { writeAudit } from "../audit/audit.ts";
import { changedFields } from "../audit/changes.ts";
import { type Actor, requireRole } from "../auth/actor.ts";
import { missingIds } from "../users/queries.ts";
import { toTeamDto } from "./dto.ts";
import { findTeam, findTeamIdByName, listTeams as listTeamRows, replaceTeamMembers } from "./queries.ts";

const TAKEN = "is already used by another team";

/** Every signed-in user sees the teams: queues and assignment pickers need them. */
export async function listTeams(db: Database, _actor: Actor) {
  return listTeamRows(db);
}

export async function getTeam(db: Database, _actor: Actor, id: string) {
  const row = await findTeam(db, id);
  if (!row) throw notFound("Team");
  return row;
}

export async function createTeam(db: Database, actor: Actor, input: z.output<typeof CreateTeamRequest>) {
  requireRole(actor, "admin", "dispatcher");
  return withNameGuard(() =>
    db.transaction().execute(async (trx) => {
      if (await findTeamIdByName(trx, input.name)) throw conflictOn("body.name", TAKEN);
      await assertMembers(trx, input.memberIds);
      const { id } = await trx
        .insertInto("teams")
        .values({ name: input.name, description: input.description })
        .returning("id")
        .executeTakeFirstOrThrow();
      await replaceTeamMembers(trx, id, input.memberIds);
      const row = (await findTeam(trx, id))!;
      await writeAudit(trx, actor, {
        action: "team.create",
        entityType: "team",
        entityId: id,
        after: toTeamDto(row),
      });
      return row;
    }),
  );
}

export async function updateTeam(
  db: Database,
  actor: Actor,
  id: string,
  input: z.output<typeof UpdateTeamRequest>,
) {
  requireRole(actor, "admin", "dispatcher");
  return withNameGuard(() =>
    db.transaction().execute(async (trx) => {
      const before = await findTeam(trx, id, { lock: true });
      if (!before) throw notFound("Team");
      if (before.version !== input.version) throw versionConflict("team", toTeamDto(before));
      if (input.name && input.name.toLowerCase() !== before.name.toLowerCase()) {
        const other = await findTeamIdByName(trx, input.name);
        if (other && other.id !== id) throw conflictOn("body.name", TAKEN);
      }
      if (input.memberIds) await assertMembers(trx, input.memberIds);
      await trx
        .updateTable("teams")
        .set((eb) => ({
          name: input.name,
          description: input.description,
          version: eb("version", "+", 1),
          updated_at: new Date(),
        }))
        .where("id", "=", id)
        .execute();
      if (input.memberIds) await replaceTeamMembers(trx, id, input.memberIds);
      const after = (await findTeam(trx, id))!;
      const diff = changedFields(toTeamDto(before), toTeamDto(after), ["version"]);
      await writeAudit(trx, actor, {
        action: "team.update",
        entityType: "team",
        entityId: id,
        before: diff.before,
        after: diff.after,
      });
      return after;
    }),
  );
}

/** Tickets of a deleted team stay, unqueued (the foreign key sets their team to null). */
export async function deleteTeam(db: Database, actor: Actor, id: string) {
  requireRole(actor, "admin", "dispatcher");
  await db.transaction().execute(async (trx) => {
    const before = await findTeam(trx, id, { lock: true });
    if (!before) throw notFound("Team");
    await trx.deleteFrom("teams").where("id", "=", id).execute();
    await writeAudit(trx, actor, {
      action: "team.delete",
      entityType: "team",
      entityId: id,
      before: toTeamDto(before),
    });
  });
}

async function assertMembers(trx: Transaction<DB>, memberIds: string[]) {
  const missing = await missingIds(trx, "users", memberIds);
  if (missing.length) throw invalid("body.memberIds", `unknown user ${missing[0]}`);
}

async function withNameGuard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isUniqueViolation(err, "teams_name_key")) throw conflictOn("body.name", TAKEN);
    throw err;
  }
}
