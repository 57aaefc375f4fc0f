import type { TicketListQuery, TicketSummaryDto } from "@switchboard/shared";
import { type Expression, type RawBuilder, type SqlBool, sql } from "kysely";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import { decodeCursor, encodeCursor } from "../../lib/cursor.ts";
import type { Actor } from "../auth/actor.ts";
import { clientScope } from "./queries.ts";
import { type SummaryRow, summarySelect, toSummaryDto } from "./read.ts";

export type ListQuery = z.output<typeof TicketListQuery>;

/**
 * Each sort is a key of columns that all run the same direction, ending in the id, so the keyset
 * condition is one row comparison that the queue indexes (priority, created_at, id) answer directly.
 * Cursor values are the keys' text forms from PostgreSQL itself: timestamps keep their microseconds.
 */
const SORTS = {
  priority: {
    dir: "asc",
    keys: [sql`t.priority`, sql`t.created_at`, sql`t.id`],
    types: ["int", "timestamptz", "uuid"],
  },
  age: { dir: "asc", keys: [sql`t.created_at`, sql`t.id`], types: ["timestamptz", "uuid"] },
  newest: { dir: "desc", keys: [sql`t.created_at`, sql`t.id`], types: ["timestamptz", "uuid"] },
  activity: { dir: "desc", keys: [sql`t.last_activity_at`, sql`t.id`], types: ["timestamptz", "uuid"] },
  follow_up: {
    dir: "asc",
    keys: [sql`coalesce(t.follow_up_at, 'infinity'::timestamptz)`, sql`t.id`],
    types: ["timestamptz", "uuid"],
  },
  // The SLA clock's next due time (domains/sla): breached first, paused and no-SLA tickets last.
  sla_due: {
    dir: "asc",
    keys: [sql`coalesce(t.sla_due_at, 'infinity'::timestamptz)`, sql`t.id`],
    types: ["timestamptz", "uuid"],
  },
} as const satisfies Record<string, { dir: "asc" | "desc"; keys: RawBuilder<unknown>[]; types: string[] }>;

/** End of today in the viewer's time zone, as an instant. */
export function endOfToday(timeZone: string, now = new Date()): Date {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-US", {
      timeZone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    })
      .formatToParts(now)
      .map((p) => [p.type, p.value]),
  );
  const wallNow = Date.UTC(
    +parts.year!,
    +parts.month! - 1,
    +parts.day!,
    +parts.hour!,
    +parts.minute!,
    +parts.second!,
  );
  const offset = wallNow - Math.floor(now.getTime() / 1000) * 1000;
  const wallMidnight = Date.UTC(+parts.year!, +parts.month! - 1, +parts.day! + 1);
  return new Date(wallMidnight - offset);
}

export async function listTickets(db: Database, actor: Actor, q: ListQuery) {
  const sort = SORTS[q.sort];
  const conds: Expression<SqlBool>[] = [sql<SqlBool>`t.merged_into_id is null`];
  const scope = clientScope(actor.clientIds);
  if (scope) conds.push(scope);
  if (q.state === "open") conds.push(sql<SqlBool>`t.is_open`);
  if (q.state === "closed") conds.push(sql<SqlBool>`not t.is_open`);

  const myTeams = q.teamId ?? actor.teamIds;
  switch (q.queue) {
    case "mine":
      conds.push(sql<SqlBool>`t.assignee_id = ${actor.userId}::uuid`);
      break;
    case "unassigned":
      conds.push(
        sql<SqlBool>`t.assignee_id is null and (t.team_id = any(${myTeams}::uuid[])${q.teamId ? sql`` : sql` or t.team_id is null`})`,
      );
      break;
    case "team":
      conds.push(sql<SqlBool>`t.team_id = any(${myTeams}::uuid[])`);
      break;
    case "waiting":
      conds.push(sql<SqlBool>`t.status_category in ('waiting_client', 'waiting_third_party')`);
      break;
    case "follow_ups": {
      const due = q.dueBefore ? new Date(q.dueBefore) : endOfToday(actor.timezone);
      conds.push(sql<SqlBool>`t.follow_up_at < ${due}`);
      break;
    }
    case "all":
      break;
  }
  if (q.clientId) conds.push(sql<SqlBool>`t.client_id = any(${q.clientId}::uuid[])`);
  if (q.contactId) conds.push(sql<SqlBool>`t.contact_id = ${q.contactId}::uuid`);
  if (q.teamId && q.queue !== "unassigned" && q.queue !== "team") {
    conds.push(sql<SqlBool>`t.team_id = any(${q.teamId}::uuid[])`);
  }
  if (q.assigneeId) conds.push(sql<SqlBool>`t.assignee_id = any(${q.assigneeId}::uuid[])`);
  if (q.statusId) conds.push(sql<SqlBool>`t.status_id = any(${q.statusId}::uuid[])`);
  if (q.category) conds.push(sql<SqlBool>`t.status_category = any(${q.category}::text[])`);
  if (q.priority) conds.push(sql<SqlBool>`t.priority = any(${q.priority}::int[])`);
  if (q.type) conds.push(sql<SqlBool>`t.type = any(${q.type}::text[])`);
  if (q.tag) conds.push(sql<SqlBool>`t.tags && ${q.tag.map((t) => t.toLowerCase())}::text[]`);
  if (q.resolvedSince) conds.push(sql<SqlBool>`t.resolved_at >= ${new Date(q.resolvedSince)}`);
  if (q.slaDueBefore) conds.push(sql<SqlBool>`t.sla_due_at < ${new Date(q.slaDueBefore)}`);

  if (q.cursor) {
    const values = decodeCursor(q.cursor, sort.types);
    const typed = values.map((v, i) => sql`${v}::${sql.raw(sort.types[i]!)}`);
    const op = sort.dir === "asc" ? sql`>` : sql`<`;
    conds.push(sql<SqlBool>`(${sql.join(sort.keys)}) ${op} (${sql.join(typed)})`);
  }

  const dir = sql.raw(sort.dir);
  const rows = (await summarySelect(db)
    .select(sort.keys.map((k, i) => sql<string>`(${k})::text`.as(`k${i}`)))
    .where((eb) => eb.and(conds))
    .orderBy(sql`${sql.join(sort.keys.map((k) => sql`${k} ${dir}`))}`)
    .limit(q.limit + 1)
    .execute()) as unknown as Array<SummaryRow & Record<`k${number}`, string>>;

  const more = rows.length > q.limit;
  const page = more ? rows.slice(0, q.limit) : rows;
  const last = page.at(-1);
  const nextCursor = more && last ? encodeCursor(sort.keys.map((_, i) => last[`k${i}`] ?? "")) : null;
  const items: TicketSummaryDto[] = page.map(toSummaryDto);
  return { items, nextCursor };
}
