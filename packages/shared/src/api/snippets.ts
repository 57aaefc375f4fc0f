import { z } from "zod";
import { SNIPPET_VARIABLES, unknownSnippetVariables } from "../snippet-text.ts";
import { Id, Timestamp } from "./common.ts";

export {
  renderSnippet,
  SNIPPET_VARIABLES,
  type SnippetVariable,
  unknownSnippetVariables,
} from "../snippet-text.ts";

export const SnippetDto = z.object({
  id: Id,
  title: z.string(),
  body: z.string(),
  /** Shared snippets are everyone's (admins and dispatchers edit them); the others are the author's own. */
  shared: z.boolean(),
  ownerId: Id.nullable(),
  updatedAt: Timestamp,
  version: z.number().int(),
});
export type SnippetDto = z.infer<typeof SnippetDto>;

const Body = z
  .string()
  .trim()
  .min(1)
  .max(20_000)
  .refine((b) => unknownSnippetVariables(b).length === 0, {
    error: `uses an unknown variable; known are ${SNIPPET_VARIABLES.map((v) => `{{${v}}}`).join(", ")}`,
  });

export const CreateSnippetRequest = z.object({
  title: z.string().trim().min(1).max(120),
  body: Body,
  shared: z.boolean().default(false),
});
export const UpdateSnippetRequest = z.object({
  version: z.number().int().min(1),
  title: z.string().trim().min(1).max(120).optional(),
  body: Body.optional(),
});
