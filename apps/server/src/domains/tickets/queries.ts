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
  contact_first: string | null;
  contact_last: string | null;
  contact_vip: boolean | null;
  contact_emails: string[] | null;
  contact_phones: { label: string; number: string }[] | null;
  contact_title: string | null;
  team_name: string | null;
  assignee_name: string | null;
  assignee_active: boolean | null;
  assignee_all_clients: boolean | null;
  assignee_client_ok: boolean | null;
  parent_client: string | null;
  parent_number: number | null;
  parent_subject: string | null;
  status_name: string | null;
  status_category: StatusCategory | null;
}

/**
 * Resolves every id a ticket write refers to in one round trip (a create must stay cheap): what exists,
 * which client it belongs to, and the names the timeline's system events show.
 */
export async function resolveRefs(trx: Db, r: RefCheck, clientId: string): Promise<RefRow> {
  const u = (v: string | null | undefined) => sql`${v ?? null}::uuid`;
  const { rows } = await sql<RefRow>`/*prepared*/ select
    (select name from clients where id = ${u(r.clientId)}) as client_name,
    (select client_id from sites where id = ${u(r.siteId)}) as site_client,
    (select name from sites where id = ${u(r.siteId)}) as site_name,
    ct.client_id as contact_client, ct.first_name as contact_first, ct.last_name as contact_last,
    ct.vip as contact_vip, ct.emails as contact_emails, ct.phones as contact_phones, ct.title as contact_title,
    (select name from teams where id = ${u(r.teamId)}) as team_name,
    (select name from users where id = ${u(r.assigneeId)}) as assignee_name,
    (select active from users where id = ${u(r.assigneeId)}) as assignee_active,
    (select all_clients from users where id = ${u(r.assigneeId)}) as assignee_all_clients,
    exists (select 1 from user_clients where user_id = ${u(r.assigneeId)} and client_id = ${u(clientId)}) as assignee_client_ok,
    p.client_id as parent_client,
    p.number as parent_number, p.subject as parent_subject,
    (select name from ticket_statuses where id = ${u(r.statusId)}) as status_name,
    (select category from ticket_statuses where id = ${u(r.statusId)}) as status_category
    from (select 1) one
    left join contacts ct on ct.id = ${u(r.contactId)}
    left join tickets p on p.id = ${u(r.parentId)}`.execute(trx);
  return rows[0]!;
}

/** The built-in status of each category, seeded with these ids by the first migration; never deleted. */
export const BUILTIN_STATUS: Record<StatusCategory, { id: string; name: string; category: StatusCategory }> =
  {
    new: { id: "00000000-0000-4000-8000-000000000001", name: "New", category: "new" },
    open: { id: "00000000-0000-4000-8000-000000000002", name: "Open", category: "open" },
    in_progress: { id: "00000000-0000-4000-8000-000000000003", name: "In progress", category: "in_progress" },
    waiting_client: {
      id: "00000000-0000-4000-8000-000000000004",
      name: "Waiting on client",
      category: "waiting_client",
    },
    waiting_third_party: {
      id: "00000000-0000-4000-8000-000000000005",
      name: "Waiting on third party",
      category: "waiting_third_party",
    },
    scheduled: { id: "00000000-0000-4000-8000-000000000006", name: "Scheduled", category: "scheduled" },
    resolved: { id: "00000000-0000-4000-8000-000000000007", name: "Resolved", category: "resolved" },
    closed: { id: "00000000-0000-4000-8000-000000000008", name: "Closed", category: "closed" },
  };

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
