import { type Expression, type SqlBool, sql, type Transaction } from "kysely";
import type { Database } from "../../db/database.ts";
import type { DB, StatusCategory } from "../../db/schema.ts";

/** Text search configuration for ticket and timeline text: English stemming, so "printers" finds "printer". */
export const SEARCH_CONFIG = "english";

/** Past this many lexemes a ticket's vector stops growing: PostgreSQL caps a tsvector at 1 MB. */
export const MAX_VECTOR_LEXEMES = 50_000;

type Db = Database | Transaction<DB>;

export const ticketVector = (subject: string, description: string) =>
  sql<string>`setweight(to_tsvector(${sql.lit(SEARCH_CONFIG)}::regconfig, ${subject}), 'A')
    || setweight(to_tsvector(${sql.lit(SEARCH_CONFIG)}::regconfig, ${description}), 'B')`;

/**
 * The whole vector again, for when the subject or description changes: their old words must go, and the
 * timeline's text (appended entry by entry) must stay.
 */
export const rebuiltVector = (ticketId: string, subject: string, description: string) =>
  sql<string>`${ticketVector(subject, description)} || setweight(to_tsvector(${sql.lit(SEARCH_CONFIG)}::regconfig,
    coalesce((select string_agg(body, ' ') from (select body from timeline_entries
      where ticket_id = ${ticketId} and kind <> 'event' order by seq limit 5000) b), '')), 'C')`;

/** Appends timeline text to a ticket's search vector (weight C). */
export async function appendToTicketVector(trx: Db, ticketId: string, text: string) {
  if (!text.trim()) return;
  await sql`update tickets set search_vector = search_vector
      || setweight(to_tsvector(${sql.lit(SEARCH_CONFIG)}::regconfig, ${text}), 'C')
    where id = ${ticketId} and length(search_vector) < ${MAX_VECTOR_LEXEMES}`.execute(trx);
}

/** The ticket row, locked for the rest of the transaction. */
export function lockTicket(trx: Transaction<DB>, id: string) {
  return trx.selectFrom("tickets").selectAll().where("id", "=", id).forUpdate().executeTakeFirst();
}

export interface RefCheck {
  clientId?: string | null;
  siteId?: string | null;
  contactId?: string | null;
  teamId?: string | null;
  assigneeId?: string | null;
  parentId?: string | null;
  statusId?: string | null;
}

export interface RefRow {
  client_name: string | null;
  site_client: string | null;
  site_name: string | null;
  contact_client: string | null;
  contact_name: string | null;
  team_name: string | null;
  assignee_name: string | null;
  assignee_active: boolean | null;
  assignee_all_clients: boolean | null;
  assignee_client_ok: boolean | null;
  parent_client: string | null;
  parent_number: number | null;
  status_name: string | null;
  status_category: StatusCategory | null;
}

/**
 * Resolves every id a ticket write refers to in one round trip (a create must stay cheap): what exists,
 * which client it belongs to, and the names the timeline's system events show.
 */
export async function resolveRefs(trx: Db, r: RefCheck, clientId: string): Promise<RefRow> {
  const u = (v: string | null | undefined) => sql`${v ?? null}::uuid`;
  const { rows } = await sql<RefRow>`select
    (select name from clients where id = ${u(r.clientId)}) as client_name,
    (select client_id from sites where id = ${u(r.siteId)}) as site_client,
    (select name from sites where id = ${u(r.siteId)}) as site_name,
    (select client_id from contacts where id = ${u(r.contactId)}) as contact_client,
    (select trim(first_name || ' ' || last_name) from contacts where id = ${u(r.contactId)}) as contact_name,
    (select name from teams where id = ${u(r.teamId)}) as team_name,
    (select name from users where id = ${u(r.assigneeId)}) as assignee_name,
    (select active from users where id = ${u(r.assigneeId)}) as assignee_active,
    (select all_clients from users where id = ${u(r.assigneeId)}) as assignee_all_clients,
    exists (select 1 from user_clients where user_id = ${u(r.assigneeId)} and client_id = ${u(clientId)}) as assignee_client_ok,
    (select client_id from tickets where id = ${u(r.parentId)}) as parent_client,
    (select number from tickets where id = ${u(r.parentId)}) as parent_number,
    (select name from ticket_statuses where id = ${u(r.statusId)}) as status_name,
    (select category from ticket_statuses where id = ${u(r.statusId)}) as status_category`.execute(trx);
  return rows[0]!;
}

export function defaultStatus(trx: Db, category: StatusCategory = "new") {
  return trx
    .selectFrom("ticket_statuses")
    .selectAll()
    .where("category", "=", category)
    .orderBy("builtin", "desc")
    .orderBy("sort_order")
    .limit(1)
    .executeTakeFirstOrThrow();
}

/** True when making `parentId` the parent of `childId` would close a loop. */
export async function wouldCycle(trx: Db, childId: string, parentId: string) {
  const { rows } = await sql<{ hit: boolean }>`
    with recursive up(id, depth) as (
      select ${parentId}::uuid, 0
      union all
      select t.parent_id, up.depth + 1 from tickets t join up on t.id = up.id
      where t.parent_id is not null and up.depth < 100
    )
    select exists (select 1 from up where id = ${childId}::uuid) as hit`.execute(trx);
  return rows[0]?.hit ?? false;
}

export async function openChildren(trx: Db, parentId: string) {
  return trx
    .selectFrom("tickets")
    .select(["id", "number"])
    .where("parent_id", "=", parentId)
    .where("is_open", "=", true)
    .orderBy("number")
    .execute();
}

/** Restricts a query on `tickets as t` to the clients the actor may see. */
export function clientScope(clientIds: string[] | null): Expression<SqlBool> | null {
  if (clientIds === null) return null;
  if (clientIds.length === 0) return sql<SqlBool>`false`;
  return sql<SqlBool>`t.client_id = any(${clientIds}::uuid[])`;
}
