import { z } from "zod";
import { Id, Timestamp, Versioned } from "./common.ts";

export const ArticleVisibility = z.enum(["internal", "public"]);

export const ArticleSummaryDto = z.object({
  id: Id,
  title: z.string(),
  visibility: ArticleVisibility,
  client: z.object({ id: Id, name: z.string() }).nullable(),
  /** The first words of the text, for lists and suggestions. */
  excerpt: z.string(),
  updatedAt: Timestamp,
});
export type ArticleSummaryDto = z.infer<typeof ArticleSummaryDto>;

export const ArticleDto = ArticleSummaryDto.extend({
  /** Sanitised HTML: safe to render as it is. */
  bodyHtml: z.string(),
  bodyText: z.string(),
  sourceTicket: z.object({ id: Id, number: z.number().int() }).nullable(),
  createdAt: Timestamp,
  updatedBy: z.string().nullable(),
  version: z.number().int(),
});
export type ArticleDto = z.infer<typeof ArticleDto>;

export const ArticleListQuery = z.object({
  q: z.string().trim().max(200).optional(),
  clientId: Id.optional(),
  visibility: ArticleVisibility.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(50),
});

export const CreateArticleRequest = z.object({
  title: z.string().trim().min(1, { error: "must not be empty" }).max(300),
  bodyHtml: z.string().max(1_000_000).default(""),
  visibility: ArticleVisibility.default("internal"),
  /** null: every client (public) or the MSP's own (internal). */
  clientId: Id.nullable().default(null),
});
export const UpdateArticleRequest = Versioned.extend({
  title: z.string().trim().min(1, { error: "must not be empty" }).max(300).optional(),
  bodyHtml: z.string().max(1_000_000).optional(),
  visibility: ArticleVisibility.optional(),
  clientId: Id.nullable().optional(),
});
export const ArticleFromTicketRequest = z.object({ ticketId: Id });

/** The portal's view: public articles for the contact's company or for everyone. */
export const PortalArticleQuery = z.object({
  q: z.string().trim().max(200).optional(),
  limit: z.coerce.number().int().min(1).max(20).default(5),
});
export const PortalArticleDto = z.object({
  id: Id,
  title: z.string(),
  bodyHtml: z.string(),
  updatedAt: Timestamp,
});
