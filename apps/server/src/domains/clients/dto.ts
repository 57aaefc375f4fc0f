import type { ClientDto, ContactDto, SiteDto } from "@switchboard/shared";
import type { Selectable } from "kysely";
import type { ClientsTable, ContactsTable, SitesTable } from "../../db/schema.ts";

export type ClientRow = Selectable<ClientsTable>;
export type SiteRow = Selectable<SitesTable>;
export type ContactRow = Selectable<ContactsTable> & { client_name: string };

export const toClientDto = (c: ClientRow, openTickets?: number): ClientDto => ({
  id: c.id,
  name: c.name,
  emailDomains: c.email_domains,
  phone: c.phone,
  website: c.website,
  notes: c.notes,
  active: c.active,
  ...(openTickets === undefined ? {} : { openTickets }),
  createdAt: c.created_at.toISOString(),
  updatedAt: c.updated_at.toISOString(),
  version: c.version,
});

export const toSiteDto = (s: SiteRow): SiteDto => ({
  id: s.id,
  clientId: s.client_id,
  name: s.name,
  addressLine1: s.address_line1,
  addressLine2: s.address_line2,
  city: s.city,
  region: s.region,
  postalCode: s.postal_code,
  country: s.country,
  timezone: s.timezone,
  phone: s.phone,
  notes: s.notes,
  version: s.version,
});

export const contactName = (c: Pick<ContactRow, "first_name" | "last_name">) =>
  `${c.first_name} ${c.last_name}`.trim();

export const toContactDto = (c: ContactRow): ContactDto => ({
  id: c.id,
  clientId: c.client_id,
  clientName: c.client_name,
  siteId: c.site_id,
  firstName: c.first_name,
  lastName: c.last_name,
  name: contactName(c),
  title: c.title,
  emails: c.emails,
  phones: c.phones,
  vip: c.vip,
  notes: c.notes,
  active: c.active,
  mergedIntoId: c.merged_into_id,
  createdAt: c.created_at.toISOString(),
  version: c.version,
});
