import type {
  CreateTicketRuleRequest,
  ReorderTicketRulesRequest,
  TicketRuleDto,
  UpdateTicketRuleRequest,
} from "@switchboard/shared";
import { type Selectable, sql, type Transaction } from "kysely";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import type { AlertSeverity, DB, MonitoringTicketRulesTable } from "../../db/schema.ts";
import { invalid, notFound, versionConflict } from "../../http/errors.ts";
import { recordChange } from "../audit/record.ts";
import { type Actor, canSeeClient, requireRole } from "../auth/actor.ts";
import { type BusinessCalendar, isOpenAt } from "../sla/calendar.ts";
import { loadCalendar, policyForClient } from "../sla/queries.ts";

type RuleRow = Selectable<MonitoringTicketRulesTable>;
type Db = Database | Transaction<DB>;

/** What happens to an alert that fired: the first matching rule's actions, or the default. */
export interface TicketDecision {
  ruleId: string | null;
  openTicket: boolean;
  priority: 1 | 2 | 3 | 4;
  teamId: string | null;
  assigneeId: string | null;
  resolveOnRecovery: boolean;
}

export interface AlertFacts {
  clientId: string;
  severity: AlertSeverity;
  /** The check's kind, "offline" or "task". */
  kind: string;
  /** When it fired: business hours are judged at this instant (the caller's clock, never read here). */
  at: Date;
}

const RANK: Record<AlertSeverity, number> = { critical: 0, high: 1, medium: 2, low: 3 };
/** Severity to ticket priority: critical is P1. */
export const PRIORITY: Record<AlertSeverity, 1 | 2 | 3 | 4> = { critical: 1, high: 2, medium: 3, low: 4 };

/**
 * The client's rules in order, then the MSP's; the first whose conditions all hold decides. Business
 * hours are judged on the rule's calendar, else the client's SLA calendar, in that calendar's zone
 * (holidays are outside); a rule with a business-hours condition and no calendar to judge it never
 * matches. An assignee who was deactivated or may no longer see the client is left out (the ticket goes
 * to the team) rather than failing the alert's ticket. No rule matches: every alert opens an unassigned
 * ticket with its severity's priority, resolved on recovery.
 */
export async function decideTicket(db: Db, a: AlertFacts): Promise<TicketDecision> {
  const { rows } = await sql<RuleRow & { assignee_ok: boolean }>`
    select r.*, coalesce(u.active and (u.all_clients or exists (
        select 1 from user_clients uc where uc.user_id = u.id and uc.client_id = ${a.clientId})), false) as assignee_ok
    from monitoring_ticket_rules r left join users u on u.id = r.assignee_id
    where r.client_id = ${a.clientId} or r.client_id is null
    order by r.client_id nulls last, r.position, r.created_at`.execute(db);
  let clientCalendar: Promise<BusinessCalendar | null> | undefined;
  const calendarOf = (r: RuleRow) => {
    if (r.calendar_id) return loadCalendar(db, r.calendar_id);
    clientCalendar ??= policyForClient(db, a.clientId).then((p) =>
      p ? loadCalendar(db, p.calendarId) : null,
    );
    return clientCalendar;
  };
  for (const r of rows) {
    if (RANK[a.severity] > RANK[r.min_severity]) continue;
    if (r.check_kinds.length && !r.check_kinds.includes(a.kind)) continue;
    if (r.business_hours !== "any") {
      const cal = await calendarOf(r);
      if (!cal) continue;
      if (isOpenAt(cal, a.at) !== (r.business_hours === "during")) continue;
    }
    return {
      ruleId: r.id,
      openTicket: r.open_ticket,
      priority: (r.priority as 1 | 2 | 3 | 4 | null) ?? PRIORITY[a.severity],
      teamId: r.team_id,
      assigneeId: r.assignee_ok ? r.assignee_id : null,
      resolveOnRecovery: r.resolve_on_recovery,
    };
  }
  return {
    ruleId: null,
    openTicket: true,
    priority: PRIORITY[a.severity],
    teamId: null,
    assigneeId: null,
    resolveOnRecovery: true,
  };
}

const toDto = (r: RuleRow): TicketRuleDto => ({
  id: r.id,
  clientId: r.client_id,
  position: r.position,
  name: r.name,
  minSeverity: r.min_severity,
  checkKinds: r.check_kinds as TicketRuleDto["checkKinds"],
  businessHours: r.business_hours,
  calendarId: r.calendar_id,
  openTicket: r.open_ticket,
  priority: r.priority,
  teamId: r.team_id,
  assigneeId: r.assignee_id,
  resolveOnRecovery: r.resolve_on_recovery,
  version: r.version,
});

/** Every list the actor may see: the MSP's first, then each client's, each in its order. */
export async function listRules(db: Database, actor: Actor) {
  const rows = await db
    .selectFrom("monitoring_ticket_rules")
    .selectAll()
    .orderBy(sql`client_id nulls first`)
    .orderBy("position")
    .orderBy("created_at")
    .execute();
  return rows.filter((r) => r.client_id === null || canSeeClient(actor, r.client_id)).map(toDto);
}

/** The MSP's list needs staff who see every client; a client's, an admin or dispatcher who sees it. */
function authorize(actor: Actor, clientId: string | null, field = "body.clientId") {
  requireRole(actor, "admin", "dispatcher");
  if (clientId === null ? actor.clientIds !== null : !canSeeClient(actor, clientId))
    throw invalid(field, clientId === null ? "required: you manage only some clients" : "no such client");
}

type Fields = z.output<typeof UpdateTicketRuleRequest>;

/** References checked at save, each failure naming its field. */
async function checkRefs(trx: Transaction<DB>, input: Omit<Fields, "version">) {
  if (input.teamId) {
    const t = await trx.selectFrom("teams").select("id").where("id", "=", input.teamId).executeTakeFirst();
    if (!t) throw invalid("body.teamId", "no such team");
  }
  if (input.assigneeId) {
    const u = await trx
      .selectFrom("users")
      .select("active")
      .where("id", "=", input.assigneeId)
      .executeTakeFirst();
    if (!u?.active) throw invalid("body.assigneeId", "no such active user");
  }
  if (input.calendarId) {
    const c = await trx
      .selectFrom("sla_calendars")
      .select("id")
      .where("id", "=", input.calendarId)
      .executeTakeFirst();
    if (!c) throw invalid("body.calendarId", "no such business-hours calendar");
  }
  if (!input.openTicket && (input.teamId || input.assigneeId || input.priority !== null))
    throw invalid(
      input.teamId ? "body.teamId" : input.assigneeId ? "body.assigneeId" : "body.priority",
      "a rule that opens no ticket routes nothing",
    );
}

const values = (input: Omit<Fields, "version">) => ({
  name: input.name,
  min_severity: input.minSeverity,
  check_kinds: input.checkKinds,
  business_hours: input.businessHours,
  calendar_id: input.businessHours === "any" ? null : input.calendarId,
  open_ticket: input.openTicket,
  priority: input.priority,
  team_id: input.teamId,
  assignee_id: input.assigneeId,
  resolve_on_recovery: input.resolveOnRecovery,
  updated_at: new Date(),
});

const audit = (
  trx: Transaction<DB>,
  actor: Actor,
  action: string,
  row: RuleRow,
  change: { before?: unknown; after?: unknown },
) =>
  recordChange(
    trx,
    actor,
    {
      action: `monitoring.ticket_rule_${action}`,
      entityType: "monitoring_ticket_rule",
      entityId: row.id,
      clientId: row.client_id,
      ...change,
    },
    { type: "monitoring.policy_changed", clientId: row.client_id, payload: { ruleId: row.id } },
  );

/** Locks one list (a client's or the MSP's) so positions are handed out and reordered one at a time. */
async function lockList(trx: Transaction<DB>, clientId: string | null) {
  await sql`select pg_advisory_xact_lock(hashtext(${`ticket-rules:${clientId ?? "msp"}`}))`.execute(trx);
}

/** A new rule, at the end of its list. */
export async function createRule(
  db: Database,
  actor: Actor,
  input: z.output<typeof CreateTicketRuleRequest>,
) {
  authorize(actor, input.clientId);
  return db.transaction().execute(async (trx) => {
    if (input.clientId) {
      const c = await trx
        .selectFrom("clients")
        .select("id")
        .where("id", "=", input.clientId)
        .executeTakeFirst();
      if (!c) throw invalid("body.clientId", "no such client");
    }
    await checkRefs(trx, input);
    await lockList(trx, input.clientId);
    const { rows } = await sql<{ next: number }>`
      select coalesce(max(position) + 1, 0)::int as next from monitoring_ticket_rules
      where client_id is not distinct from ${input.clientId}::uuid`.execute(trx);
    const row = await trx
      .insertInto("monitoring_ticket_rules")
      .values({ ...values(input), client_id: input.clientId, position: rows[0]?.next ?? 0 })
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(trx, actor, "create", row, { after: input });
    return toDto(row);
  });
}

async function lockRule(trx: Transaction<DB>, actor: Actor, id: string) {
  const row = await trx
    .selectFrom("monitoring_ticket_rules")
    .selectAll()
    .where("id", "=", id)
    .forUpdate()
    .executeTakeFirst();
  if (!row || (row.client_id ? !canSeeClient(actor, row.client_id) : actor.clientIds !== null))
    throw notFound("Ticket rule");
  authorize(actor, row.client_id);
  return row;
}

export async function updateRule(db: Database, actor: Actor, id: string, input: Fields) {
  requireRole(actor, "admin", "dispatcher");
  return db.transaction().execute(async (trx) => {
    const row = await lockRule(trx, actor, id);
    if (row.version !== input.version) throw versionConflict("ticket rule", toDto(row));
    await checkRefs(trx, input);
    const next = await trx
      .updateTable("monitoring_ticket_rules")
      .set({ ...values(input), version: row.version + 1 })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await audit(trx, actor, "update", next, { before: toDto(row), after: input });
    return toDto(next);
  });
}

export async function deleteRule(db: Database, actor: Actor, id: string) {
  requireRole(actor, "admin", "dispatcher");
  await db.transaction().execute(async (trx) => {
    const row = await lockRule(trx, actor, id);
    await trx.deleteFrom("monitoring_ticket_rules").where("id", "=", id).execute();
    await audit(trx, actor, "delete", row, { before: toDto(row) });
  });
}

/** Puts one list in the given order; it must name every rule of the list, once. */
export async function reorderRules(
  db: Database,
  actor: Actor,
  input: z.output<typeof ReorderTicketRulesRequest>,
) {
  authorize(actor, input.clientId);
  await db.transaction().execute(async (trx) => {
    await lockList(trx, input.clientId);
    const rows = await trx
      .selectFrom("monitoring_ticket_rules")
      .selectAll()
      .where((eb) => (input.clientId ? eb("client_id", "=", input.clientId) : eb("client_id", "is", null)))
      .orderBy("position")
      .orderBy("created_at")
      .execute();
    const ids = new Set(rows.map((r) => r.id));
    if (new Set(input.ids).size !== input.ids.length) throw invalid("body.ids", "names a rule twice");
    input.ids.forEach((id, i) => {
      if (!ids.has(id)) throw invalid(`body.ids.${i}`, "no such rule in this list");
    });
    if (input.ids.length !== rows.length) throw invalid("body.ids", "must name every rule of the list");
    await sql`
      update monitoring_ticket_rules r set position = v.position, version = r.version + 1, updated_at = now()
      from unnest(${input.ids}::uuid[]) with ordinality as v(id, position)
      where r.id = v.id`.execute(trx);
    const first = rows[0];
    if (first)
      await recordChange(
        trx,
        actor,
        {
          action: "monitoring.ticket_rule_reorder",
          entityType: "monitoring_ticket_rule",
          entityId: first.id,
          clientId: input.clientId,
          before: { ids: rows.map((r) => r.id) },
          after: { ids: input.ids },
        },
        { type: "monitoring.policy_changed", clientId: input.clientId, payload: {} },
      );
  });
  return (await listRules(db, actor)).filter((r) => r.clientId === input.clientId);
}
