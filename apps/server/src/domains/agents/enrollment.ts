import type { CreateEnrollmentTokenRequest, EnrollRequest } from "@switchboard/shared";
import { AGENT_WS_PATH } from "@switchboard/shared";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import { AppError, invalid, notFound } from "../../http/errors.ts";
import { writeAudit } from "../audit/audit.ts";
import { type Actor, assertClientVisible, canSeeClient, requireRole, systemActor } from "../auth/actor.ts";
import { newSecret, sha256 } from "../auth/crypto.ts";
import { emitEvent } from "../events/outbox.ts";
import { availableBuilds, type PlatformInstall, platformInstalls } from "./builds.ts";
import { type TokenRow, tokenStatus } from "./dto.ts";
import type { ServerKey } from "./signing-key.ts";

type CreateInput = z.output<typeof CreateEnrollmentTokenRequest>;

/**
 * One line per OS that downloads the agent from this server and enrolls it as a service, for the
 * builds this server has; an OS without a build gets an empty string (see `platforms` for why).
 */
export function installCommands(
  baseUrl: string,
  token: string,
  fingerprint: string,
  have = availableBuilds(),
) {
  const p = platformInstalls(baseUrl, token, fingerprint, have);
  const cmd = (k: PlatformInstall["key"]) => p.find((x) => x.key === k)?.command ?? "";
  return { linux: cmd("linux"), macos: cmd("macos"), windows: cmd("windows") };
}

export async function createEnrollmentToken(db: Database, actor: Actor, input: CreateInput) {
  requireRole(actor, "admin");
  return db.transaction().execute(async (trx) => {
    const client = await trx
      .selectFrom("clients")
      .select("id")
      .where("id", "=", input.clientId)
      .executeTakeFirst();
    if (!client) throw notFound("Client");
    assertClientVisible(actor, client.id, "Client");
    if (input.siteId) {
      const site = await trx
        .selectFrom("sites")
        .select("client_id")
        .where("id", "=", input.siteId)
        .executeTakeFirst();
      if (site?.client_id !== client.id) throw invalid("body.siteId", "no such site for this client");
    }
    const token = newSecret("sbe_");
    const row = await trx
      .insertInto("enrollment_tokens")
      .values({
        client_id: client.id,
        site_id: input.siteId ?? null,
        label: input.label,
        token_hash: sha256(token),
        prefix: token.slice(0, 10),
        max_uses: input.maxUses,
        expires_at: new Date(Date.now() + input.expiresInHours * 3600_000),
        created_by_user_id: actor.userId,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await writeAudit(trx, actor, {
      action: "enrollment_token.created",
      entityType: "enrollment_token",
      entityId: row.id,
      clientId: row.client_id,
      after: { siteId: row.site_id, label: row.label, maxUses: row.max_uses, expiresAt: row.expires_at },
    });
    return { row, token };
  });
}

export async function listEnrollmentTokens(db: Database, actor: Actor, clientId?: string) {
  requireRole(actor, "admin");
  if (actor.clientIds && !actor.clientIds.length) return [];
  let q = db.selectFrom("enrollment_tokens").selectAll().orderBy("created_at", "desc").limit(500);
  if (clientId) q = q.where("client_id", "=", clientId);
  if (actor.clientIds) q = q.where("client_id", "in", actor.clientIds);
  return q.execute();
}

export async function revokeEnrollmentToken(db: Database, actor: Actor, id: string) {
  requireRole(actor, "admin");
  return db.transaction().execute(async (trx) => {
    const t = await trx
      .selectFrom("enrollment_tokens")
      .selectAll()
      .where("id", "=", id)
      .forUpdate()
      .executeTakeFirst();
    if (!t || !canSeeClient(actor, t.client_id)) throw notFound("Enrollment token");
    if (t.revoked_at) return t;
    const row = await trx
      .updateTable("enrollment_tokens")
      .set({ revoked_at: new Date() })
      .where("id", "=", id)
      .returningAll()
      .executeTakeFirstOrThrow();
    await writeAudit(trx, actor, {
      action: "enrollment_token.revoked",
      entityType: "enrollment_token",
      entityId: id,
      clientId: t.client_id,
      before: { revokedAt: null },
      after: { revokedAt: row.revoked_at },
    });
    return row;
  });
}

function refusal(t: TokenRow | undefined): AppError {
  if (!t) return new AppError("unauthenticated", 401, "The enrollment token is not valid");
  switch (tokenStatus(t)) {
    case "revoked":
      return new AppError("forbidden", 403, "The enrollment token has been revoked");
    case "expired":
      return new AppError("forbidden", 403, `The enrollment token expired at ${t.expires_at.toISOString()}`);
    case "exhausted":
      return new AppError(
        "forbidden",
        403,
        `The enrollment token has been used ${t.uses} of ${t.max_uses} times`,
      );
    default:
      return new AppError("conflict", 409, "The enrollment token could not be used; try again");
  }
}

/**
 * Makes a device from a valid token: the use is counted in the same statement that checks the token,
 * so a token for N machines enrolls N machines even when they all arrive at once.
 */
export async function enrollDevice(db: Database, key: ServerKey, input: EnrollRequest, ip: string) {
  const hash = sha256(input.token);
  return db.transaction().execute(async (trx) => {
    const token = await trx
      .updateTable("enrollment_tokens")
      .set((eb) => ({ uses: eb("uses", "+", 1) }))
      .where("token_hash", "=", hash)
      .where("revoked_at", "is", null)
      .where("expires_at", ">", new Date())
      .whereRef("uses", "<", "max_uses")
      .returningAll()
      .executeTakeFirst();
    if (!token) {
      throw refusal(
        await trx
          .selectFrom("enrollment_tokens")
          .selectAll()
          .where("token_hash", "=", hash)
          .executeTakeFirst(),
      );
    }
    const device = await trx
      .insertInto("devices")
      .values({
        client_id: token.client_id,
        site_id: token.site_id,
        hostname: input.hostname,
        platform: input.platform,
        arch: input.arch,
        os_name: input.osName,
        os_version: input.osVersion,
        agent_version: input.agentVersion,
        public_key: input.publicKey,
        enrollment_token_id: token.id,
        last_address: ip,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    const actor = { ...systemActor("enrollment"), ip };
    await writeAudit(trx, actor, {
      action: "device.enrolled",
      entityType: "device",
      entityId: device.id,
      clientId: device.client_id,
      after: {
        hostname: device.hostname,
        platform: device.platform,
        tokenId: token.id,
        tokenPrefix: token.prefix,
      },
    });
    await emitEvent(trx, actor, {
      type: "device.enrolled",
      clientId: device.client_id,
      payload: { deviceId: device.id, hostname: device.hostname },
    });
    return {
      deviceId: device.id,
      serverPublicKey: key.publicKey,
      gatewayPath: AGENT_WS_PATH,
      heartbeatSeconds: 0,
    };
  });
}
