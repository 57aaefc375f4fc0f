import { decodeCursor as decodeTyped, encodeCursor as encodeTyped } from "../../lib/cursor.ts";

// Keyset cursors of the directory lists (clients, contacts, devices): the last row's sort key (text
// from PostgreSQL) and id, checked by lib/cursor.ts before they reach SQL.

export function encodeCursor(key: string, id: string): string {
  return encodeTyped([key, id]);
}

export function decodeCursor(cursor: string | undefined): { key: string; id: string } | null {
  if (cursor === undefined) return null;
  const [key, id] = decodeTyped(cursor, ["text", "uuid"]);
  return { key: key!, id: id! };
}

/** Takes `limit` of the `limit + 1` rows fetched; the extra row says whether another page exists. */
export function pageOf<T extends { id: string }>(rows: T[], limit: number, keyOf: (row: T) => string) {
  const items = rows.slice(0, limit);
  const last = items.at(-1);
  return { items, nextCursor: rows.length > limit && last ? encodeCursor(keyOf(last), last.id) : null };
}
