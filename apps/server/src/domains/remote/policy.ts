import type { RemotePolicyDto, UpdateRemotePolicyRequest } from "@switchboard/shared";
import type { Kysely, Transaction } from "kysely";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import type { DB } from "../../db/schema.ts";
import { AppError, forbidden, invalid, notFound, versionConflict } from "../../http/errors.ts";
import { recordChange } from "../audit/record.ts";
import { type Actor, assertClientVisible, requireRole, requireUser, requireWriter } from "../auth/actor.ts";
import { visibleClient } from "../clients/service.ts";
import { controlConsented } from "./support/agent.ts";

type Db = Kysely<DB> | Transaction<DB>;
type Role = RemotePolicyDto["shellRoles"][number];

export const DEFAULT_POLICY = {
  shellRoles: ["admin", "technician"] as Role[],
  fileRoles: ["admin", "technician"] as Role[],
  requireConsent: false,
  idleTimeoutSeconds: 900,
};

export async function loadPolicy(db: Db, clientId: string): Promise<RemotePolicyDto> {
  const row = await db
    .selectFrom("remote_policies")
    .selectAll()
    .where("client_id", "=", clientId)
    .executeTakeFirst();
  if (!row) return { clientId, ...DEFAULT_POLICY, version: 1, updatedAt: null };
  return {
    clientId,
    shellRoles: row.shell_roles as Role[],
    fileRoles: row.file_roles as Role[],
    requireConsent: row.require_consent,
    idleTimeoutSeconds: row.idle_timeout_seconds,
    version: row.version,
    updatedAt: row.updated_at.toISOString(),
  };
}

export async function getPolicy(db: Database, actor: Actor, clientId: string) {
  await visibleClient(db, actor, clientId);
  return loadPolicy(db, clientId);
}

export async function updatePolicy(
  db: Database,
  actor: Actor,
  clientId: string,
  input: z.output<typeof UpdateRemotePolicyRequest>,
) {
  requireRole(actor, "admin");
  return db.transaction().execute(async (trx) => {
    await visibleClient(trx, actor, clientId);
    await trx
      .selectFrom("clients")
      .select("id")
      .where("id", "=", clientId)
      .forUpdate()
      .executeTakeFirstOrThrow();
    const before = await loadPolicy(trx, clientId);
    if (before.version !== input.version) throw versionConflict("remote access policy", before);
    const values = {
      shell_roles: [...new Set(input.shellRoles)],
      file_roles: [...new Set(input.fileRoles)],
      require_consent: input.requireConsent,
      idle_timeout_seconds: input.idleTimeoutSeconds,
      updated_at: new Date(),
      updated_by_user_id: actor.userId,
    };
    await trx
      .insertInto("remote_policies")
      .values({ client_id: clientId, ...values, version: before.version + 1 })
      .onConflict((oc) => oc.column("client_id").doUpdateSet({ ...values, version: before.version + 1 }))
      .execute();
    const after = await loadPolicy(trx, clientId);
    await recordChange(
      trx,
      actor,
      { action: "remote.policy_update", entityType: "client", entityId: clientId, clientId, before, after },
      { type: "remote.policy_updated", clientId, payload: { clientId } },
    );
    return after;
  });
}

export type RemoteAccessKind = "shell" | "files";

export interface Authorized {
  device: { id: string; client_id: string; hostname: string; platform: string };
  policy: RemotePolicyDto;
  ticketId: string | null;
  supportSessionId: string | null;
}

/**
 * May this user open a shell (or move files) on this device now? The device must be visible and not
 * retired, the client's policy must allow the user's role, a ticket must be the same client's, and when
 * the policy requires consent, the caller must have allowed exactly this on exactly this device in the
 * user's own attended support session, which must still be going on.
 */
export async function authorizeRemote(
  db: Db,
  actor: Actor,
  deviceId: string,
  kind: RemoteAccessKind,
  opts: { ticketId?: string; supportSessionId?: string },
): Promise<Authorized> {
  requireWriter(actor);
  const userId = requireUser(actor);
  const device = await db
    .selectFrom("devices")
    .select(["id", "client_id", "hostname", "platform", "retired_at", "support_session_id"])
    .where("id", "=", deviceId)
    .executeTakeFirst();
  if (!device) throw notFound("Device");
  assertClientVisible(actor, device.client_id, "Device");
  if (device.retired_at) throw new AppError("invalid_transition", 409, "The device is retired");
  const policy = await loadPolicy(db, device.client_id);
  const roles = kind === "shell" ? policy.shellRoles : policy.fileRoles;
  if (!roles.includes(actor.role as Role)) {
    throw forbidden(
      `This client's remote access policy does not allow the ${actor.role} role to ${kind === "shell" ? "open a shell" : "move files"}`,
    );
  }
  let ticketId = opts.ticketId ?? null;
  if (ticketId) {
    const t = await db
      .selectFrom("tickets")
      .select("client_id")
      .where("id", "=", ticketId)
      .executeTakeFirst();
    if (!t) throw notFound("Ticket");
    assertClientVisible(actor, t.client_id, "Ticket");
    if (t.client_id !== device.client_id) throw invalid("body.ticketId", "is a ticket of another client");
  }
  let supportSessionId: string | null = null;
  // A support agent's device serves only its own session, and so only that session's technician.
  if (device.support_session_id) {
    if (opts.supportSessionId && opts.supportSessionId !== device.support_session_id) {
      throw invalid("body.supportSessionId", "is not the support session this device belongs to");
    }
    opts = { ...opts, supportSessionId: device.support_session_id };
  }
  if (opts.supportSessionId) {
    const s = await db
      .selectFrom("support_sessions")
      .select(["id", "client_id", "ticket_id", "status", "technician_user_id"])
      .where("id", "=", opts.supportSessionId)
      .executeTakeFirst();
    if (!s || s.client_id !== device.client_id || s.technician_user_id !== userId) {
      throw invalid("body.supportSessionId", "is not your support session with this client");
    }
    supportSessionId = s.id;
    ticketId ??= s.ticket_id;
  }
  if (device.support_session_id) {
    // The caller's consent to control is what lets anyone in: it must still stand, in an active session.
    if (!(await controlConsented(db, device.support_session_id))) {
      throw forbidden("The caller has not allowed control in this support session, or it has ended");
    }
  } else if (policy.requireConsent) {
    const consent = supportSessionId ? await currentConsent(db, supportSessionId, kind, deviceId) : null;
    if (!consent) {
      throw forbidden(
        "This client requires the consent of the person at the machine: ask for it in an attended support session",
      );
    }
  }
  return { device, policy, ticketId, supportSessionId };
}

/** The caller's latest answer about `kind` on this device, if the session is still active and it was yes. */
async function currentConsent(db: Db, sessionId: string, kind: RemoteAccessKind, deviceId: string) {
  const s = await db
    .selectFrom("support_sessions")
    .select("status")
    .where("id", "=", sessionId)
    .executeTakeFirst();
  if (s?.status !== "active") return null;
  const last = await db
    .selectFrom("support_session_events")
    .select(["data"])
    .where("session_id", "=", sessionId)
    .where("kind", "=", "consent")
    .where((eb) => eb(eb.ref("data", "->>").key("scope"), "=", kind))
    .where((eb) => eb(eb.ref("data", "->>").key("deviceId"), "=", deviceId))
    .orderBy("id", "desc")
    .executeTakeFirst();
  return last?.data?.granted === true ? last : null;
}
