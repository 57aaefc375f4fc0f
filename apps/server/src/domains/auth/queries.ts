import { sql } from "kysely";
import type { Database } from "../../db/database.ts";
import type { UserRole } from "../../db/schema.ts";

export interface PrincipalRow {
  id: string;
  name: string;
  role: UserRole;
  all_clients: boolean;
  timezone: string;
  client_ids: string[];
  team_ids: string[];
}

// One round trip resolves a credential to the user with their client limits and teams.
const principalColumns = sql<PrincipalRow>`
  u.id, u.name, u.role, u.all_clients, u.timezone,
  coalesce((select array_agg(client_id) from user_clients uc where uc.user_id = u.id), '{}') as client_ids,
  coalesce((select array_agg(team_id) from team_members tm where tm.user_id = u.id), '{}') as team_ids`;

export async function findSessionPrincipal(db: Database, tokenHash: string) {
  const { rows } = await sql<PrincipalRow>`
    select ${principalColumns} from sessions s join users u on u.id = s.user_id
    where s.token_hash = ${tokenHash} and s.expires_at > now() and u.active`.execute(db);
  return rows[0];
}

export async function findTokenPrincipal(db: Database, tokenHash: string) {
  const { rows } = await sql<PrincipalRow & { token_id: string; stale_use: boolean }>`
    select t.id as token_id, ${principalColumns},
      (t.last_used_at is null or t.last_used_at < now() - interval '1 minute') as stale_use
    from api_tokens t join users u on u.id = t.user_id
    where t.token_hash = ${tokenHash} and t.revoked_at is null
      and (t.expires_at is null or t.expires_at > now()) and u.active`.execute(db);
  const row = rows[0];
  // last_used_at is kept to the minute: a write on every request would double the cost of a read.
  if (row?.stale_use) {
    await db
      .updateTable("api_tokens")
      .set({ last_used_at: new Date() })
      .where("id", "=", row.token_id)
      .execute();
  }
  return row;
}

export async function recentFailures(db: Database, account: string, ip: string, windowMinutes: number) {
  const { rows } = await sql<{ by_account: number; by_ip: number }>`
    select
      (select count(*)::int from login_attempts
        where account = ${account} and not succeeded and at > now() - make_interval(mins => ${windowMinutes})) as by_account,
      (select count(*)::int from login_attempts
        where ip = ${ip} and not succeeded and at > now() - make_interval(mins => ${windowMinutes})) as by_ip`.execute(
    db,
  );
  return rows[0] ?? { by_account: 0, by_ip: 0 };
}
