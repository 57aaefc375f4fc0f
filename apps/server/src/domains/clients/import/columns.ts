import type { ImportField } from "@switchboard/shared";

// Which column of a PSA's export holds what. The names are those of the exports and import templates of
// ConnectWise PSA (Manage) company and contact lists ("Company Name", "Company ID", "Default Email",
// "Direct", "Address Line 1", "Zip"), Autotask's organization/contact templates ("Organization Name",
// "Organization: Name", "Organization: Address 1", "Zip Code", "Email Address", "Mobile Phone", "[required]"
// markers) and HaloPSA's client/site/user spreadsheets ("Client Name", "Customer Name", "Site Name",
// "Email Address", "Phone Number", "Job Title"), plus the plain names any spreadsheet uses. Headers are
// compared normalised: case, punctuation, "*" and "[required]" do not matter.

const ALIASES: Record<ImportField, string[]> = {
  "client.name": [
    "company name",
    "company",
    "organization name",
    "organisation name",
    "organization",
    "organisation",
    "account name",
    "account",
    "client name",
    "client",
    "customer name",
    "customer",
  ],
  "client.phone": [
    "company phone",
    "organization phone",
    "account phone",
    "client phone",
    "customer phone",
    "main phone",
    "company main phone",
  ],
  "client.website": ["website", "web site", "web", "url", "company website", "web address", "company url"],
  "client.domain": ["domain", "email domain", "company domain", "mail domain"],
  "site.name": ["site", "site name", "location", "default site", "office"],
  "site.addressLine1": [
    "address line 1",
    "address 1",
    "address1",
    "address",
    "street",
    "street address",
    "line 1",
  ],
  "site.addressLine2": ["address line 2", "address 2", "address2", "line 2"],
  "site.city": ["city", "town", "suburb"],
  "site.region": ["state", "state province", "province", "region", "county", "state code"],
  "site.postalCode": ["zip", "zip code", "postal code", "postcode", "post code", "zip postal code"],
  "site.country": ["country", "country name"],
  "contact.firstName": ["first name", "firstname", "given name", "contact first name", "forename"],
  "contact.lastName": ["last name", "lastname", "surname", "family name", "contact last name"],
  "contact.fullName": ["name", "contact name", "contact", "full name", "user", "user name", "end user"],
  "contact.email": [
    "email",
    "email address",
    "e mail",
    "e mail address",
    "default email",
    "primary email",
    "email 1",
    "contact email",
    "user email",
    "email address 1",
  ],
  "contact.phone": [
    "phone",
    "phone number",
    "default phone",
    "direct",
    "direct phone",
    "direct line",
    "work phone",
    "business phone",
    "office phone",
    "telephone",
    "contact phone",
    "phone 1",
  ],
  "contact.mobile": ["mobile", "mobile phone", "mobile number", "cell", "cell phone", "cellphone"],
  "contact.title": ["title", "job title", "position", "role title"],
};

/** Prefixes that say whose column it is (Autotask's combined template: "Organization: Phone"). */
const CLIENT_PREFIXES = ["organization", "organisation", "account", "company", "client", "customer"];
const CONTACT_PREFIXES = ["contact", "user"];

/** Within a client-prefixed header, the bare names mean the client's (or its main site's) fields. */
const CLIENT_SCOPED: Record<string, ImportField> = {
  name: "client.name",
  phone: "client.phone",
  "phone number": "client.phone",
  web: "client.website",
  website: "client.website",
  "web site": "client.website",
};

export const normalizeHeader = (h: string) =>
  h
    .toLowerCase()
    .replace(/\[required\s*\*?\]/g, "")
    .replace(/[*_\-./#()]/g, " ")
    .replace(/\s+/g, " ")
    .trim();

const lookup = new Map<string, ImportField>();
for (const [field, names] of Object.entries(ALIASES) as [ImportField, string[]][]) {
  for (const n of names) lookup.set(n, field);
}

function fieldOf(header: string): ImportField | null {
  const raw = header
    .toLowerCase()
    .replace(/\[required\s*\*?\]/g, "")
    .trim();
  const colon = raw.indexOf(":");
  if (colon > 0) {
    const prefix = normalizeHeader(raw.slice(0, colon));
    const rest = normalizeHeader(raw.slice(colon + 1));
    if (CLIENT_PREFIXES.includes(prefix)) {
      const f = CLIENT_SCOPED[rest] ?? lookup.get(rest);
      return f?.startsWith("contact.") ? null : (f ?? null);
    }
    if (CONTACT_PREFIXES.includes(prefix)) {
      const f = lookup.get(rest);
      return f?.startsWith("contact.") ? f : f === "client.name" ? null : (f ?? null);
    }
  }
  return lookup.get(normalizeHeader(header)) ?? null;
}

export interface ColumnMap {
  columns: Array<{ header: string; field: ImportField | null }>;
  format: "connectwise" | "autotask" | "halopsa" | "generic";
}

/**
 * The automatic mapping of a file's headers, with the caller's overrides applied. The first column to
 * claim a field keeps it. A file without contact columns is a client list: its plain "Phone" is the
 * client's, and a lone "Name" column is the client's name.
 */
export function mapColumns(headers: string[], overrides: Record<string, ImportField | null> = {}): ColumnMap {
  const taken = new Set<ImportField>();
  const columns = headers.map((header): { header: string; field: ImportField | null } => {
    const field = header in overrides ? overrides[header]! : fieldOf(header);
    if (!field || taken.has(field)) return { header, field: null };
    taken.add(field);
    return { header, field };
  });
  const has = (f: ImportField) => columns.some((c) => c.field === f);
  const contactIdentity = has("contact.email") || has("contact.firstName") || has("contact.lastName");
  if (!contactIdentity) {
    for (const c of columns) {
      if (c.header in overrides) continue;
      if (c.field === "contact.phone" && !has("client.phone")) c.field = "client.phone";
      else if (c.field === "contact.fullName" && !has("client.name")) c.field = "client.name";
      else if (
        c.field === "contact.mobile" ||
        c.field === "contact.title" ||
        c.field === "contact.fullName"
      ) {
        c.field = null;
      }
    }
  }
  const norm = headers.map((h) => normalizeHeader(h));
  const format = norm.some((h) => h === "company id" || h === "default email" || h === "direct")
    ? "connectwise"
    : headers.some((h) =>
          /^(organization|account)\s*:/i.test(h.replace(/\[required\s*\*?\]/gi, "").trim()),
        ) || norm.some((h) => h === "organization name" || h === "account name")
      ? "autotask"
      : norm.some((h) => h === "client name" || h === "customer name" || h === "site name")
        ? "halopsa"
        : norm.some((h) => h === "company name")
          ? "connectwise"
          : "generic";
  return { columns, format };
}
