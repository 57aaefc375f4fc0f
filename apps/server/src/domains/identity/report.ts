import type { IdentityReportDto } from "@switchboard/shared";
import type { Database } from "../../db/database.ts";
import { notFound } from "../../http/errors.ts";
import { type Actor, assertClientVisible } from "../auth/actor.ts";

/** Per client: the resets, unlocks and forced changes, and the verifications that failed, newest first. */
export async function identityReport(
  db: Database,
  actor: Actor,
  clientId: string,
  days: number,
): Promise<IdentityReportDto> {
  const client = await db.selectFrom("clients").select("id").where("id", "=", clientId).executeTakeFirst();
  if (!client) throw notFound("Client");
  assertClientVisible(actor, clientId, "Client");
  const since = new Date(Date.now() - days * 86_400_000);
  const actions = await db
    .selectFrom("identity_actions as a")
    .innerJoin("contacts as c", "c.id", "a.contact_id")
    .select([
      "a.id",
      "a.action",
      "a.account",
      "a.status",
      "a.error",
      "a.requested_by_label",
      "a.requested_by_user_id",
      "a.ticket_id",
      "a.created_at",
      "c.first_name",
      "c.last_name",
    ])
    .where("a.client_id", "=", clientId)
    .where("a.action", "<>", "discover")
    .where("a.created_at", ">=", since)
    .orderBy("a.created_at", "desc")
    .limit(500)
    .execute();
  const failed = await db
    .selectFrom("identity_verifications as v")
    .innerJoin("contacts as c", "c.id", "v.contact_id")
    .select([
      "v.id",
      "v.status",
      "v.reason",
      "v.started_by_label",
      "v.ticket_id",
      "v.created_at",
      "c.first_name",
      "c.last_name",
    ])
    .where("v.client_id", "=", clientId)
    .where("v.created_at", ">=", since)
    .where((eb) =>
      eb.or([
        eb("v.status", "in", ["failed", "expired"]),
        eb.and([eb("v.status", "=", "pending"), eb("v.expires_at", "<=", new Date())]),
      ]),
    )
    .orderBy("v.created_at", "desc")
    .limit(500)
    .execute();
  const name = (r: { first_name: string; last_name: string }) => `${r.first_name} ${r.last_name}`.trim();
  const rows = actions.map((a) => ({
    id: a.id,
    contactName: name(a),
    action: a.action as "reset_password" | "unlock" | "force_change",
    account: a.account,
    status: a.status,
    error: a.error,
    requestedBy: a.requested_by_label,
    // Requested by no technician: the contact did it from the portal.
    selfService: a.requested_by_user_id === null,
    ticketId: a.ticket_id,
    createdAt: a.created_at.toISOString(),
  }));
  return {
    clientId,
    since: since.toISOString(),
    totals: {
      resetsDone: rows.filter((r) => r.status === "succeeded").length,
      resetsFailed: rows.filter((r) => r.status === "failed").length,
      selfService: rows.filter((r) => r.selfService && r.status === "succeeded").length,
      verificationsFailed: failed.length,
    },
    actions: rows,
    failedVerifications: failed.map((v) => ({
      id: v.id,
      contactName: name(v),
      status: v.status === "pending" ? ("expired" as const) : (v.status as "failed" | "expired"),
      reason: v.reason ?? (v.status === "pending" ? "not completed in time" : null),
      startedBy: v.started_by_label,
      ticketId: v.ticket_id,
      createdAt: v.created_at.toISOString(),
    })),
  };
}
