import type { TicketDto, UpdateTicketRequest } from "@switchboard/shared";
import type { Selectable, Transaction, Updateable } from "kysely";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import type { DB, TicketsTable } from "../../db/schema.ts";
import { notFound, versionConflict } from "../../http/errors.ts";
import { changedFields } from "../audit/changes.ts";
import { recordChange } from "../audit/record.ts";
import { type Actor, assertClientVisible, requireWriter } from "../auth/actor.ts";
import { lockTicket, openChildren, type RefRow, rebuiltVector, resolveRefs, wouldCycle } from "./queries.ts";
import { loadTicketDto } from "./read.ts";
import { snapshot } from "./service.ts";
import { insertEntry } from "./timeline.ts";
import { checkRefs, conflict } from "./validate.ts";

export type TicketChanges = Omit<z.output<typeof UpdateTicketRequest>, "version">;
type TicketRow = Selectable<TicketsTable>;

const sameDate = (a: Date | null, b: string | null | undefined) =>
  (a?.getTime() ?? null) === (b ? new Date(b).getTime() : null);
const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));

/** Fields of `changes` that differ from the row; unchanged fields are dropped so nothing is logged twice. */
function diff(row: TicketRow, c: TicketChanges): TicketChanges {
  const d: TicketChanges = {};
  if (c.subject !== undefined && c.subject !== row.subject) d.subject = c.subject;
  if (c.description !== undefined && c.description !== row.description) d.description = c.description;
  if (c.siteId !== undefined && c.siteId !== row.site_id) d.siteId = c.siteId;
  if (c.contactId !== undefined && c.contactId !== row.contact_id) d.contactId = c.contactId;
  if (c.type !== undefined && c.type !== row.type) d.type = c.type;
  if (c.priority !== undefined && c.priority !== row.priority) d.priority = c.priority;
  if (c.statusId !== undefined && c.statusId !== row.status_id) d.statusId = c.statusId;
  if (c.teamId !== undefined && c.teamId !== row.team_id) d.teamId = c.teamId;
  if (c.assigneeId !== undefined && c.assigneeId !== row.assignee_id) d.assigneeId = c.assigneeId;
  if (c.tags !== undefined && !sameSet([...new Set(c.tags)], row.tags)) d.tags = [...new Set(c.tags)];
  if (c.followUpAt !== undefined && !sameDate(row.follow_up_at, c.followUpAt)) d.followUpAt = c.followUpAt;
  if (c.parentId !== undefined && c.parentId !== row.parent_id) d.parentId = c.parentId;
  return d;
}

async function names(trx: Transaction<DB>, row: TicketRow) {
  return resolveRefs(
    trx,
    { teamId: row.team_id, assigneeId: row.assignee_id, statusId: row.status_id },
    row.client_id,
  );
}

/**
 * Applies already-authorised changes to a locked ticket: validates references and transitions, writes
 * the row (version + 1), a system timeline event per visible change, the audit row and `ticket.updated`.
 */
export async function applyChanges(
  trx: Transaction<DB>,
  actor: Actor,
  row: TicketRow,
  changes: TicketChanges,
) {
  if (row.merged_into_id)
    throw conflict(`Ticket #${row.number} was merged; change the ticket it was merged into`);
  const d = diff(row, changes);
  if (Object.keys(d).length === 0) return row;
  const refs = await resolveRefs(trx, d, row.client_id);
  checkRefs(d, refs, row.client_id);

  const nextCategory = d.statusId ? refs.status_category! : row.status_category;
  const closedNow = row.status_category === "closed";
  if (closedNow && (nextCategory === "closed" || Object.keys(d).some((k) => k !== "statusId"))) {
    throw conflict(`Ticket #${row.number} is closed; reopen it (change its status) before editing it`);
  }
  if (d.statusId && (nextCategory === "resolved" || nextCategory === "closed")) {
    const open = await openChildren(trx, row.id);
    if (open.length) {
      throw conflict(
        `Ticket #${row.number} has open child tickets: ${open.map((c) => `#${c.number}`).join(", ")}`,
        {
          openChildren: open,
        },
      );
    }
  }
  if (d.parentId) {
    if (d.parentId === row.id || (await wouldCycle(trx, row.id, d.parentId))) {
      throw conflict("A ticket cannot be its own ancestor");
    }
  }

  const now = new Date();
  const set: Updateable<TicketsTable> = { version: row.version + 1, updated_at: now, last_activity_at: now };
  if (d.subject !== undefined) set.subject = d.subject;
  if (d.description !== undefined) set.description = d.description;
  if (d.subject !== undefined || d.description !== undefined) {
    set.search_vector = rebuiltVector(
      row.id,
      d.subject ?? row.subject,
      d.description ?? row.description,
    ) as never;
  }
  if (d.siteId !== undefined) set.site_id = d.siteId;
  if (d.contactId !== undefined) set.contact_id = d.contactId;
  if (d.type !== undefined) set.type = d.type;
  if (d.priority !== undefined) set.priority = d.priority;
  if (d.teamId !== undefined) set.team_id = d.teamId;
  if (d.assigneeId !== undefined) set.assignee_id = d.assigneeId;
  if (d.tags !== undefined) set.tags = d.tags;
  if (d.followUpAt !== undefined) set.follow_up_at = d.followUpAt ? new Date(d.followUpAt) : null;
  if (d.parentId !== undefined) set.parent_id = d.parentId;
  if (d.statusId) {
    set.status_id = d.statusId;
    set.status_category = nextCategory;
    set.status_changed_at = now;
    set.resolved_at =
      nextCategory === "resolved" ? now : nextCategory === "closed" ? (row.resolved_at ?? now) : null;
    set.closed_at = nextCategory === "closed" ? now : null;
  }
  const updated = await trx
    .updateTable("tickets")
    .set(set)
    .where("id", "=", row.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await systemEvents(trx, actor, row, d, refs);
  const changed = changedFields(snapshot(row), snapshot(updated), ["updated_at", "last_activity_at"]);
  await recordChange(
    trx,
    actor,
    {
      action: "ticket.update",
      entityType: "ticket",
      entityId: row.id,
      clientId: row.client_id,
      before: changed.before,
      after: changed.after,
    },
    {
      type: "ticket.updated",
      clientId: row.client_id,
      ticketId: row.id,
      payload: {
        number: row.number,
        subject: updated.subject,
        changed: Object.keys(d),
        version: updated.version,
      },
    },
  );
  return updated;
}

/** One timeline event per change a technician cares to see in the history. */
async function systemEvents(
  trx: Transaction<DB>,
  actor: Actor,
  row: TicketRow,
  d: TicketChanges,
  to: RefRow,
) {
  const events: Record<string, unknown>[] = [];
  const from =
    d.statusId || d.teamId !== undefined || d.assigneeId !== undefined ? await names(trx, row) : null;
  if (d.statusId) {
    events.push({
      type: "status_changed",
      from: { id: row.status_id, name: from?.status_name, category: row.status_category },
      to: { id: d.statusId, name: to.status_name, category: to.status_category },
    });
  }
  if (d.priority !== undefined) events.push({ type: "priority_changed", from: row.priority, to: d.priority });
  if (d.assigneeId !== undefined) {
    events.push({
      type: "assignee_changed",
      from: row.assignee_id ? { id: row.assignee_id, name: from?.assignee_name } : null,
      to: d.assigneeId ? { id: d.assigneeId, name: to.assignee_name } : null,
    });
  }
  if (d.teamId !== undefined) {
    events.push({
      type: "team_changed",
      from: row.team_id ? { id: row.team_id, name: from?.team_name } : null,
      to: d.teamId ? { id: d.teamId, name: to.team_name } : null,
    });
  }
  if (d.followUpAt !== undefined) {
    events.push({
      type: "follow_up_changed",
      from: row.follow_up_at?.toISOString() ?? null,
      to: d.followUpAt,
    });
  }
  if (d.parentId !== undefined) {
    events.push({
      type: "parent_changed",
      from: row.parent_id,
      to: d.parentId ? { id: d.parentId, number: to.parent_number } : null,
    });
    if (d.parentId) {
      await insertEntry(
        trx,
        actor,
        { id: d.parentId },
        {
          kind: "event",
          visibility: "internal",
          event: { type: "child_added", child: { id: row.id, number: row.number, subject: row.subject } },
        },
      );
    }
  }
  if (d.type !== undefined) events.push({ type: "type_changed", from: row.type, to: d.type });
  for (const event of events)
    await insertEntry(trx, actor, row, { kind: "event", visibility: "internal", event });
}

/**
 * Updates a ticket if `version` is still current. A stale version gets 412 with the ticket as it is now,
 * so the console can show what changed instead of overwriting it.
 */
export async function updateTicket(
  db: Database,
  actor: Actor,
  id: string,
  input: { version: number } & TicketChanges,
): Promise<TicketDto> {
  requireWriter(actor);
  await db.transaction().execute(async (trx) => {
    const row = await lockTicket(trx, id);
    if (!row) throw notFound("Ticket");
    assertClientVisible(actor, row.client_id, "Ticket");
    if (row.version !== input.version) {
      throw versionConflict(`ticket #${row.number}`, await loadTicketDto(trx, id));
    }
    const { version: _v, ...changes } = input;
    await applyChanges(trx, actor, row, changes);
  });
  return (await loadTicketDto(db, id))!;
}

/** Assign, re-team, change status or tag many tickets at once: all or nothing. */
export async function bulkUpdate(
  db: Database,
  actor: Actor,
  input: {
    ticketIds: string[];
    assigneeId?: string | null;
    teamId?: string | null;
    statusId?: string;
    addTags?: string[];
    removeTags?: string[];
  },
) {
  requireWriter(actor);
  return db.transaction().execute(async (trx) => {
    // Lock in id order: two bulk edits over overlapping tickets cannot deadlock.
    const ids = [...new Set(input.ticketIds)].sort();
    let updated = 0;
    for (const id of ids) {
      const row = await lockTicket(trx, id);
      if (!row) throw notFound(`Ticket ${id}`);
      assertClientVisible(actor, row.client_id, `Ticket ${id}`);
      const changes: TicketChanges = {};
      if (input.assigneeId !== undefined) changes.assigneeId = input.assigneeId;
      if (input.teamId !== undefined) changes.teamId = input.teamId;
      if (input.statusId !== undefined) changes.statusId = input.statusId;
      if (input.addTags || input.removeTags) {
        const tags = new Set([...row.tags, ...(input.addTags ?? [])]);
        for (const t of input.removeTags ?? []) tags.delete(t);
        changes.tags = [...tags];
      }
      const after = await applyChanges(trx, actor, row, changes);
      if (after !== row) updated++;
    }
    return { updated };
  });
}
