import {
  Email,
  type ImportField,
  type ImportRowOutcome,
  PhoneNumber,
  phoneDigits,
} from "@switchboard/shared";
import { sql, type Transaction } from "kysely";
import type { DB, PhoneNumber as StoredPhone } from "../../../db/schema.ts";
import { CONTROL_CHARS } from "../../../http/input.ts";
import { normalizeContactPhones } from "../contacts-service.ts";
import type { ColumnMap } from "./columns.ts";

// One CSV row to a client, its site and its contact: validation first (a row with a bad contact writes
// nothing), then each record matched or created, filling in only what Switchboard does not have yet.

type Row = Partial<Record<ImportField, string>>;
type Outcome = ImportRowOutcome;

export interface Totals {
  clients: { created: number; updated: number; unchanged: number };
  contacts: { created: number; updated: number; skipped: number };
  errors: number;
}

/** Clients and sites met so far in this import, by lower-cased name. */
export interface Cache {
  clients: Map<string, { id: string; fresh: boolean }>;
  sites: Map<string, string>;
}

function rowValues(map: ColumnMap, cells: string[]): Row {
  const out: Row = {};
  map.columns.forEach((c, i) => {
    const v = cells[i]?.trim();
    if (c.field && v) out[c.field] = v;
  });
  return out;
}

/** "Lopez, Maria" and "Maria Lopez" alike. */
function splitName(full: string) {
  if (full.includes(",")) {
    const [last, first] = full.split(",", 2).map((s) => s.trim());
    return { first: first || last || full, last: first ? (last ?? "") : "" };
  }
  const parts = full.trim().split(/\s+/);
  return { first: parts[0] ?? full, last: parts.slice(1).join(" ") };
}

const domainOf = (website: string) => {
  const host =
    website
      .replace(/^[a-z]+:\/\//i, "")
      .split(/[/?#:]/)[0]
      ?.toLowerCase()
      .replace(/^www\./, "") ?? "";
  return /^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$/.test(host) ? host : null;
};

function phoneOf(label: string, value: string | undefined, column: string): StoredPhone | string | null {
  if (!value) return null;
  const number = value.replace(/\s*(ext\.?|extension)\s*/i, " x");
  const parsed = PhoneNumber.safeParse({ label, number });
  return parsed.success
    ? parsed.data
    : `${column} "${value}" ${parsed.error.issues[0]?.message ?? "is not a phone number"}`;
}

export async function importRow(
  trx: Transaction<DB>,
  map: ColumnMap,
  cache: Cache,
  totals: Totals,
  changed: { clients: string[]; contacts: string[] },
  row: number,
  cells: string[],
): Promise<Outcome> {
  const header = (f: ImportField) => map.columns.find((c) => c.field === f)?.header ?? f;
  const v = rowValues(map, cells);
  const clientName = v["client.name"]?.slice(0, 200) ?? null;
  const fail = (reason: string, contact: string | null = null): Outcome => ({
    row,
    outcome: "error",
    client: clientName,
    contact,
    reason,
  });
  const bad = map.columns.find((c, i) => c.field && CONTROL_CHARS.test(cells[i] ?? ""));
  if (bad) return fail(`${bad.header} contains control characters`);
  if (!clientName) return fail(`${header("client.name")} is empty`);

  // Contact fields first: a row with an invalid contact writes nothing, not even its client.
  let contact: null | {
    first: string;
    last: string;
    email: string | null;
    phones: StoredPhone[];
    title: string | null;
  } = null;
  const hasContact = ["contact.email", "contact.firstName", "contact.lastName", "contact.fullName"].some(
    (f) => v[f as ImportField],
  );
  if (hasContact) {
    let email: string | null = null;
    if (v["contact.email"]) {
      const parsed = Email.safeParse(v["contact.email"]);
      if (!parsed.success)
        return fail(`${header("contact.email")} "${v["contact.email"]}" is not an email address`);
      email = parsed.data;
    }
    const named =
      v["contact.firstName"] || v["contact.lastName"]
        ? { first: v["contact.firstName"] ?? "", last: v["contact.lastName"] ?? "" }
        : v["contact.fullName"]
          ? splitName(v["contact.fullName"])
          : { first: email?.split("@")[0] ?? "", last: "" };
    if (!named.first) named.first = named.last ? named.last : "";
    if (!named.first) return fail(`${header("contact.firstName")} is empty`);
    const phones: StoredPhone[] = [];
    for (const [label, f] of [
      ["work", "contact.phone"],
      ["mobile", "contact.mobile"],
    ] as const) {
      const p = phoneOf(label, v[f], header(f));
      if (typeof p === "string") return fail(p, `${named.first} ${named.last}`.trim());
      if (p) phones.push(p);
    }
    contact = {
      first: named.first.slice(0, 200),
      last: named.first === named.last ? "" : named.last.slice(0, 200),
      email,
      phones,
      title: v["contact.title"]?.slice(0, 200) ?? null,
    };
  }
  const clientPhone = phoneOf("main", v["client.phone"], header("client.phone"));
  if (typeof clientPhone === "string") return fail(clientPhone);

  const clientId = await upsertClient(trx, cache, totals, changed, clientName, {
    phone: clientPhone?.number ?? null,
    website: v["client.website"]?.slice(0, 500) ?? null,
    domain:
      (v["client.domain"] && domainOf(v["client.domain"])) ||
      (v["client.website"] && domainOf(v["client.website"])) ||
      null,
  });
  const siteId = await upsertSite(trx, cache, clientId, v);
  if (!contact) {
    return {
      row,
      outcome: "skipped",
      client: clientName,
      contact: null,
      reason: "no contact on this row (client only)",
    };
  }
  const name = `${contact.first} ${contact.last}`.trim();
  const result = await upsertContact(trx, clientId, siteId, contact);
  if (result.outcome === "created") totals.contacts.created++;
  else if (result.outcome === "updated") totals.contacts.updated++;
  else totals.contacts.skipped++;
  if (result.outcome !== "skipped") changed.contacts.push(result.id);
  return { row, outcome: result.outcome, client: clientName, contact: name, reason: result.reason };
}

async function upsertClient(
  trx: Transaction<DB>,
  cache: Cache,
  totals: Totals,
  changed: { clients: string[] },
  name: string,
  fields: { phone: string | null; website: string | null; domain: string | null },
) {
  const key = name.toLowerCase();
  const known = cache.clients.get(key);
  const existing = await trx
    .selectFrom("clients")
    .selectAll()
    .where(sql<string>`lower(name)`, "=", key)
    .orderBy("created_at")
    .limit(1)
    .executeTakeFirst();
  if (!existing) {
    const created = await trx
      .insertInto("clients")
      .values({
        name,
        phone: fields.phone,
        website: fields.website,
        email_domains: fields.domain ? [fields.domain] : [],
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    cache.clients.set(key, { id: created.id, fresh: true });
    totals.clients.created++;
    changed.clients.push(created.id);
    return created.id;
  }
  // Fill in what the client lacks; never overwrite what someone set in Switchboard.
  const set: { phone?: string; website?: string; email_domains?: string[] } = {};
  if (fields.phone && !existing.phone) set.phone = fields.phone;
  if (fields.website && !existing.website) set.website = fields.website;
  if (
    fields.domain &&
    !existing.email_domains.includes(fields.domain) &&
    existing.email_domains.length < 50
  ) {
    set.email_domains = [...existing.email_domains, fields.domain];
  }
  if (Object.keys(set).length) {
    await trx
      .updateTable("clients")
      .set((eb) => ({ ...set, version: eb("version", "+", 1), updated_at: new Date() }))
      .where("id", "=", existing.id)
      .execute();
    if (!known?.fresh) totals.clients.updated++;
    changed.clients.push(existing.id);
  } else if (!known) {
    totals.clients.unchanged++;
  }
  if (!known) cache.clients.set(key, { id: existing.id, fresh: false });
  return existing.id;
}

async function upsertSite(trx: Transaction<DB>, cache: Cache, clientId: string, v: Row) {
  const address = {
    address_line1: v["site.addressLine1"]?.slice(0, 200) ?? null,
    address_line2: v["site.addressLine2"]?.slice(0, 200) ?? null,
    city: v["site.city"]?.slice(0, 100) ?? null,
    region: v["site.region"]?.slice(0, 100) ?? null,
    postal_code: v["site.postalCode"]?.slice(0, 20) ?? null,
    country: v["site.country"]?.slice(0, 100) ?? null,
  };
  const hasAddress = Object.values(address).some(Boolean);
  if (!v["site.name"] && !hasAddress) return null;
  const name = (v["site.name"] ?? "Main").slice(0, 200);
  const key = `${clientId}:${name.toLowerCase()}`;
  const cached = cache.sites.get(key);
  if (cached) return cached;
  const existing = await trx
    .selectFrom("sites")
    .selectAll()
    .where("client_id", "=", clientId)
    .where(sql<string>`lower(name)`, "=", name.toLowerCase())
    .limit(1)
    .executeTakeFirst();
  let id: string;
  if (existing) {
    id = existing.id;
    const missing = Object.fromEntries(
      Object.entries(address).filter(([k, val]) => val && !existing[k as keyof typeof address]),
    );
    if (Object.keys(missing).length) {
      await trx
        .updateTable("sites")
        .set((eb) => ({ ...missing, version: eb("version", "+", 1), updated_at: new Date() }))
        .where("id", "=", id)
        .execute();
    }
  } else {
    id = (
      await trx
        .insertInto("sites")
        .values({ client_id: clientId, name, ...address })
        .returning("id")
        .executeTakeFirstOrThrow()
    ).id;
  }
  cache.sites.set(key, id);
  return id;
}

async function upsertContact(
  trx: Transaction<DB>,
  clientId: string,
  siteId: string | null,
  c: { first: string; last: string; email: string | null; phones: StoredPhone[]; title: string | null },
): Promise<{ id: string; outcome: "created" | "updated" | "skipped"; reason: string | null }> {
  const base = trx
    .selectFrom("contacts")
    .selectAll()
    .where("client_id", "=", clientId)
    .where("merged_into_id", "is", null);
  const found =
    (c.email &&
      (await base.where("emails", "@>", sql<string[]>`array[${c.email}]::text[]`).executeTakeFirst())) ||
    (await base
      .where(sql<string>`lower(first_name)`, "=", c.first.toLowerCase())
      .where(sql<string>`lower(last_name)`, "=", c.last.toLowerCase())
      .where((eb) =>
        // Two different people may share a name: one whose address differs is not the same contact.
        c.email
          ? eb.or([
              eb(sql`cardinality(emails)`, "=", 0),
              eb("emails", "@>", sql<string[]>`array[${c.email}]::text[]`),
            ])
          : eb.lit(true),
      )
      .executeTakeFirst());
  if (!found) {
    const created = await trx
      .insertInto("contacts")
      .values({
        client_id: clientId,
        site_id: siteId,
        first_name: c.first,
        last_name: c.last,
        title: c.title,
        emails: c.email ? [c.email] : [],
        ...normalizeContactPhones(c.phones),
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    return { id: created.id, outcome: "created", reason: null };
  }
  const have = new Set(found.phones.map((p) => phoneDigits(p.number)));
  const newPhones = c.phones.filter((p) => !have.has(phoneDigits(p.number)));
  const addEmail = c.email && !found.emails.includes(c.email);
  const what: string[] = [];
  if (addEmail) what.push("email");
  if (newPhones.length) what.push(newPhones.length === 1 ? "a phone number" : "phone numbers");
  if (c.title && c.title !== found.title) what.push("title");
  if (siteId && !found.site_id) what.push("site");
  if (!what.length) return { id: found.id, outcome: "skipped", reason: "already up to date" };
  await trx
    .updateTable("contacts")
    .set((eb) => ({
      ...(addEmail && { emails: [...found.emails, c.email!].slice(0, 20) }),
      ...(newPhones.length && normalizeContactPhones([...found.phones, ...newPhones].slice(0, 20))),
      ...(c.title && c.title !== found.title && { title: c.title }),
      ...(siteId && !found.site_id && { site_id: siteId }),
      version: eb("version", "+", 1),
      updated_at: new Date(),
    }))
    .where("id", "=", found.id)
    .execute();
  return { id: found.id, outcome: "updated", reason: `added ${what.join(", ")}` };
}
