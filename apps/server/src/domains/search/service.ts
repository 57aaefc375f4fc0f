import { phoneSearchKey, type SearchResultDto } from "@switchboard/shared";
import { type SqlBool, sql } from "kysely";
import type { Database } from "../../db/database.ts";
import type { StatusCategory } from "../../db/schema.ts";
import { asSystem } from "../../db/scope.ts";
import type { Actor } from "../auth/actor.ts";
import { SEARCH_CONFIG } from "../tickets/queries.ts";

type Kind = "tickets" | "contacts" | "clients" | "articles" | "documents";

/**
 * Ranking for a word search is computed over at most this many of the most recently active matches:
 * a common word can match a large share of a million tickets, and ranking them all would cost seconds,
 * while the ticket anyone looks for is almost always among the recent ones.
 */
const RANK_WINDOW = 1000;

const clientFilter = (actor: Actor, column: string) =>
  actor.clientIds === null
    ? sql<SqlBool>`true`
    : sql<SqlBool>`${sql.ref(column)} = any(${actor.clientIds}::uuid[])`;

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * Knowledge-base articles and client documents by their words, ranked within the most recently updated
 * matches (the same window as tickets). Articles of no client are for everyone.
 */
async function searchArticles(db: Database, actor: Actor, text: string, limit: number) {
  const query = sql`websearch_to_tsquery(${sql.lit(SEARCH_CONFIG)}::regconfig, ${text})`;
  const scope =
    actor.clientIds === null
      ? sql<SqlBool>`true`
      : sql<SqlBool>`(a.client_id is null or a.client_id = any(${actor.clientIds}::uuid[]))`;
  const { rows } = await sql<{
    id: string;
    title: string;
    visibility: "internal" | "public";
    client_id: string | null;
    client_name: string | null;
    rank: number;
  }>`
    with candidates as (
      select a.id, a.search_vector from kb_articles a
      where a.search_vector @@ ${query} and ${scope}
      order by a.updated_at desc limit ${RANK_WINDOW}
    ), ranked as (
      select c.id, ts_rank_cd(c.search_vector, ${query}, 1) as rank from candidates c order by rank desc limit ${limit}
    )
    select a.id, a.title, a.visibility, a.client_id, cl.name as client_name, r.rank::float8 as rank
    from ranked r join kb_articles a on a.id = r.id left join clients cl on cl.id = a.client_id
    order by r.rank desc, a.updated_at desc`.execute(db);
  return rows.map((r) => ({
    id: r.id,
    title: r.title,
    visibility: r.visibility,
    client: r.client_id ? { id: r.client_id, name: r.client_name ?? "" } : null,
    rank: Number(r.rank),
  }));
}

async function searchDocuments(db: Database, actor: Actor, text: string, limit: number) {
  const query = sql`websearch_to_tsquery(${sql.lit(SEARCH_CONFIG)}::regconfig, ${text})`;
  const { rows } = await sql<{
    id: string;
    title: string;
    layout: string;
    client_id: string;
    client_name: string;
    rank: number;
  }>`
    with candidates as (
      select d.id, d.search_vector from documents d
      where d.search_vector @@ ${query} and d.archived_at is null and ${clientFilter(actor, "d.client_id")}
      order by d.updated_at desc limit ${RANK_WINDOW}
    ), ranked as (
      select c.id, ts_rank_cd(c.search_vector, ${query}, 1) as rank from candidates c order by rank desc limit ${limit}
    )
    select d.id, d.title, l.name as layout, d.client_id, cl.name as client_name, r.rank::float8 as rank
    from ranked r join documents d on d.id = r.id join doc_layouts l on l.id = d.layout_id
    join clients cl on cl.id = d.client_id
    order by r.rank desc, d.updated_at desc`.execute(db);
  return rows.map((r) => ({
    id: r.id,
    title: r.title,
    layout: r.layout,
    client: { id: r.client_id, name: r.client_name },
    rank: Number(r.rank),
  }));
}

/**
 * One search over ticket numbers, ticket subjects and timeline text (full-text, the last word as a
 * prefix), contact names and addresses (substring and trigram), phone numbers in any format, and client
 * names and email domains (substring and trigram), knowledge-base articles and client documents (full
 * text), each group ranked, limited to what the actor may see.
 */
export async function search(
  db: Database,
  actor: Actor,
  q: { q: string; limit: number; types?: Kind[] },
): Promise<SearchResultDto> {
  const want = new Set<Kind>(q.types ?? ["tickets", "contacts", "clients", "articles", "documents"]);
  const [tickets, contacts, clients, articles, documents] = await Promise.all([
    want.has("tickets") ? searchTickets(db, actor, q.q, q.limit) : [],
    want.has("contacts") ? searchContacts(db, actor, q.q, q.limit) : [],
    want.has("clients") ? searchClients(db, actor, q.q, q.limit) : [],
    want.has("articles") ? searchArticles(db, actor, q.q, q.limit) : [],
    want.has("documents") ? searchDocuments(db, actor, q.q, q.limit) : [],
  ]);
  return { tickets, contacts, clients, articles, documents };
}

interface TicketHit {
  id: string;
  number: number;
  subject: string;
  client_id: string;
  client_name: string;
  status_category: StatusCategory;
  priority: number;
  last_activity_at: Date;
  rank: number;
}

async function searchTickets(db: Database, actor: Actor, text: string, limit: number) {
  const scope = clientFilter(actor, "t.client_id");
  const numberMatch = /^#?(\d{1,12})$/.exec(text.trim());
  // The query is written inline, not in a CTE: the planner then sees the words and estimates how many
  // tickets match. Rare words use the GIN index; common ones walk tickets_activity_idx newest first and
  // stop at the window, instead of collecting hundreds of thousands of matches to sort.
  const query = ticketQuery(text);
  const { rows } = numberMatch
    ? await sql<TicketHit>`
        select t.id, t.number, t.subject, t.client_id, c.name as client_name, t.status_category, t.priority,
          t.last_activity_at, 1.0::float8 as rank
        from tickets t join clients c on c.id = t.client_id
        where t.number = ${Number(numberMatch[1])} and ${scope}`.execute(db)
    : await rankedTickets(db, actor, query, scope, limit);
  return rows.map((r) => ({
    id: r.id,
    number: r.number,
    subject: r.subject,
    client: { id: r.client_id, name: r.client_name },
    statusCategory: r.status_category,
    priority: r.priority,
    lastActivityAt: r.last_activity_at.toISOString(),
    rank: Number(r.rank),
  }));
}

/**
 * The word search over tickets, in two steps. The matches are found and ranked by ids alone, filtered to
 * the actor's clients by the `scope` condition; for a client-limited actor this step runs as the system,
 * because under row-level security PostgreSQL may not use the full-text index (`@@` is not leakproof, so
 * it cannot run before the policy) and would read every ticket of the actor's clients instead (1.6 s
 * against 0.7 s at a million tickets, bench:rls). The rows themselves are then read in the actor's own
 * scope, so row-level security still decides what comes back.
 */
async function rankedTickets(
  db: Database,
  actor: Actor,
  query: ReturnType<typeof ticketQuery>,
  scope: ReturnType<typeof clientFilter>,
  limit: number,
) {
  const rank = () =>
    sql<{ id: string; rank: number }>`
      with candidates as (
        select t.id, t.search_vector from tickets t
        where t.search_vector @@ ${query} and t.merged_into_id is null and ${scope}
        order by t.last_activity_at desc
        limit ${RANK_WINDOW}
      )
      select c.id, ts_rank_cd(c.search_vector, ${query}, 1)::float8 as rank from candidates c
      order by rank desc
      limit ${limit}`.execute(db);
  const { rows: ranked } = actor.clientIds === null ? await rank() : await asSystem(rank);
  if (ranked.length === 0) return { rows: [] as TicketHit[] };
  const { rows } = await sql<Omit<TicketHit, "rank">>`
    select t.id, t.number, t.subject, t.client_id, cl.name as client_name, t.status_category, t.priority,
      t.last_activity_at
    from tickets t join clients cl on cl.id = t.client_id
    where t.id = any(${ranked.map((r) => r.id)}::uuid[])`.execute(db);
  const byId = new Map(rows.map((r) => [r.id, r]));
  const hits: TicketHit[] = [];
  for (const r of ranked) {
    const row = byId.get(r.id);
    if (row) hits.push({ ...row, rank: Number(r.rank) });
  }
  hits.sort((x, y) => y.rank - x.rank || y.last_activity_at.getTime() - x.last_activity_at.getTime());
  return { rows: hits };
}

/**
 * Words as typed match as prefixes of the last word ("outl" finds Outlook, as one types): the query is
 * built from letters and digits only, so nothing typed can be tsquery syntax. Text with search operators
 * (quotes, "or", a leading minus) keeps web-search semantics. A last word under three characters is
 * matched whole: a one-letter prefix would match most of the index.
 */
export function ticketQuery(text: string) {
  const config = sql.lit(SEARCH_CONFIG);
  const words = text.match(/[\p{L}\p{N}]+/gu) ?? [];
  if (/["]|(^|\s)-\S|\bor\b/i.test(text) || words.length === 0 || words.length > 8) {
    return sql`websearch_to_tsquery(${config}::regconfig, ${text})`;
  }
  const last = words.at(-1) as string;
  const prefix = [...last].length >= 3;
  const head = words.slice(0, -1).join(" ");
  // plainto_tsquery stems and drops stop words; the prefix part is the last word's normalised lexeme.
  const tail = prefix
    ? sql`to_tsquery(${config}::regconfig, quote_literal(${last}) || ':*')`
    : sql`plainto_tsquery(${config}::regconfig, ${last})`;
  return head ? sql`(plainto_tsquery(${config}::regconfig, ${head}) && ${tail})` : tail;
}

interface ContactHit {
  id: string;
  first_name: string;
  last_name: string;
  client_id: string;
  client_name: string;
  emails: string[];
  phones: { label: string; number: string }[];
  vip: boolean;
  rank: number;
}

async function searchContacts(db: Database, actor: Actor, text: string, limit: number) {
  const scope = clientFilter(actor, "ct.client_id");
  const phone = phoneSearchKey(text);
  const lowered = text.trim().toLowerCase();
  let where: ReturnType<typeof sql<SqlBool>>;
  let rank: ReturnType<typeof sql<number>>;
  if (phone) {
    where = sql<SqlBool>`ct.phone_digits like ${`%${phone}%`}`;
    rank = sql<number>`1.0`;
  } else if (lowered.includes("@")) {
    // Exact address first (GIN on emails), then addresses starting with what was typed.
    where = sql<SqlBool>`(ct.emails @> array[${lowered}]::text[]
      or exists (select 1 from unnest(ct.emails) e where e like ${`${escapeLike(lowered)}%`}))`;
    rank = sql<number>`case when ct.emails @> array[${lowered}]::text[] then 1.0 else 0.5 end`;
  } else {
    const name = sql`(ct.first_name || ' ' || ct.last_name)`;
    const like = `%${escapeLike(text.trim())}%`;
    // Names by substring or similarity, addresses by substring ("riverbend" finds j.doe@riverbenddental.example).
    where = sql<SqlBool>`(${name} ilike ${like} or ${name} % ${text.trim()} or sb_text_list(ct.emails) ilike ${like})`;
    rank = sql<number>`greatest(similarity(${name}, ${text.trim()}),
      case when ${name} ilike ${like} then 0.5 when sb_text_list(ct.emails) ilike ${like} then 0.3 else 0 end)`;
  }
  const { rows } = await sql<ContactHit>`
    select ct.id, ct.first_name, ct.last_name, ct.client_id, c.name as client_name, ct.emails, ct.phones, ct.vip,
      ${rank}::float8 as rank
    from contacts ct join clients c on c.id = ct.client_id
    where ct.active and ${where} and ${scope}
    order by rank desc, ct.last_name, ct.first_name
    limit ${limit}`.execute(db);
  return rows.map((r) => ({
    id: r.id,
    name: `${r.first_name} ${r.last_name}`.trim(),
    client: { id: r.client_id, name: r.client_name },
    emails: r.emails,
    phones: r.phones,
    vip: r.vip,
    rank: Number(r.rank),
  }));
}

async function searchClients(db: Database, actor: Actor, text: string, limit: number) {
  const scope = clientFilter(actor, "c.id");
  const t = text.trim();
  const like = `%${escapeLike(t)}%`;
  // Name by substring (a word's start ranks first) or similarity; email domains by substring.
  const { rows } = await sql<{ id: string; name: string; rank: number }>`
    select c.id, c.name, greatest(similarity(c.name, ${t}),
        case when c.name ilike ${`${escapeLike(t)}%`} or c.name ilike ${`% ${escapeLike(t)}%`} then 0.9
          when c.name ilike ${like} then 0.6 when sb_text_list(c.email_domains) ilike ${like} then 0.4 else 0 end
      )::float8 as rank
    from clients c
    where (c.name ilike ${like} or c.name % ${t} or sb_text_list(c.email_domains) ilike ${like}) and ${scope}
    order by rank desc, c.name limit ${limit}`.execute(db);
  return rows.map((r) => ({ id: r.id, name: r.name, rank: Number(r.rank) }));
}
