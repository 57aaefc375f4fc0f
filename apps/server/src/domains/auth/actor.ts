import type { UserRole } from "../../db/schema.ts";
import { AppError, forbidden } from "../../http/errors.ts";

/** Who is calling: resolved once per request, passed to every service function. */
export interface Actor {
  /** `contact`: a client's contact signed in to the portal (domains/portal), confined to their company. */
  kind: "user" | "system" | "contact";
  userId: string | null;
  name: string;
  role: UserRole;
  /** null: every client. Otherwise the only clients this user may see. */
  clientIds: string[] | null;
  teamIds: string[];
  /** IANA zone for "today" and other edges. */
  timezone: string;
  via: "session" | "token" | "system" | "portal";
  ip?: string;
  requestId?: string;
  /**
   * The credential the actor was resolved from (its hash, never the secret): an open live stream
   * resolves it again when the user's access changes (domains/events/live.ts).
   */
  credential?: { kind: "session" | "token"; hash: string };
  /** Portal actors: the contact, and whether they see every ticket of their company. */
  contact?: { id: string; clientId: string; companyAdmin: boolean };
}

export const systemActor = (name = "system"): Actor => ({
  kind: "system",
  userId: null,
  name,
  role: "admin",
  clientIds: null,
  teamIds: [],
  timezone: "UTC",
  via: "system",
});

export function canSeeClient(actor: Actor, clientId: string): boolean {
  return actor.clientIds === null || actor.clientIds.includes(clientId);
}

/** Records of clients the actor may not see answer exactly like records that do not exist. */
export function assertClientVisible(actor: Actor, clientId: string, what: string) {
  if (!canSeeClient(actor, clientId)) throw new AppError("not_found", 404, `${what} not found`);
}

export function requireRole(actor: Actor, ...roles: UserRole[]) {
  if (actor.kind === "contact" || !roles.includes(actor.role)) {
    throw forbidden(`This needs the ${roles.join(" or ")} role`);
  }
}

/**
 * Anyone but read-only users may change service-desk records. A portal contact writes only through the
 * portal's service (domains/portal), which confines them to their own tickets before calling in here.
 */
export function requireWriter(actor: Actor) {
  if (actor.kind === "contact") return;
  if (actor.role === "readonly") throw forbidden("Read-only users cannot change records");
}

export function requireUser(actor: Actor): string {
  if (!actor.userId) throw forbidden("This needs a signed-in user");
  return actor.userId;
}
