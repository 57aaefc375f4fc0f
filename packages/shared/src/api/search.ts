import { z } from "zod";
import { Id, Timestamp } from "./common.ts";
import { StatusCategory } from "./tickets.ts";

export const SearchQuery = z.object({
  q: z.string().trim().min(1, { error: "must not be empty" }).max(200),
  limit: z.coerce.number().int().min(1).max(50).default(20),
  types: z
    .preprocess(
      (v) => (typeof v === "string" ? v.split(",").filter(Boolean) : v),
      z.array(z.enum(["tickets", "contacts", "clients", "articles", "documents"])),
    )
    .optional(),
});

export const SearchResultDto = z.object({
  tickets: z.array(
    z.object({
      id: Id,
      number: z.number().int(),
      subject: z.string(),
      client: z.object({ id: Id, name: z.string() }),
      statusCategory: StatusCategory,
      priority: z.number().int(),
      lastActivityAt: Timestamp,
      rank: z.number(),
    }),
  ),
  contacts: z.array(
    z.object({
      id: Id,
      name: z.string(),
      client: z.object({ id: Id, name: z.string() }),
      emails: z.array(z.string()),
      phones: z.array(z.object({ label: z.string(), number: z.string() })),
      vip: z.boolean(),
      rank: z.number(),
    }),
  ),
  clients: z.array(z.object({ id: Id, name: z.string(), rank: z.number() })),
  /** Knowledge-base articles (title and text). */
  articles: z.array(
    z.object({
      id: Id,
      title: z.string(),
      visibility: z.enum(["internal", "public"]),
      client: z.object({ id: Id, name: z.string() }).nullable(),
      rank: z.number(),
    }),
  ),
  /** Client documentation (title, values and notes). */
  documents: z.array(
    z.object({
      id: Id,
      title: z.string(),
      layout: z.string(),
      client: z.object({ id: Id, name: z.string() }),
      rank: z.number(),
    }),
  ),
});
export type SearchResultDto = z.infer<typeof SearchResultDto>;
