import {
  type CheckConfig,
  type CheckDefinition,
  type CheckRemediation,
  type ChecksPayload,
  checksMessage,
} from "@switchboard/shared";
import { sql, type Transaction } from "kysely";
import type { Database } from "../../db/database.ts";
import type { AlertSeverity, DB } from "../../db/schema.ts";
import { type ServerKey, signText } from "../agents/signing-key.ts";

export interface EffectiveCheck {
  id: string;
  kind: string;
  name: string;
  config: CheckConfig;
  interval_seconds: number;
  severity: AlertSeverity;
  fail_after: number;
  pass_after: number;
  remediation: CheckRemediation | null;
  policy_id: string;
  /** See POLICY_LEVEL: the most specific wins. */
  level: number;
}

/**
 * Whether policy `p` reaches device `d` (the aliases the queries use): the MSP default, the device's
 * client, its site, the device itself, or a tag the device carries (every client's devices with that tag,
 * or one client's). Shared by checks and scheduled tasks, so both inherit the same way.
 */
export const POLICY_REACHES = sql`(
  (p.tag is null and (
    p.client_id is null
    or (p.client_id = d.client_id and p.site_id is null and p.device_id is null)
    or (p.site_id = d.site_id and p.device_id is null)
    or p.device_id = d.id))
  or (p.tag is not null and d.tags @> array[p.tag] and (p.client_id is null or p.client_id = d.client_id)))`;

/**
 * Inheritance order, least specific first: 0 MSP default, 1 client, 2 site, 3 an MSP-wide tag, 4 a
 * client's tag, 5 the device. A check (or task) of the same kind and name at a higher level replaces the
 * inherited one; a disabled one there switches it off.
 */
export const POLICY_LEVEL = sql<number>`case when p.device_id is not null then 5
  when p.tag is not null and p.client_id is not null then 4 when p.tag is not null then 3
  when p.site_id is not null then 2 when p.client_id is not null then 1 else 0 end`;

/**
 * The checks that apply to each device: policies of the MSP, its client, its site, its tags and the
 * device itself, inherited downwards (POLICY_LEVEL). A check of the same kind and name lower down replaces an inherited one (an
 * override), and a disabled one there switches it off (an exclusion).
 */
export async function effectiveChecks(
  db: Database | Transaction<DB>,
  deviceIds: string[],
): Promise<Map<string, EffectiveCheck[]>> {
  const out = new Map<string, EffectiveCheck[]>(deviceIds.map((id) => [id, []]));
  if (!deviceIds.length) return out;
  const { rows } = await sql<EffectiveCheck & { device_id: string; enabled: boolean }>`
    select distinct on (d.id, c.kind, c.name) d.id as device_id, c.id, c.kind, c.name, c.config,
      c.interval_seconds, c.severity, c.fail_after, c.pass_after, c.remediation, c.enabled, c.policy_id,
      ${POLICY_LEVEL} as level
    from devices d
    join monitoring_policies p on p.enabled and ${POLICY_REACHES}
    join monitoring_checks c on c.policy_id = p.id
    where d.id = any(${deviceIds}::uuid[]) and d.retired_at is null
    order by d.id, c.kind, c.name, level desc, c.created_at desc`.execute(db);
  for (const r of rows) {
    if (!r.enabled) continue;
    const { device_id, enabled: _e, ...check } = r;
    out.get(device_id)?.push(check);
  }
  return out;
}

/** The signed `checks` frame: the agent runs exactly these, replacing what it ran before. */
export function checksFrame(
  key: ServerKey,
  deviceId: string,
  checks: EffectiveCheck[],
  summarySeconds: number,
) {
  const definitions: CheckDefinition[] = checks.map((c) => ({
    id: c.id,
    name: c.name,
    intervalSeconds: c.interval_seconds,
    passAfter: c.pass_after,
    config: c.config,
  }));
  const payload: ChecksPayload = {
    v: 1,
    deviceId,
    issuedAt: new Date().toISOString(),
    summarySeconds,
    checks: definitions,
  };
  const text = JSON.stringify(payload);
  return JSON.stringify({
    type: "checks",
    payload: text,
    signature: signText(key.privateKey, checksMessage(text)),
  });
}
