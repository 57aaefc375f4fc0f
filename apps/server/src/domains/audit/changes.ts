/**
 * The fields that differ between two views of a record, as the audit log's before/after: a reader sees
 * what changed without diffing whole records. Arrays and objects compare by their JSON.
 */
export function changedFields<T extends Record<string, unknown>>(
  before: T,
  after: T,
  ignore: readonly (keyof T)[] = [],
): { before: Partial<T>; after: Partial<T>; keys: (keyof T)[] } {
  const b: Partial<T> = {};
  const a: Partial<T> = {};
  const keys: (keyof T)[] = [];
  for (const key of Object.keys(after) as (keyof T)[]) {
    if (ignore.includes(key)) continue;
    if (JSON.stringify(before[key]) === JSON.stringify(after[key])) continue;
    b[key] = before[key];
    a[key] = after[key];
    keys.push(key);
  }
  return { before: b, after: a, keys };
}
