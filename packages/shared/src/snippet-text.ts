// Canned-response variables without zod: the console imports this file alone (see package.json exports),
// so filling a snippet does not pull the schemas into the browser bundle.

/** The variables a canned response may use; each is filled from the ticket being answered. */
export const SNIPPET_VARIABLES = [
  "contact.firstName",
  "contact.name",
  "client.name",
  "ticket.number",
  "ticket.subject",
  "me.name",
  "me.firstName",
] as const;
export type SnippetVariable = (typeof SNIPPET_VARIABLES)[number];

const VARIABLE = /\{\{\s*([a-zA-Z.]+)\s*\}\}/g;

/** Variables a text uses that are not in SNIPPET_VARIABLES ("{{contact.frstName}}"). */
export function unknownSnippetVariables(body: string): string[] {
  const known = new Set<string>(SNIPPET_VARIABLES);
  return [...body.matchAll(VARIABLE)].map((m) => m[1] as string).filter((v) => !known.has(v));
}

/**
 * Fills `{{contact.firstName}}` and friends. A variable without a value (no contact on the ticket)
 * becomes a neutral word rather than a visible placeholder: "Hi there," instead of "Hi {{...}},".
 */
export function renderSnippet(
  body: string,
  values: Partial<Record<SnippetVariable, string | number | null>>,
) {
  return body.replace(VARIABLE, (whole, name: string) => {
    if (!(SNIPPET_VARIABLES as readonly string[]).includes(name)) return whole;
    const v = values[name as SnippetVariable];
    if (v !== null && v !== undefined && String(v).trim()) return String(v);
    return name.startsWith("contact.") ? "there" : "";
  });
}
