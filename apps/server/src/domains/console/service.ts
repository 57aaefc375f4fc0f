import type { CreateSavedViewRequest, PresenceState } from "@switchboard/shared";
import type { Database } from "../../db/database.ts";
import { AppError, notFound } from "../../http/errors.ts";
import { writeAudit } from "../audit/audit.ts";
import { type Actor, assertClientVisible, requireUser } from "../auth/actor.ts";
import type { LiveHub } from "../events/live.ts";
import { changedTickets, listSavedViews, ticketClient } from "./queries.ts";

const MAX_VIEWS_PER_USER = 100;
/** With no earlier visit, "what changed" looks back one working day. */
const FIRST_LOOK_WINDOW_MS = 24 * 3600_000;

export function savedViews(db: Database, actor: Actor) {
  return listSavedViews(db, requireUser(actor));
}

export async function createSavedView(db: Database, actor: Actor, input: CreateSavedViewRequest) {
  const userId = requireUser(actor);
  return db.transaction().execute(async (trx) => {
    // Replacing a view of the same name keeps "Save view" idempotent from the technician's side.
    const existing = await trx
      .deleteFrom("saved_views")
      .where("user_id", "=", userId)
      .where((eb) => eb(eb.fn("lower", ["name"]), "=", input.name.toLowerCase()))
      .returningAll()
      .executeTakeFirst();
    const count = await trx
      .selectFrom("saved_views")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("user_id", "=", userId)
      .executeTakeFirstOrThrow();
    if (Number(count.n) >= MAX_VIEWS_PER_USER) {
      throw new AppError("conflict", 409, `At most ${MAX_VIEWS_PER_USER} saved views; delete one first`);
    }
    const row = await trx
      .insertInto("saved_views")
      .values({ user_id: userId, name: input.name, filters: JSON.stringify(input.filters) })
      .returningAll()
      .executeTakeFirstOrThrow();
    await writeAudit(trx, actor, {
      action: existing ? "saved_view.replace" : "saved_view.create",
      entityType: "saved_view",
      entityId: row.id,
      before: existing ? { name: existing.name, filters: existing.filters } : undefined,
      after: { name: row.name, filters: input.filters },
    });
    return row;
  });
}

export async function deleteSavedView(db: Database, actor: Actor, id: string) {
  const userId = requireUser(actor);
  await db.transaction().execute(async (trx) => {
    const row = await trx
      .deleteFrom("saved_views")
      .where("id", "=", id)
      .where("user_id", "=", userId)
      .returningAll()
      .executeTakeFirst();
    if (!row) throw notFound("Saved view");
    await writeAudit(trx, actor, {
      action: "saved_view.delete",
      entityType: "saved_view",
      entityId: row.id,
      before: { name: row.name, filters: row.filters },
    });
  });
}

/** Presence and typing are broadcast, never stored: a lost signal only delays a hint by one heartbeat. */
export async function announcePresence(
  db: Database,
  live: LiveHub,
  actor: Actor,
  ticketId: string,
  state: PresenceState,
) {
  const userId = requireUser(actor);
  const ticket = await ticketClient(db, ticketId);
  if (!ticket) throw notFound("Ticket");
  assertClientVisible(actor, ticket.client_id, "Ticket");
  await live.signal({
    type: "presence",
    clientId: ticket.client_id,
    ticketId,
    userId,
    payload: { name: actor.name, state, at: new Date().toISOString() },
  });
}

export async function changesSinceLastLook(db: Database, actor: Actor, limit: number) {
  const userId = requireUser(actor);
  const user = await db
    .selectFrom("users")
    .select("last_seen_changes_at")
    .where("id", "=", userId)
    .executeTakeFirstOrThrow();
  const since = user.last_seen_changes_at ?? new Date(Date.now() - FIRST_LOOK_WINDOW_MS);
  const rows = await changedTickets(db, actor, userId, since, limit);
  return { since, rows };
}

/**
 * Moves the viewer's "last looked" mark. It is a per-user reading position, like a read marker in a
 * mail client, so it is not audited: no service-desk record changes.
 */
export async function markChangesSeen(db: Database, actor: Actor, at: Date) {
  const userId = requireUser(actor);
  await db
    .updateTable("users")
    .set({ last_seen_changes_at: at })
    .where("id", "=", userId)
    .where((eb) => eb.or([eb("last_seen_changes_at", "is", null), eb("last_seen_changes_at", "<", at)]))
    .execute();
}
