import type { ClientListQuery, CreateClientRequest, UpdateClientRequest } from "@switchboard/shared";
import type { Transaction } from "kysely";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import type { DB } from "../../db/schema.ts";
import { conflictOn, isUniqueViolation, notFound, versionConflict } from "../../http/errors.ts";
import { writeAudit } from "../audit/audit.ts";
import { changedFields } from "../audit/changes.ts";
import { type Actor, canSeeClient, requireRole } from "../auth/actor.ts";
import { emitEvent } from "../events/outbox.ts";
import { decodeCursor, pageOf } from "./cursor.ts";
import { type ClientRow, toClientDto } from "./dto.ts";
import {
  countOpenTickets,
  findClient,
  findClientIdByName,
  listClients as listClientRows,
} from "./queries.ts";

const TAKEN = "is already used by another client";

/** Keyset pages ordered by name; a client-limited technician only ever sees their clients. */
export async function listClients(db: Database, actor: Actor, query: z.output<typeof ClientListQuery>) {
  const rows = await listClientRows(db, {
    visibleIds: actor.clientIds,
    q: query.q,
    includeInactive: query.includeInactive,
    after: decodeCursor(query.cursor),
    limit: query.limit,
  });
  return pageOf(rows, query.limit, (r) => r.sort_key);
}

export async function getClient(db: Database, actor: Actor, id: string) {
  const row = await visibleClient(db, actor, id);
  return { row, openTickets: await countOpenTickets(db, id) };
}

/** Loads a client the actor may see, or 404 exactly as if it did not exist. */
export async function visibleClient(
  db: Database | Transaction<DB>,
  actor: Actor,
  id: string,
): Promise<ClientRow> {
  const row = await findClient(db, id);
  if (!row || !canSeeClient(actor, id)) throw notFound("Client");
  return row;
}

export async function createClient(db: Database, actor: Actor, input: z.output<typeof CreateClientRequest>) {
  requireRole(actor, "admin", "dispatcher");
  return withNameGuard(() =>
    db.transaction().execute(async (trx) => {
      if (await findClientIdByName(trx, input.name)) throw conflictOn("body.name", TAKEN);
      const row = await trx
        .insertInto("clients")
        .values({
          name: input.name,
          email_domains: [...new Set(input.emailDomains)],
          phone: input.phone ?? null,
          website: input.website ?? null,
          notes: input.notes,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      const dto = toClientDto(row);
      await writeAudit(trx, actor, {
        action: "client.create",
        entityType: "client",
        entityId: row.id,
        clientId: row.id,
        after: dto,
      });
      await emitEvent(trx, actor, {
        type: "client.created",
        clientId: row.id,
        payload: { clientId: row.id, name: row.name },
      });
      return row;
    }),
  );
}

export async function updateClient(
  db: Database,
  actor: Actor,
  id: string,
  input: z.output<typeof UpdateClientRequest>,
) {
  requireRole(actor, "admin", "dispatcher");
  return withNameGuard(() =>
    db.transaction().execute(async (trx) => {
      const before = await findClient(trx, id, { lock: true });
      if (!before || !canSeeClient(actor, id)) throw notFound("Client");
      if (before.version !== input.version) throw versionConflict("client", toClientDto(before));
      if (input.name && input.name.toLowerCase() !== before.name.toLowerCase()) {
        const other = await findClientIdByName(trx, input.name);
        if (other && other.id !== id) throw conflictOn("body.name", TAKEN);
      }
      const after = await trx
        .updateTable("clients")
        .set((eb) => ({
          name: input.name,
          email_domains: input.emailDomains && [...new Set(input.emailDomains)],
          phone: input.phone,
          website: input.website,
          notes: input.notes,
          active: input.active,
          version: eb("version", "+", 1),
          updated_at: new Date(),
        }))
        .where("id", "=", id)
        .returningAll()
        .executeTakeFirstOrThrow();
      const diff = changedFields(toClientDto(before), toClientDto(after), ["version", "updatedAt"]);
      await writeAudit(trx, actor, {
        action: "client.update",
        entityType: "client",
        entityId: id,
        clientId: id,
        before: diff.before,
        after: diff.after,
      });
      await emitEvent(trx, actor, {
        type: "client.updated",
        clientId: id,
        payload: { clientId: id, name: after.name, changed: diff.keys },
      });
      return after;
    }),
  );
}

async function withNameGuard<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (isUniqueViolation(err, "clients_name_key")) throw conflictOn("body.name", TAKEN);
    throw err;
  }
}
