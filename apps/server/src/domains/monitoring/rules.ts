import type { AlertSeverity as Severity, TicketRuleDto, UpdateTicketRuleRequest } from "@switchboard/shared";
import { sql, type Transaction } from "kysely";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import type { AlertSeverity, DB } from "../../db/schema.ts";
import { invalid, notFound } from "../../http/errors.ts";
import { recordChange } from "../audit/record.ts";
import { type Actor, canSeeClient, requireRole } from "../auth/actor.ts";

/** How a client's alerts become tickets (its own rule, else the MSP's, else every alert, unassigned). */
export interface TicketRule {
  minSeverity: AlertSeverity;
  teamId: string | null;
  assigneeId: string | null;
  resolveOnRecovery: boolean;
}

const RANK: Record<AlertSeverity, number> = { critical: 0, high: 1, medium: 2, low: 3 };
export const ticketable = (severity: AlertSeverity, rule: TicketRule) =>
  RANK[severity] <= RANK[rule.minSeverity];

const DEFAULT_RULE: TicketRule = {
  minSeverity: "low",
  teamId: null,
  assigneeId: null,
  resolveOnRecovery: true,
};

/**
 * The rule in force for a client. An assignee who was deactivated or may no longer see the client is
 * left out (the ticket goes to the team), rather than failing the alert's ticket.
 */
export async function ruleFor(trx: Transaction<DB> | Database, clientId: string): Promise<TicketRule> {
  const { rows } = await sql<{
    min_severity: AlertSeverity;
    team_id: string | null;
    assignee_id: string | null;
    assignee_ok: boolean;
    resolve_on_recovery: boolean;
  }>`
    select r.min_severity, r.team_id, r.assignee_id, r.resolve_on_recovery,
      coalesce(u.active and (u.all_clients or exists (
        select 1 from user_clients uc where uc.user_id = u.id and uc.client_id = ${clientId})), false) as assignee_ok
    from monitoring_ticket_rules r left join users u on u.id = r.assignee_id
    where r.client_id = ${clientId} or r.client_id is null
    order by r.client_id nulls last limit 1`.execute(trx);
  const r = rows[0];
  if (!r) return DEFAULT_RULE;
  return {
    minSeverity: r.min_severity,
    teamId: r.team_id,
    assigneeId: r.assignee_ok ? r.assignee_id : null,
    resolveOnRecovery: r.resolve_on_recovery,
  };
}

const toDto = (r: {
  id: string;
  client_id: string | null;
  min_severity: AlertSeverity;
  team_id: string | null;
  assignee_id: string | null;
  resolve_on_recovery: boolean;
}): TicketRuleDto => ({
  id: r.id,
  clientId: r.client_id,
  minSeverity: r.min_severity as Severity,
  teamId: r.team_id,
  assigneeId: r.assignee_id,
  resolveOnRecovery: r.resolve_on_recovery,
});

export async function listRules(db: Database, actor: Actor) {
  const rows = await db.selectFrom("monitoring_ticket_rules").selectAll().execute();
  return rows.filter((r) => r.client_id === null || canSeeClient(actor, r.client_id)).map(toDto);
}

/** Sets the rule of a client (or the MSP's, clientId null): one per client, replaced whole. */
export async function setRule(db: Database, actor: Actor, input: z.output<typeof UpdateTicketRuleRequest>) {
  requireRole(actor, "admin", "dispatcher");
  if (input.clientId === null ? actor.clientIds !== null : !canSeeClient(actor, input.clientId))
    throw invalid("body.clientId", "no such client");
  return db.transaction().execute(async (trx) => {
    if (input.clientId) {
      const c = await trx
        .selectFrom("clients")
        .select("id")
        .where("id", "=", input.clientId)
        .executeTakeFirst();
      if (!c) throw invalid("body.clientId", "no such client");
    }
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
    const values = {
      client_id: input.clientId,
      min_severity: input.minSeverity,
      team_id: input.teamId,
      assignee_id: input.assigneeId,
      resolve_on_recovery: input.resolveOnRecovery,
      updated_at: new Date(),
    };
    const existing = await trx
      .selectFrom("monitoring_ticket_rules")
      .select("id")
      .where((eb) => (input.clientId ? eb("client_id", "=", input.clientId) : eb("client_id", "is", null)))
      .forUpdate()
      .executeTakeFirst();
    const row = existing
      ? await trx
          .updateTable("monitoring_ticket_rules")
          .set(values)
          .where("id", "=", existing.id)
          .returningAll()
          .executeTakeFirstOrThrow()
      : await trx
          .insertInto("monitoring_ticket_rules")
          .values(values)
          .returningAll()
          .executeTakeFirstOrThrow();
    await recordChange(
      trx,
      actor,
      {
        action: "monitoring.ticket_rule_set",
        entityType: "monitoring_ticket_rule",
        entityId: row.id,
        clientId: row.client_id,
        after: input,
      },
      { type: "monitoring.policy_changed", clientId: row.client_id, payload: { ruleId: row.id } },
    );
    return toDto(row);
  });
}

export async function deleteRule(db: Database, actor: Actor, id: string) {
  requireRole(actor, "admin", "dispatcher");
  await db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom("monitoring_ticket_rules")
      .selectAll()
      .where("id", "=", id)
      .executeTakeFirst();
    if (!row || (row.client_id ? !canSeeClient(actor, row.client_id) : actor.clientIds !== null))
      throw notFound("Ticket rule");
    await trx.deleteFrom("monitoring_ticket_rules").where("id", "=", id).execute();
    await recordChange(
      trx,
      actor,
      {
        action: "monitoring.ticket_rule_delete",
        entityType: "monitoring_ticket_rule",
        entityId: id,
        clientId: row.client_id,
        before: toDto(row),
      },
      { type: "monitoring.policy_changed", clientId: row.client_id, payload: { ruleId: id } },
    );
  });
}
