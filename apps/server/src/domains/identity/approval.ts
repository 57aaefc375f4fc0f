import { asSystem } from "../../db/scope.ts";
import { AppError } from "../../http/errors.ts";
import { serverKeys, verifyToken } from "../../lib/server-keys.ts";
import type { Actor } from "../auth/actor.ts";
import { fail, type IdentityDeps, settle } from "./verify.ts";

// A manager's approval by signed link: the approver (another contact of the client, flagged approver)
// opens the mailed link; the signed token is the credential of these public routes.

async function approvalFromToken(deps: IdentityDeps, token: string) {
  const data = verifyToken<{ c: string }>(await serverKeys(deps.config), "identity.approval", token);
  if (!data?.c) throw new AppError("not_found", 404, "This approval link is not valid or has expired");
  return data.c;
}

export async function describeApproval(deps: IdentityDeps, token: string) {
  const challengeId = await approvalFromToken(deps, token);
  return asSystem(async () => {
    const row = await deps.db
      .selectFrom("identity_challenges as ch")
      .innerJoin("identity_verifications as v", "v.id", "ch.verification_id")
      .innerJoin("contacts as c", "c.id", "v.contact_id")
      .leftJoin("contacts as a", "a.id", "ch.approver_contact_id")
      .leftJoin("tickets as t", "t.id", "v.ticket_id")
      .select([
        "ch.status",
        "ch.expires_at",
        "c.first_name",
        "c.last_name",
        "a.first_name as a_first",
        "a.last_name as a_last",
        "t.number",
        "v.started_by_label",
      ])
      .where("ch.id", "=", challengeId)
      .where("ch.method", "=", "manager")
      .executeTakeFirst();
    if (!row) throw new AppError("not_found", 404, "This approval link is not valid or has expired");
    return {
      contactName: `${row.first_name} ${row.last_name}`.trim(),
      approverName: `${row.a_first ?? ""} ${row.a_last ?? ""}`.trim(),
      ticketNumber: row.number ?? null,
      requestedBy: row.started_by_label,
      status: row.status === "sent" && row.expires_at <= new Date() ? ("expired" as const) : row.status,
      expiresAt: row.expires_at.toISOString(),
    };
  });
}

/** The approver's answer: once, before the link expires, while the verification is pending. */
export async function decideApproval(deps: IdentityDeps, token: string, approve: boolean, ip?: string) {
  const challengeId = await approvalFromToken(deps, token);
  await asSystem(() =>
    deps.db.transaction().execute(async (trx) => {
      const ch = await trx
        .selectFrom("identity_challenges")
        .selectAll()
        .where("id", "=", challengeId)
        .where("method", "=", "manager")
        .forUpdate()
        .executeTakeFirst();
      if (!ch) throw new AppError("not_found", 404, "This approval link is not valid or has expired");
      const v = await trx
        .selectFrom("identity_verifications")
        .selectAll()
        .where("id", "=", ch.verification_id)
        .forUpdate()
        .executeTakeFirstOrThrow();
      if (ch.status !== "sent" || v.status !== "pending")
        throw new AppError("invalid_transition", 409, "This request was already answered or closed");
      if (ch.expires_at <= new Date())
        throw new AppError(
          "invalid_transition",
          409,
          "This request expired; the technician can send a new one",
        );
      const approver = await trx
        .selectFrom("contacts")
        .select(["first_name", "last_name"])
        .where("id", "=", ch.approver_contact_id!)
        .executeTakeFirst();
      const actor: Actor = {
        kind: "system",
        userId: null,
        name: `approver ${`${approver?.first_name ?? ""} ${approver?.last_name ?? ""}`.trim()}`,
        role: "admin",
        clientIds: [v.client_id],
        teamIds: [],
        timezone: "UTC",
        via: "system",
        ip,
      };
      await trx
        .updateTable("identity_challenges")
        .set({ status: approve ? "passed" : "denied", decided_at: new Date() })
        .where("id", "=", ch.id)
        .execute();
      if (approve) await settle(trx, actor, v, "manager");
      else await fail(trx, actor, v, "the manager denied it");
    }),
  );
  return describeApproval(deps, token);
}
