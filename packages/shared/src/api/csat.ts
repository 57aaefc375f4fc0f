import { z } from "zod";
import { Id, Timestamp, Versioned } from "./common.ts";

export const CsatRating = z.enum(["good", "okay", "bad"]);
export type CsatRating = z.infer<typeof CsatRating>;

/** The rating page (no sign-in): the signed token from the resolution email. */
export const CsatLookupRequest = z.object({ token: z.string().min(10).max(2000) });
export const CsatRateRequest = z.object({
  token: z.string().min(10).max(2000),
  rating: CsatRating,
  comment: z.string().trim().max(5000).optional(),
});
export const CsatTicketDto = z.object({
  number: z.number().int(),
  subject: z.string(),
  rating: CsatRating.nullable(),
  comment: z.string(),
  ratedAt: Timestamp.nullable(),
});

export const CsatSettingsDto = z.object({
  badAction: z.enum(["reopen", "alert"]),
  version: z.number().int(),
});
export const UpdateCsatSettingsRequest = Versioned.extend({ badAction: z.enum(["reopen", "alert"]) });

export const CsatReportQuery = z.object({
  from: z.iso.date().optional(),
  to: z.iso.date().optional(),
});
const Counts = z.object({
  good: z.number().int(),
  okay: z.number().int(),
  bad: z.number().int(),
  total: z.number().int(),
  /** Share of good ratings, 0-100 (null without ratings). */
  score: z.number().nullable(),
});
export const CsatReportDto = z.object({
  from: z.string(),
  to: z.string(),
  totals: Counts,
  byClient: z.array(Counts.extend({ id: Id, name: z.string() })),
  byTechnician: z.array(Counts.extend({ id: Id.nullable(), name: z.string() })),
  recent: z.array(
    z.object({
      ticketId: Id,
      number: z.number().int(),
      subject: z.string(),
      client: z.string(),
      technician: z.string().nullable(),
      rating: CsatRating,
      comment: z.string(),
      ratedAt: Timestamp,
    }),
  ),
});
export type CsatReportDto = z.infer<typeof CsatReportDto>;
