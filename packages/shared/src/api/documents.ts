import { z } from "zod";
import { Id, Timestamp, Versioned } from "./common.ts";

export const LayoutField = z.object({
  key: z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]{0,40}$/, { error: "must be letters, digits and _" }),
  label: z.string().trim().min(1).max(100),
  type: z.enum(["text", "textarea", "list", "table"]),
  columns: z
    .array(
      z.object({
        key: z.string().regex(/^[a-zA-Z][a-zA-Z0-9_]{0,40}$/, { error: "must be letters, digits and _" }),
        label: z.string().trim().min(1).max(100),
      }),
    )
    .max(20)
    .optional(),
});
export type LayoutField = z.infer<typeof LayoutField>;

export const DocLayoutDto = z.object({
  id: Id,
  name: z.string(),
  fields: z.array(LayoutField),
  builtin: z.boolean(),
  version: z.number().int(),
});
export type DocLayoutDto = z.infer<typeof DocLayoutDto>;
export const CreateLayoutRequest = z.object({
  name: z.string().trim().min(1, { error: "must not be empty" }).max(100),
  fields: z.array(LayoutField).min(1).max(50),
});

/** Values by field key: text, a list of strings, or table rows (column key -> text). */
export const DocData = z.record(
  z.string(),
  z.union([
    z.string().max(20_000),
    z.array(z.string().max(2000)).max(500),
    z.array(z.record(z.string(), z.string().max(2000))).max(500),
  ]),
);
export const DocLink = z.object({ type: z.enum(["site", "device", "contact"]), id: Id });

export const DocumentSummaryDto = z.object({
  id: Id,
  title: z.string(),
  client: z.object({ id: Id, name: z.string() }),
  layout: z.object({ id: Id, name: z.string() }),
  updatedAt: Timestamp,
  version: z.number().int(),
});
export type DocumentSummaryDto = z.infer<typeof DocumentSummaryDto>;

export const DocumentDto = DocumentSummaryDto.extend({
  fields: z.array(LayoutField),
  data: DocData,
  notesHtml: z.string(),
  links: z.array(DocLink.extend({ name: z.string() })),
  files: z.array(
    z.object({ id: Id, filename: z.string(), contentType: z.string(), sizeBytes: z.number().int() }),
  ),
  versions: z.array(z.object({ version: z.number().int(), author: z.string(), createdAt: Timestamp })),
  updatedBy: z.string().nullable(),
});
export type DocumentDto = z.infer<typeof DocumentDto>;

export const DocumentListQuery = z.object({
  clientId: Id.optional(),
  q: z.string().trim().max(200).optional(),
});
export const CreateDocumentRequest = z.object({
  clientId: Id,
  layoutId: Id,
  title: z.string().trim().min(1, { error: "must not be empty" }).max(300),
  data: DocData.default({}),
  notesHtml: z.string().max(500_000).default(""),
  links: z.array(DocLink).max(200).default([]),
});
export const UpdateDocumentRequest = Versioned.extend({
  title: z.string().trim().min(1, { error: "must not be empty" }).max(300).optional(),
  data: DocData.optional(),
  notesHtml: z.string().max(500_000).optional(),
  links: z.array(DocLink).max(200).optional(),
});
export const DocumentVersionDto = z.object({
  version: z.number().int(),
  title: z.string(),
  data: DocData,
  notesHtml: z.string(),
  author: z.string(),
  createdAt: Timestamp,
});

export const CreateShareRequest = z.object({
  documentIds: z.array(Id).min(1).max(50),
  contactId: Id.nullable().default(null),
  /** The ticket the sharing is recorded on. */
  ticketId: Id.nullable().default(null),
  expiresInDays: z.number().int().min(1).max(30).default(7),
  /** Mail the link to the contact. */
  email: z.boolean().default(false),
});
export const ShareDto = z.object({
  id: Id,
  /** Shown once: only a hash of its token is kept. */
  url: z.string(),
  expiresAt: Timestamp,
});
export const OpenShareRequest = z.object({ token: z.string().min(10).max(200) });
export const SharedDocumentsDto = z.object({
  client: z.string(),
  expiresAt: Timestamp,
  documents: z.array(
    z.object({
      id: Id,
      title: z.string(),
      layout: z.string(),
      fields: z.array(LayoutField),
      data: DocData,
      notesHtml: z.string(),
      files: z.array(z.object({ id: Id, filename: z.string(), sizeBytes: z.number().int() })),
      updatedAt: Timestamp,
    }),
  ),
});
