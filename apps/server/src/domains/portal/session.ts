import type { FastifyReply } from "fastify";
import { sql } from "kysely";
import type { Config } from "../../config.ts";
import type { Database } from "../../db/database.ts";
import { asSystem } from "../../db/scope.ts";
import type { Actor } from "../auth/actor.ts";
import { newSecret, sha256 } from "../auth/crypto.ts";

/** The portal's own cookie: a staff session never opens portal routes, nor this one staff routes. */
export const PORTAL_COOKIE = "sb_portal";

interface PortalPrincipal {
  contact_id: string;
  client_id: string;
  company_admin: boolean;
  first_name: string;
  last_name: string;
}

/**
 * The contact a portal session cookie stands for, or null (unknown, expired, account disabled, contact
 * deactivated). The lookup runs in the system scope: it verifies the credential that decides the scope.
 */
export async function actorFromPortalSession(
  db: Database,
  token: string,
  ip?: string,
  requestId?: string,
): Promise<Actor | null> {
  const hash = sha256(token);
  const { rows } = await asSystem(() =>
    sql<PortalPrincipal>`/*prepared*/
      select a.contact_id, a.client_id, a.company_admin, c.first_name, c.last_name
      from portal_sessions s
      join portal_accounts a on a.contact_id = s.contact_id
      join contacts c on c.id = a.contact_id
      join clients cl on cl.id = a.client_id
      where s.token_hash = ${hash} and s.expires_at > now() and a.enabled and c.active and cl.active`.execute(
      db,
    ),
  );
  const p = rows[0];
  return p ? contactActor(p, ip, requestId) : null;
}

export function contactActor(p: PortalPrincipal, ip?: string, requestId?: string): Actor {
  return {
    kind: "contact",
    userId: null,
    name: `${p.first_name} ${p.last_name}`.trim(),
    // Never consulted for a contact (policies and requireRole refuse them); the least there is.
    role: "readonly",
    clientIds: [p.client_id],
    teamIds: [],
    timezone: "UTC",
    via: "portal",
    ip,
    requestId,
    contact: { id: p.contact_id, clientId: p.client_id, companyAdmin: p.company_admin },
  };
}

/** Opens a portal session for a contact whose credential was just verified (system scope). */
export async function openPortalSession(
  db: Database,
  account: { contact_id: string; client_id: string },
  meta: { ip: string; userAgent?: string; ttlHours: number },
) {
  const token = newSecret("sbp_");
  const expiresAt = new Date(Date.now() + meta.ttlHours * 3600_000);
  await db
    .insertInto("portal_sessions")
    .values({
      token_hash: sha256(token),
      contact_id: account.contact_id,
      client_id: account.client_id,
      expires_at: expiresAt,
      ip: meta.ip,
      user_agent: meta.userAgent?.slice(0, 400) ?? null,
    })
    .execute();
  return { token, expiresAt };
}

export function setPortalCookie(
  reply: FastifyReply,
  config: Pick<Config, "SECURE_COOKIES" | "SWITCHBOARD_PUBLIC_URL">,
  token: string,
  expires: Date,
) {
  const secure = config.SECURE_COOKIES ?? config.SWITCHBOARD_PUBLIC_URL?.startsWith("https:") ?? false;
  reply.setCookie(PORTAL_COOKIE, token, { httpOnly: true, sameSite: "strict", secure, path: "/", expires });
}
