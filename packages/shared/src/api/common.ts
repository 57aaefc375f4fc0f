import { z } from "zod";

export const Id = z.uuid({ error: "must be a UUID" });
export const IdParams = z.object({ id: Id });
export const Timestamp = z.iso.datetime({ offset: true });
export const Email = z
  .email({ error: "must be an email address" })
  .max(320)
  .transform((v) => v.toLowerCase());
export const TimeZone = z.string().refine(
  (tz) => {
    try {
      new Intl.DateTimeFormat("en", { timeZone: tz });
      return true;
    } catch {
      return false;
    }
  },
  { error: "must be an IANA time zone such as America/Chicago" },
);

export const ErrorResponse = z.object({
  error: z.object({
    code: z.string(),
    message: z.string(),
    details: z.unknown().optional(),
  }),
});

export const Page = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    /** Opaque keyset cursor for the next page; null on the last page. */
    nextCursor: z.string().nullable(),
  });

export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
});

export const Versioned = z.object({
  /** The version the client read; a stale one gets 412 with the current record. */
  version: z.number().int().min(1),
});
