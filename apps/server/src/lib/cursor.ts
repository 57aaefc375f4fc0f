import { invalid } from "../http/errors.ts";

/**
 * Keyset cursors: opaque to callers (base64url JSON of the last row's sort key), and checked value by
 * value against the type of the column they are compared with before they reach SQL. A tampered cursor
 * is a 400 naming `query.cursor`, never a database error.
 */
export type CursorType = "int" | "timestamptz" | "uuid" | "text";

const CHECKS: Record<CursorType, (v: string) => boolean> = {
  // A 32-bit integer.
  int: (v) => /^-?\d{1,10}$/.test(v) && Math.abs(Number(v)) <= 2_147_483_647,
  // PostgreSQL's own text form of a timestamptz within years 1-9999 (what the list wrote), or infinity.
  timestamptz: (v) =>
    v === "infinity" ||
    v === "-infinity" ||
    /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,6})?[+-]\d{2}(:\d{2}){0,2}$/.test(v),
  uuid: (v) => /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(v),
  // biome-ignore lint/suspicious/noControlCharactersInRegex: a sort key never holds control characters
  text: (v) => v.length <= 1000 && !/[\u0000-\u001f\u007f]/.test(v),
};

export function encodeCursor(values: readonly string[]): string {
  return Buffer.from(JSON.stringify(values)).toString("base64url");
}

export function decodeCursor(cursor: string, types: readonly CursorType[]): string[] {
  let values: unknown;
  try {
    values = cursor.length <= 4096 ? JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) : null;
  } catch {
    values = null;
  }
  if (
    Array.isArray(values) &&
    values.length === types.length &&
    values.every((v, i) => typeof v === "string" && CHECKS[types[i]!](v))
  ) {
    return values as string[];
  }
  throw invalid("query.cursor", "is not a cursor this list returned");
}
