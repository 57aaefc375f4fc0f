import { z } from "zod";
import { Id, Timestamp } from "./common.ts";

export const AuditEntryDto = z.object({
  id: z.number().int(),
  at: Timestamp,
  actor: z.object({ userId: Id.nullable(), label: z.string() }),
  action: z.string(),
  entityType: z.string(),
  entityId: z.string(),
  clientId: Id.nullable(),
  before: z.unknown(),
  after: z.unknown(),
  ip: z.string().nullable(),
  requestId: z.string().nullable(),
});
export const AuditQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  /** Entries with an id below this (keyset). */
  before: z.coerce.number().int().min(1).optional(),
  entityType: z.string().max(50).optional(),
  entityId: z.string().max(100).optional(),
  actorUserId: Id.optional(),
  action: z.string().max(100).optional(),
  /** Entries at or after this time. */
  from: Timestamp.optional(),
  /** Entries before this time. */
  to: Timestamp.optional(),
});

export const AuditPage = z.object({
  items: z.array(AuditEntryDto),
  /** Pass as `before` for the next (older) page; null on the last page. */
  nextBefore: z.number().int().nullable(),
});

export const LiveEvent = z.object({
  id: z.number().int(),
  type: z.string(),
  ticketId: Id.nullable(),
  clientId: Id.nullable(),
  actorUserId: Id.nullable(),
  at: Timestamp,
  payload: z.record(z.string(), z.unknown()),
});
export type LiveEvent = z.infer<typeof LiveEvent>;
