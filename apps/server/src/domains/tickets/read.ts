import type { TicketDto, TicketSummaryDto, TimelineEntryDto } from "@switchboard/shared";
import { sql, type Transaction } from "kysely";
import type { Database } from "../../db/database.ts";
import type { DB, StatusCategory, TicketSource, TicketType } from "../../db/schema.ts";

type Db = Database | Transaction<DB>;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The columns every ticket list and detail shows, joined once. */
export function summarySelect(db: Db) {
  return db
    .selectFrom("tickets as t")
    .innerJoin("ticket_statuses as s", "s.id", "t.status_id")
    .innerJoin("clients as c", "c.id", "t.client_id")
    .leftJoin("contacts as ct", "ct.id", "t.contact_id")
    .leftJoin("teams as tm", "tm.id", "t.team_id")
    .leftJoin("users as u", "u.id", "t.assignee_id")
    .select([
      "t.id",
      "t.number",
      "t.subject",
      "t.type",
      "t.source",
      "t.priority",
      "t.status_id",
      "s.name as status_name",
      "t.status_category",
      "t.client_id",
      "c.name as client_name",
      "t.contact_id",
      "ct.first_name as contact_first",
      "ct.last_name as contact_last",
      "ct.vip as contact_vip",
      "t.team_id",
      "tm.name as team_name",
      "t.assignee_id",
      "u.name as assignee_name",
      "t.tags",
      "t.follow_up_at",
      "t.created_at",
      "t.updated_at",
      "t.last_activity_at",
      "t.status_changed_at",
      "t.resolved_at",
      "t.version",
      "t.sla_due_at",
      "t.sla_state",
    ]);
}

export interface SummaryRow {
  id: string;
  number: number;
  subject: string;
  type: TicketType;
  source: TicketSource;
  priority: number;
  status_id: string;
  status_name: string;
  status_category: StatusCategory;
  client_id: string;
  client_name: string;
  contact_id: string | null;
  contact_first: string | null;
  contact_last: string | null;
  contact_vip: boolean | null;
  team_id: string | null;
  team_name: string | null;
  assignee_id: string | null;
  assignee_name: string | null;
  tags: string[];
  follow_up_at: Date | null;
  created_at: Date;
  updated_at: Date;
  last_activity_at: Date;
  status_changed_at: Date;
  resolved_at: Date | null;
  version: number;
  /** The SLA clock (domains/sla): absent where a row is built without it (a ticket just created). */
  sla_due_at?: Date | null;
  sla_state?: "running" | "paused" | "breached" | "met" | null;
}

const fullName = (first: string | null, last: string | null) => `${first ?? ""} ${last ?? ""}`.trim();

export function toSummaryDto(r: SummaryRow): TicketSummaryDto {
  return {
    id: r.id,
    number: r.number,
    subject: r.subject,
    type: r.type,
    source: r.source,
    priority: r.priority,
    status: { id: r.status_id, name: r.status_name, category: r.status_category },
    client: { id: r.client_id, name: r.client_name },
    contact: r.contact_id
      ? { id: r.contact_id, name: fullName(r.contact_first, r.contact_last), vip: r.contact_vip ?? false }
      : null,
    team: r.team_id ? { id: r.team_id, name: r.team_name ?? "" } : null,
    assignee: r.assignee_id ? { id: r.assignee_id, name: r.assignee_name ?? "" } : null,
    tags: r.tags,
    followUpAt: iso(r.follow_up_at),
    createdAt: r.created_at.toISOString(),
    updatedAt: r.updated_at.toISOString(),
    lastActivityAt: r.last_activity_at.toISOString(),
    statusChangedAt: r.status_changed_at.toISOString(),
    resolvedAt: iso(r.resolved_at),
    version: r.version,
    sla: r.sla_state ? { state: r.sla_state, dueAt: iso(r.sla_due_at ?? null) } : null,
  };
}

export interface DetailRow extends SummaryRow {
  description: string;
  site_id: string | null;
  site_name: string | null;
  contact_emails: string[] | null;
  contact_phones: { label: string; number: string }[] | null;
  contact_title: string | null;
  parent_id: string | null;
  parent_number: number | null;
  parent_subject: string | null;
  merged_into_id: string | null;
  merged_number: number | null;
  closed_at: Date | null;
}

type ChildRow = { id: string; number: number; subject: string; status_category: StatusCategory };
type ContactRow = { id: string; first_name: string; last_name: string };

export function toTicketDto(row: DetailRow, children: ChildRow[] = [], others: ContactRow[] = []): TicketDto {
  return {
    ...toSummaryDto(row),
    description: row.description,
    site: row.site_id ? { id: row.site_id, name: row.site_name ?? "" } : null,
    contact: row.contact_id
      ? {
          id: row.contact_id,
          name: fullName(row.contact_first, row.contact_last),
          vip: row.contact_vip ?? false,
          emails: row.contact_emails ?? [],
          phones: row.contact_phones ?? [],
          title: row.contact_title,
        }
      : null,
    parent: row.parent_id
      ? { id: row.parent_id, number: row.parent_number ?? 0, subject: row.parent_subject ?? "" }
      : null,
    children: children.map((c) => ({
      id: c.id,
      number: c.number,
      subject: c.subject,
      statusCategory: c.status_category,
    })),
    otherContacts: others.map((c) => ({ id: c.id, name: fullName(c.first_name, c.last_name) })),
    mergedInto: row.merged_into_id ? { id: row.merged_into_id, number: row.merged_number ?? 0 } : null,
    closedAt: iso(row.closed_at),
  };
}

/** The full ticket as the ticket view shows it; undefined when the id is unknown. */
export async function loadTicketDto(db: Db, id: string): Promise<TicketDto | undefined> {
  const [row, children, others] = await Promise.all([
    summarySelect(db)
      .leftJoin("sites as si", "si.id", "t.site_id")
      .leftJoin("tickets as p", "p.id", "t.parent_id")
      .leftJoin("tickets as m", "m.id", "t.merged_into_id")
      .select([
        "t.description",
        "t.site_id",
        "si.name as site_name",
        "ct.emails as contact_emails",
        "ct.phones as contact_phones",
        "ct.title as contact_title",
        "t.parent_id",
        "p.number as parent_number",
        "p.subject as parent_subject",
        "t.merged_into_id",
        "m.number as merged_number",
        "t.closed_at",
      ])
      .where("t.id", "=", id)
      .executeTakeFirst(),
    db
      .selectFrom("tickets")
      .select(["id", "number", "subject", "status_category"])
      .where("parent_id", "=", id)
      .orderBy("number")
      .limit(200)
      .execute(),
    db
      .selectFrom("ticket_contacts as tc")
      .innerJoin("contacts as c", "c.id", "tc.contact_id")
      .select(["c.id", "c.first_name", "c.last_name"])
      .where("tc.ticket_id", "=", id)
      .execute(),
  ]);
  return row ? toTicketDto(row, children, others) : undefined;
}

/** Newest first, `limit` entries older than `before` (a seq), with their attachments. */
export async function loadTimeline(db: Db, ticketId: string, limit: number, before?: number) {
  let q = db
    .selectFrom("timeline_entries as e")
    .leftJoin("users as u", "u.id", "e.author_user_id")
    .leftJoin("contacts as c", "c.id", "e.author_contact_id")
    .select([
      "e.id",
      "e.seq",
      "e.ticket_id",
      "e.kind",
      "e.visibility",
      "e.body",
      "e.author_user_id",
      "u.name as user_name",
      "e.author_contact_id",
      "c.first_name",
      "c.last_name",
      "e.call_direction",
      "e.call_number",
      "e.call_duration_seconds",
      "e.event",
      "e.created_at",
    ])
    .where("e.ticket_id", "=", ticketId)
    .orderBy("e.seq", "desc")
    .limit(limit + 1);
  if (before !== undefined) q = q.where("e.seq", "<", before);
  const rows = await q.execute();
  const more = rows.length > limit;
  const page = more ? rows.slice(0, limit) : rows;
  const files = page.length
    ? await db
        .selectFrom("attachments")
        .select(["id", "timeline_entry_id", "filename", "content_type", "size_bytes"])
        .where(
          "timeline_entry_id",
          "in",
          page.map((r) => r.id),
        )
        .execute()
    : [];
  const ids = page.filter((r) => r.kind === "reply" || r.kind === "email").map((r) => r.id);
  const mails = ids.length
    ? await db
        .selectFrom("email_messages")
        .select([
          "id",
          "timeline_entry_id",
          "direction",
          "status",
          "to_addresses",
          "cc_addresses",
          "last_error",
          "sent_at",
          sql<boolean>`body_html is not null`.as("has_html"),
        ])
        .where("timeline_entry_id", "in", ids)
        .orderBy("received_at")
        .execute()
    : [];
  const entries: TimelineEntryDto[] = page.map((r) => ({
    id: r.id,
    seq: r.seq,
    ticketId: r.ticket_id,
    kind: r.kind,
    visibility: r.visibility,
    body: r.body,
    author: r.author_user_id
      ? { type: "user", id: r.author_user_id, name: r.user_name ?? "" }
      : r.author_contact_id
        ? { type: "contact", id: r.author_contact_id, name: fullName(r.first_name, r.last_name) }
        : null,
    call: r.call_direction
      ? {
          direction: r.call_direction,
          number: r.call_number,
          durationSeconds: r.call_duration_seconds ?? 0,
        }
      : null,
    event: r.event,
    attachments: files
      .filter((f) => f.timeline_entry_id === r.id)
      .map((f) => ({ id: f.id, filename: f.filename, contentType: f.content_type, sizeBytes: f.size_bytes })),
    emails: mails
      .filter((m) => m.timeline_entry_id === r.id)
      .map((m) => ({
        id: m.id,
        direction: m.direction,
        status: m.status,
        to: m.to_addresses,
        cc: m.cc_addresses,
        error: m.status === "failed" || m.status === "bounced" ? m.last_error : null,
        sentAt: iso(m.sent_at),
        hasHtml: m.has_html,
      })),
    createdAt: r.created_at.toISOString(),
  }));
  return { entries, olderBefore: more ? (page.at(-1)?.seq ?? null) : null };
}

/** Follows merges from a number to the ticket that now holds its timeline. */
export async function resolveNumber(db: Db, number: number) {
  const { rows } = await sql<{ id: string; client_id: string }>`
    with recursive chain(id, merged_into_id, client_id, depth) as (
      select id, merged_into_id, client_id, 0 from tickets where number = ${number}
      union all
      select t.id, t.merged_into_id, t.client_id, c.depth + 1 from tickets t join chain c on t.id = c.merged_into_id
      where c.depth < 20
    )
    select id, client_id from chain where merged_into_id is null limit 1`.execute(db);
  return rows[0];
}
