import type { FastifyInstance } from "fastify";
import { invalid } from "./errors.ts";

/**
 * The one rule for control characters in what a caller sends: NUL and the other C0 controls (but tab,
 * line feed and carriage return) and DEL are refused with 400 naming the field, in every string of the
 * body, the query and the path (keys too). PostgreSQL cannot store NUL in text, and the others have no
 * place in a subject, a name or a note; nothing a person types contains them. Mail is the exception:
 * it does not come through here, and the email parser strips them from bodies (domains/email/parse.ts).
 * Header values are held to the same rule by Node's HTTP parser; upload file names by the attachment code
 * (safeFileName), which also drops bidi overrides.
 */
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point
export const CONTROL_CHARS = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/;

const MAX_DEPTH = 64;

/** The path of the first string with a control character in `value`, or null. */
export function findControlChars(value: unknown, path: string, depth = 0): string | null {
  if (typeof value === "string") return CONTROL_CHARS.test(value) ? path : null;
  if (value === null || typeof value !== "object" || depth > MAX_DEPTH) return null;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findControlChars(value[i], `${path}.${i}`, depth + 1);
      if (found) return found;
    }
    return null;
  }
  // Uploaded files (multipart) are streams and buffers, not text: their names are checked where read.
  if (Buffer.isBuffer(value)) return null;
  for (const [k, v] of Object.entries(value)) {
    if (CONTROL_CHARS.test(k)) return `${path}.${k.replace(CONTROL_CHARS, "?")}`;
    const found = findControlChars(v, `${path}.${k}`, depth + 1);
    if (found) return found;
  }
  return null;
}

export function registerInputHygiene(app: FastifyInstance) {
  app.addHook("preValidation", async (req) => {
    for (const [where, value] of [
      ["params", req.params],
      ["query", req.query],
      ["body", req.body],
    ] as const) {
      const path = findControlChars(value, where);
      if (path) throw invalid(path, "must not contain control characters (such as NUL)");
    }
  });
}
