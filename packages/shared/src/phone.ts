/** Digits only: "(555) 123-4567", "555.123.4567" and "+1 555 123 4567" all compare by their digits. */
export const phoneDigits = (value: string) => value.replace(/\D/g, "");

/**
 * The digits a phone search looks for: a query that carries a country prefix still finds a number
 * stored without one, so the last ten digits are enough.
 */
export function phoneSearchKey(query: string): string | null {
  const digits = phoneDigits(query);
  if (digits.length < 4 || digits.length < query.replace(/[\s().+\-/]/g, "").length) return null;
  return digits.length > 10 ? digits.slice(-10) : digits;
}
