import { AuditPage, AuditQuery } from "@switchboard/shared";
import type { z } from "zod";
import type { App, AppDeps } from "../../app.ts";
import type { Database } from "../../db/database.ts";
import { actorOf } from "../../http/auth.ts";
import { rolesOnly } from "../../http/policy.ts";
import { type Actor, requireRole } from "../auth/actor.ts";
import { type AuditRow, listAudit } from "./queries.ts";

const toAuditEntryDto = (r: AuditRow) => ({
  id: r.id,
  at: r.at.toISOString(),
  actor: { userId: r.actor_user_id, label: r.actor_label },
  action: r.action,
  entityType: r.entity_type,
  entityId: r.entity_id,
  clientId: r.client_id,
  before: r.before,
  after: r.after,
  ip: r.ip,
  requestId: r.request_id,
});

/**
 * The audit log is for admins. A client-limited admin reads only the entries of their clients: not the
 * MSP-wide ones (users, settings) and not other clients' (row-level security enforces the same).
 */
export async function readAudit(db: Database, actor: Actor, query: z.output<typeof AuditQuery>) {
  requireRole(actor, "admin");
  const rows = await listAudit(db, { ...query, clientIds: actor.clientIds });
  const items = rows.slice(0, query.limit);
  return { items, nextBefore: rows.length > query.limit ? (items.at(-1)?.id ?? null) : null };
}

export async function auditRoutes(app: App, deps: AppDeps) {
  app.get(
    "/api/v1/audit",
    {
      config: rolesOnly(["admin"]),
      schema: {
        tags: ["audit"],
        summary: "The audit log, newest first (admins)",
        description:
          "Every mutation with who, when and the record before and after. Page with `before=<nextBefore>`.",
        querystring: AuditQuery,
        response: { 200: AuditPage },
      },
    },
    async (req) => {
      const page = await readAudit(deps.db, actorOf(req), req.query);
      return { items: page.items.map(toAuditEntryDto), nextBefore: page.nextBefore };
    },
  );
}
