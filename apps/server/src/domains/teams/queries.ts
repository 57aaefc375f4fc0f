import { type Selectable, sql, type Transaction } from "kysely";
import type { Database } from "../../db/database.ts";
import type { DB, TeamsTable } from "../../db/schema.ts";

export type TeamRow = Selectable<TeamsTable> & { member_ids: string[] };

function selectTeams(db: Database | Transaction<DB>) {
  return db
    .selectFrom("teams as t")
    .selectAll("t")
    .select(
      sql<
        string[]
      >`coalesce((select array_agg(tm.user_id order by tm.user_id) from team_members tm where tm.team_id = t.id), '{}')`.as(
        "member_ids",
      ),
    );
}

export async function listTeams(db: Database) {
  return (await selectTeams(db).orderBy("t.name").orderBy("t.id").execute()) as TeamRow[];
}

export async function findTeam(db: Database | Transaction<DB>, id: string, opts: { lock?: boolean } = {}) {
  let q = selectTeams(db).where("t.id", "=", id);
  if (opts.lock) q = q.forUpdate("t");
  return (await q.executeTakeFirst()) as TeamRow | undefined;
}

export async function findTeamIdByName(trx: Transaction<DB>, name: string) {
  return trx
    .selectFrom("teams")
    .select("id")
    .where(sql<string>`lower(name)`, "=", name.toLowerCase())
    .executeTakeFirst();
}

export async function replaceTeamMembers(trx: Transaction<DB>, teamId: string, ids: string[]) {
  const userIds = [...new Set(ids)];
  await trx.deleteFrom("team_members").where("team_id", "=", teamId).execute();
  if (userIds.length) {
    await trx
      .insertInto("team_members")
      .values(userIds.map((user_id) => ({ team_id: teamId, user_id })))
      .execute();
  }
}
