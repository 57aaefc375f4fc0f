import { sql, type Transaction } from "kysely";
import type { Database } from "../../db/database.ts";
import type { DB } from "../../db/schema.ts";
import { escapeLike } from "../users/queries.ts";
import type { SiteRow } from "./dto.ts";

type Db = Database | Transaction<DB>;

// ---- clients

export async function listClients(
  db: Database,
  filter: {
    visibleIds: string[] | null;
    q?: string;
    includeInactive: boolean;
    after: { key: string; id: string } | null;
    limit: number;
  },
) {
  if (filter.visibleIds?.length === 0) return [];
  // The sort key comes from PostgreSQL so the cursor compares exactly as the ORDER BY does.
  // Each row's open tickets: an index-only count on tickets_open_client_idx, a page (50) at a time.
  let q = db
    .selectFrom("clients")
    .selectAll()
    .select(sql<string>`lower(name)`.as("sort_key"))
    .select(
      sql<number>`(select count(*) from tickets t where t.client_id = clients.id and t.is_open)::int`.as(
        "open_tickets",
      ),
    );
  if (filter.visibleIds) q = q.where("id", "in", filter.visibleIds);
  if (!filter.includeInactive) q = q.where("active", "=", true);
  if (filter.q) {
    const text = filter.q;
    // ILIKE finds any substring; word similarity (<%) forgives a typo ("Dentl"). Both use clients_name_trgm.
    q = q.where(sql<boolean>`(name ilike ${`%${escapeLike(text)}%`} or ${text} <% name)`);
  }
  if (filter.after) {
    const { key, id } = filter.after;
    q = q.where(sql<boolean>`(lower(name), id) > (${key}, ${id}::uuid)`);
  }
  return q
    .orderBy(sql`lower(name)`)
    .orderBy("id")
    .limit(filter.limit + 1)
    .execute();
}

export async function findClient(db: Db, id: string, opts: { lock?: boolean } = {}) {
  let q = db.selectFrom("clients").selectAll().where("id", "=", id);
  if (opts.lock) q = q.forUpdate();
  return q.executeTakeFirst();
}

export async function findClientIdByName(db: Db, name: string) {
  return db
    .selectFrom("clients")
    .select("id")
    .where(sql<string>`lower(name)`, "=", name.toLowerCase())
    .executeTakeFirst();
}

export async function countOpenTickets(db: Db, clientId: string) {
  const row = await db
    .selectFrom("tickets")
    .select((eb) => eb.fn.countAll<string>().as("n"))
    .where("client_id", "=", clientId)
    .where("is_open", "=", true)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

// ---- sites

export async function listSites(db: Database, clientId: string) {
  return db
    .selectFrom("sites")
    .selectAll()
    .where("client_id", "=", clientId)
    .orderBy("name")
    .orderBy("id")
    .execute();
}

export async function findSite(
  db: Db,
  id: string,
  opts: { lock?: boolean } = {},
): Promise<SiteRow | undefined> {
  let q = db.selectFrom("sites").selectAll().where("id", "=", id);
  if (opts.lock) q = q.forUpdate();
  return q.executeTakeFirst();
}
