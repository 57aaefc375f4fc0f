import type {
  CheckDto,
  CheckInput,
  CreatePolicyRequest,
  PolicyDto,
  UpdatePolicyRequest,
} from "@switchboard/shared";
import { sql, type Transaction } from "kysely";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import type { AlertSeverity, DB } from "../../db/schema.ts";
import { invalid, notFound, versionConflict } from "../../http/errors.ts";
import { recordChange } from "../audit/record.ts";
import { type Actor, canSeeClient, requireRole } from "../auth/actor.ts";
import { resolveTaskAlerts } from "./tasks.ts";
import { resolveTicketUnlessShared } from "./tickets.ts";

interface CheckRow {
  id: string;
  kind: string;
  name: string;
  config: unknown;
  interval_seconds: number;
  severity: AlertSeverity;
  fail_after: number;
  pass_after: number;
  enabled: boolean;
  remediation: unknown;
  uplink_site_id: string | null;
  uplink_site_name: string | null;
  uplink_client_id: string | null;
  uplink_client_name: string | null;
}
type CheckIn = z.output<typeof CheckInput>;

export function toCheckDto(c: CheckRow): CheckDto {
  return {
    id: c.id,
    kind: c.kind as CheckDto["kind"],
    name: c.name,
    config: c.config as CheckDto["config"],
    intervalSeconds: c.interval_seconds,
    severity: c.severity,
    failAfter: c.fail_after,
    passAfter: c.pass_after,
    enabled: c.enabled,
    remediation: (c.remediation as CheckDto["remediation"]) ?? null,
    uplink:
      c.uplink_site_id && c.uplink_site_name !== null && c.uplink_client_id && c.uplink_client_name !== null
        ? {
            siteId: c.uplink_site_id,
            siteName: c.uplink_site_name,
            clientId: c.uplink_client_id,
            clientName: c.uplink_client_name,
          }
        : null,
  };
}

/** Policies the actor may see: the MSP's own (every client) and their clients'. */
export async function listPolicies(db: Database, actor: Actor, ids?: string[]): Promise<PolicyDto[]> {
  let q = db
    .selectFrom("monitoring_policies as p")
    .leftJoin("clients as c", "c.id", "p.client_id")
    .leftJoin("sites as s", "s.id", "p.site_id")
    .leftJoin("devices as d", "d.id", "p.device_id")
    .selectAll("p")
    .select(["c.name as client_name", "s.name as site_name", "d.hostname"]);
  if (ids) q = q.where("p.id", "in", ids.length ? ids : ["00000000-0000-0000-0000-000000000000"]);
  const policies = (await q.orderBy("c.name").orderBy("p.name").execute()).filter(
    (p) => p.client_id === null || canSeeClient(actor, p.client_id),
  );
  const checks = policies.length
    ? await db
        .selectFrom("monitoring_checks as mc")
        .leftJoin("sites as us", "us.id", "mc.uplink_site_id")
        .leftJoin("clients as uc", "uc.id", "us.client_id")
        .selectAll("mc")
        .select(["us.name as uplink_site_name", "uc.id as uplink_client_id", "uc.name as uplink_client_name"])
        .where(
          "mc.policy_id",
          "in",
          policies.map((p) => p.id),
        )
        .orderBy("mc.created_at")
        .execute()
    : [];
  return policies.map((p) => ({
    id: p.id,
    name: p.name,
    enabled: p.enabled,
    clientId: p.client_id,
    clientName: p.client_name,
    siteId: p.site_id,
    siteName: p.site_name,
    deviceId: p.device_id,
    hostname: p.hostname,
    tag: p.tag,
    checks: checks.filter((c) => c.policy_id === p.id).map(toCheckDto),
    version: p.version,
  }));
}

/** The MSP default needs an admin who sees every client; a client's policies, an admin or dispatcher of it. */
export function authorize(actor: Actor, clientId: string | null) {
  requireRole(actor, "admin", "dispatcher");
  if (clientId === null) {
    requireRole(actor, "admin");
    if (actor.clientIds !== null) throw invalid("body.clientId", "required: you manage only some clients");
  } else if (!canSeeClient(actor, clientId)) throw invalid("body.clientId", "no such client");
}

async function checkScope(
  trx: Transaction<DB>,
  s: { clientId: string | null; siteId: string | null; deviceId: string | null; tag: string | null },
) {
  if (s.tag && (s.siteId || s.deviceId))
    throw invalid(
      "body.tag",
      "a tag policy reaches a client's (or every client's) tagged devices, not a site or device",
    );
  if ((s.siteId || s.deviceId) && !s.clientId)
    throw invalid("body.clientId", "required with a site or device");
  if (s.clientId) {
    const c = await trx.selectFrom("clients").select("id").where("id", "=", s.clientId).executeTakeFirst();
    if (!c) throw invalid("body.clientId", "no such client");
  }
  if (s.siteId) {
    const site = await trx
      .selectFrom("sites")
      .select("client_id")
      .where("id", "=", s.siteId)
      .executeTakeFirst();
    if (site?.client_id !== s.clientId) throw invalid("body.siteId", "no such site of this client");
  }
  if (s.deviceId) {
    const d = await trx
      .selectFrom("devices")
      .select("client_id")
      .where("id", "=", s.deviceId)
      .executeTakeFirst();
    if (d?.client_id !== s.clientId) throw invalid("body.deviceId", "no such device of this client");
  }
}

function checkValues(c: CheckIn) {
  return {
    kind: c.config.kind,
    name: c.name,
    config: JSON.stringify(c.config),
    interval_seconds: c.intervalSeconds,
    severity: c.severity,
    fail_after: c.failAfter,
    pass_after: c.passAfter,
    enabled: c.enabled,
    remediation: c.remediation ? JSON.stringify(c.remediation) : null,
    uplink_site_id: c.uplinkSiteId,
  };
}

const UPLINK_KINDS = new Set(["ping", "tcp", "http"]);

/**
 * A check watching a site's connection: only a network probe can, and only of a site the actor sees (it
 * may be another client's than the policy's: a probe at the office watching a client's line).
 */
async function checkUplinks(trx: Transaction<DB>, actor: Actor, checks: CheckIn[]) {
  for (const [i, c] of checks.entries()) {
    if (!c.uplinkSiteId) continue;
    if (!UPLINK_KINDS.has(c.config.kind))
      throw invalid(
        `body.checks.${i}.uplinkSiteId`,
        "only a ping, TCP or HTTP check can watch a site's connection",
      );
    const site = await trx
      .selectFrom("sites")
      .select("client_id")
      .where("id", "=", c.uplinkSiteId)
      .executeTakeFirst();
    if (!site || !canSeeClient(actor, site.client_id))
      throw invalid(`body.checks.${i}.uplinkSiteId`, "no such site");
  }
}

export interface PolicyReach {
  client_id: string | null;
  site_id: string | null;
  device_id: string | null;
  tag: string | null;
}

/** Devices a policy reaches: their agents get their new set of checks. */
export async function devicesOf(db: Database, p: PolicyReach) {
  let q = db.selectFrom("devices").select("id").where("retired_at", "is", null);
  if (p.tag) {
    // The GIN index on tags answers this.
    q = q.where(sql<boolean>`tags @> array[${p.tag}]::text[]`);
    if (p.client_id) q = q.where("client_id", "=", p.client_id);
  } else if (p.device_id) q = q.where("id", "=", p.device_id);
  else if (p.site_id) q = q.where("site_id", "=", p.site_id);
  else if (p.client_id) q = q.where("client_id", "=", p.client_id);
  return (await q.execute()).map((r) => r.id);
}

export async function createPolicy(
  db: Database,
  actor: Actor,
  input: z.output<typeof CreatePolicyRequest>,
): Promise<PolicyDto> {
  authorize(actor, input.clientId);
  const id = await db.transaction().execute(async (trx) => {
    await checkScope(trx, input);
    await checkUplinks(trx, actor, input.checks);
    const p = await trx
      .insertInto("monitoring_policies")
      .values({
        client_id: input.clientId,
        site_id: input.siteId,
        device_id: input.deviceId,
        tag: input.tag,
        name: input.name,
        enabled: input.enabled,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    if (input.checks.length)
      await trx
        .insertInto("monitoring_checks")
        .values(input.checks.map((c) => ({ ...checkValues(c), policy_id: p.id })))
        .execute();
    await recordChange(
      trx,
      actor,
      {
        action: "monitoring.policy_create",
        entityType: "monitoring_policy",
        entityId: p.id,
        clientId: input.clientId,
        after: input,
      },
      { type: "monitoring.policy_changed", clientId: input.clientId, payload: { policyId: p.id } },
    );
    return p.id;
  });
  return (await listPolicies(db, actor, [id]))[0]!;
}

/** Replaces the policy's checks with the given set: listed ids are kept and updated, the rest removed. */
export async function updatePolicy(
  db: Database,
  actor: Actor,
  id: string,
  input: z.output<typeof UpdatePolicyRequest>,
): Promise<PolicyDto> {
  await db.transaction().execute(async (trx) => {
    const p = await trx
      .selectFrom("monitoring_policies")
      .selectAll()
      .where("id", "=", id)
      .forUpdate()
      .executeTakeFirst();
    if (!p || (p.client_id && !canSeeClient(actor, p.client_id))) throw notFound("Policy");
    authorize(actor, p.client_id);
    if (p.version !== input.version)
      throw versionConflict("policy", (await listPolicies(db, actor, [id]))[0]);
    const existing = await trx
      .selectFrom("monitoring_checks")
      .select("id")
      .where("policy_id", "=", id)
      .execute();
    const ids = new Set(existing.map((c) => c.id));
    input.checks.forEach((c, i) => {
      if (c.id && !ids.has(c.id)) throw invalid(`body.checks.${i}.id`, "no such check in this policy");
    });
    await checkUplinks(trx, actor, input.checks);
    const kept = new Set(input.checks.map((c) => c.id).filter(Boolean));
    const removed = [...ids].filter((c) => !kept.has(c));
    await resolveAlertsOf(trx, removed);
    if (removed.length) await trx.deleteFrom("monitoring_checks").where("id", "in", removed).execute();
    for (const c of input.checks) {
      if (c.id)
        await trx
          .updateTable("monitoring_checks")
          .set((eb) => ({ ...checkValues(c), version: eb("version", "+", 1) }))
          .where("id", "=", c.id)
          .execute();
      else
        await trx
          .insertInto("monitoring_checks")
          .values({ ...checkValues(c), policy_id: id })
          .execute();
    }
    await trx
      .updateTable("monitoring_policies")
      .set({ name: input.name, enabled: input.enabled, updated_at: new Date(), version: p.version + 1 })
      .where("id", "=", id)
      .execute();
    await recordChange(
      trx,
      actor,
      {
        action: "monitoring.policy_update",
        entityType: "monitoring_policy",
        entityId: id,
        clientId: p.client_id,
        before: { name: p.name, enabled: p.enabled },
        after: input,
      },
      { type: "monitoring.policy_changed", clientId: p.client_id, payload: { policyId: id } },
    );
  });
  return (await listPolicies(db, actor, [id]))[0]!;
}

export async function deletePolicy(db: Database, actor: Actor, id: string) {
  return db.transaction().execute(async (trx) => {
    const p = await trx
      .selectFrom("monitoring_policies")
      .selectAll()
      .where("id", "=", id)
      .forUpdate()
      .executeTakeFirst();
    if (!p || (p.client_id && !canSeeClient(actor, p.client_id))) throw notFound("Policy");
    authorize(actor, p.client_id);
    const checks = await trx
      .selectFrom("monitoring_checks")
      .select("id")
      .where("policy_id", "=", id)
      .execute();
    await resolveAlertsOf(
      trx,
      checks.map((c) => c.id),
    );
    const tasks = await trx.selectFrom("monitoring_tasks").select("id").where("policy_id", "=", id).execute();
    for (const task of tasks) await resolveTaskAlerts(trx, task.id, "task removed");
    await trx.deleteFrom("monitoring_policies").where("id", "=", id).execute();
    await recordChange(
      trx,
      actor,
      {
        action: "monitoring.policy_delete",
        entityType: "monitoring_policy",
        entityId: id,
        clientId: p.client_id,
        before: { name: p.name },
      },
      { type: "monitoring.policy_changed", clientId: p.client_id, payload: { policyId: id } },
    );
    return p;
  });
}

/** A check removed: its open alerts resolve (with their tickets), nothing is left firing forever. */
async function resolveAlertsOf(trx: Transaction<DB>, checkIds: string[]) {
  if (!checkIds.length) return;
  const { rows } = await sql<{ ticket_id: string | null; name: string }>`
    update monitoring_alerts set state = 'resolved', resolved_at = now(), resolution = 'check removed',
      updated_at = now(), version = version + 1
    where check_id = any(${checkIds}::uuid[]) and state <> 'resolved'
    returning ticket_id, name`.execute(trx);
  for (const r of rows)
    if (r.ticket_id)
      await resolveTicketUnlessShared(
        trx,
        r.ticket_id,
        `The check "${r.name}" was removed; its alert is resolved.`,
      );
}
