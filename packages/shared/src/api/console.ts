import { z } from "zod";
import { Id, Timestamp } from "./common.ts";
import { TicketListQuery } from "./tickets.ts";

/** A queue filter a technician saved under a name ("Dental P1s", "Waiting > 3 days"). */
export const SavedViewFilters = TicketListQuery.omit({ limit: true, cursor: true }).partial();
export const SavedViewDto = z.object({
  id: Id,
  name: z.string(),
  filters: z.record(z.string(), z.unknown()),
  createdAt: Timestamp,
});
export type SavedViewDto = z.infer<typeof SavedViewDto>;
export const CreateSavedViewRequest = z.object({
  name: z.string().trim().min(1).max(100),
  /** Query-string values as the queue page keeps them (queue, sort, clientId, priority...). */
  filters: z.record(z.string().max(50), z.union([z.string().max(2000), z.array(z.string().max(200))])),
});
export type CreateSavedViewRequest = z.infer<typeof CreateSavedViewRequest>;

/** Ephemeral: who has a ticket open, and who is typing on it. Never stored. */
export const PresenceRequest = z.object({ state: z.enum(["viewing", "typing", "left"]) });
export type PresenceState = z.infer<typeof PresenceRequest>["state"];
export const PresenceSignal = z.object({
  type: z.literal("presence"),
  ticketId: Id,
  userId: Id,
  payload: z.object({ name: z.string(), state: PresenceRequest.shape.state, at: Timestamp }),
});
export type PresenceSignal = z.infer<typeof PresenceSignal>;

/** "What changed since I last looked": one row per ticket of mine or my teams that others touched. */
export const ChangedTicketDto = z.object({
  ticketId: Id,
  number: z.number().int(),
  subject: z.string(),
  client: z.object({ id: Id, name: z.string() }),
  /** Event types in order of first appearance, e.g. ["ticket.timeline_added", "ticket.updated"]. */
  kinds: z.array(z.string()),
  count: z.number().int(),
  lastAt: Timestamp,
  lastActor: z.string().nullable(),
});
export type ChangedTicketDto = z.infer<typeof ChangedTicketDto>;
export const ChangesDto = z.object({
  since: Timestamp,
  items: z.array(ChangedTicketDto),
});
export type ChangesDto = z.infer<typeof ChangesDto>;
