import { type Selectable, sql, type Transaction } from "kysely";
import type { Database } from "../../db/database.ts";
import type { DB, UserRole, UsersTable } from "../../db/schema.ts";

export async function insertUser(
  trx: Transaction<DB>,
  input: {
    email: string;
    name: string;
    role: UserRole;
    passwordHash: string | null;
    timezone?: string;
    allClients?: boolean;
    phone?: string | null;
  },
) {
  return trx
    .insertInto("users")
    .values({
      email: input.email.trim().toLowerCase(),
      name: input.name,
      role: input.role,
      password_hash: input.passwordHash,
      timezone: input.timezone ?? "UTC",
      all_clients: input.allClients ?? true,
      phone: input.phone ?? null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

/** A user row without its password hash, with the client limits and teams it carries. */
export type UserRow = Omit<Selectable<UsersTable>, "password_hash"> & {
  client_ids: string[];
  team_ids: string[];
};

const userColumns = [
  "u.id",
  "u.email",
  "u.name",
  "u.role",
  "u.active",
  "u.all_clients",
  "u.timezone",
  "u.phone",
  "u.last_seen_changes_at",
  "u.version",
  "u.created_at",
  "u.updated_at",
] as const;

function selectUsers(db: Database | Transaction<DB>) {
  return db
    .selectFrom("users as u")
    .select(userColumns)
    .select([
      sql<
        string[]
      >`coalesce((select array_agg(uc.client_id order by uc.client_id) from user_clients uc where uc.user_id = u.id), '{}')`.as(
        "client_ids",
      ),
      sql<
        string[]
      >`coalesce((select array_agg(tm.team_id order by tm.team_id) from team_members tm where tm.user_id = u.id), '{}')`.as(
        "team_ids",
      ),
    ]);
}

export async function findUser(db: Database | Transaction<DB>, id: string, opts: { lock?: boolean } = {}) {
  let q = selectUsers(db).where("u.id", "=", id);
  // Locks the users row only (the aggregates are subqueries): membership writes go through this row.
  if (opts.lock) q = q.forUpdate("u");
  return (await q.executeTakeFirst()) as UserRow | undefined;
}

export async function listUsers(
  db: Database,
  filter: { q?: string; role?: UserRole; teamId?: string; includeInactive: boolean; matchEmail?: boolean },
) {
  let q = selectUsers(db).orderBy("u.name").orderBy("u.id");
  if (!filter.includeInactive) q = q.where("u.active", "=", true);
  if (filter.role) q = q.where("u.role", "=", filter.role);
  if (filter.teamId) {
    const teamId = filter.teamId;
    q = q.where((eb) =>
      eb.exists(
        eb
          .selectFrom("team_members as tm")
          .select("tm.user_id")
          .whereRef("tm.user_id", "=", "u.id")
          .where("tm.team_id", "=", teamId),
      ),
    );
  }
  if (filter.q) {
    const pattern = `%${escapeLike(filter.q)}%`;
    q = q.where((eb) =>
      filter.matchEmail
        ? eb.or([eb("u.name", "ilike", pattern), eb("u.email", "ilike", pattern)])
        : eb("u.name", "ilike", pattern),
    );
  }
  // An MSP has tens to hundreds of technicians: one page is the whole list.
  return (await q.limit(5000).execute()) as UserRow[];
}

export async function findUserIdByEmail(trx: Transaction<DB>, email: string) {
  return trx
    .selectFrom("users")
    .select("id")
    .where(sql<string>`lower(email)`, "=", email.toLowerCase())
    .executeTakeFirst();
}

/** The ids among `ids` that do not exist in `table`. */
export async function missingIds(trx: Transaction<DB>, table: "clients" | "teams" | "users", ids: string[]) {
  if (ids.length === 0) return [];
  const found = await trx.selectFrom(table).select("id").where("id", "in", ids).execute();
  const have = new Set(found.map((r) => r.id));
  return ids.filter((id) => !have.has(id));
}

export async function replaceUserClients(trx: Transaction<DB>, userId: string, ids: string[]) {
  const clientIds = [...new Set(ids)];
  await trx.deleteFrom("user_clients").where("user_id", "=", userId).execute();
  if (clientIds.length) {
    await trx
      .insertInto("user_clients")
      .values(clientIds.map((client_id) => ({ user_id: userId, client_id })))
      .execute();
  }
}

export async function replaceUserTeams(trx: Transaction<DB>, userId: string, ids: string[]) {
  const teamIds = [...new Set(ids)];
  await trx.deleteFrom("team_members").where("user_id", "=", userId).execute();
  if (teamIds.length) {
    await trx
      .insertInto("team_members")
      .values(teamIds.map((team_id) => ({ user_id: userId, team_id })))
      .execute();
  }
}

/**
 * The other active admins, locked: two admins demoting each other at the same moment serialise here,
 * so the last admin can never be removed.
 */
export async function lockOtherActiveAdmins(trx: Transaction<DB>, userId: string) {
  const rows = await trx
    .selectFrom("users")
    .select("id")
    .where("role", "=", "admin")
    .where("active", "=", true)
    .where("id", "<>", userId)
    .forUpdate()
    .execute();
  return rows.length;
}

/** `%` and `_` in what a user typed are literal characters, not wildcards. */
export const escapeLike = (value: string) => value.replace(/[\\%_]/g, (c) => `\\${c}`);
