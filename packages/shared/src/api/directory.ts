import { z } from "zod";
import { UserRole } from "./auth.ts";
import { Email, Id, PageQuery, Timestamp, TimeZone, Versioned } from "./common.ts";

const Name = z.string().trim().min(1).max(200);
const Notes = z.string().max(20_000);

// ---- users and teams
export const UserDto = z.object({
  id: Id,
  email: z.string(),
  name: z.string(),
  role: UserRole,
  active: z.boolean(),
  allClients: z.boolean(),
  clientIds: z.array(Id),
  teamIds: z.array(Id),
  timezone: z.string(),
  phone: z.string().nullable(),
  createdAt: Timestamp,
  version: z.number().int(),
});
export type UserDto = z.infer<typeof UserDto>;

export const CreateUserRequest = z.object({
  email: Email,
  name: Name,
  role: UserRole,
  password: z.string().min(12, { error: "must be at least 12 characters" }).max(256).optional(),
  allClients: z.boolean().default(true),
  clientIds: z.array(Id).max(10_000).default([]),
  teamIds: z.array(Id).max(500).default([]),
  timezone: TimeZone.default("UTC"),
  phone: z.string().max(50).nullable().optional(),
});
export const UpdateUserRequest = Versioned.extend({
  email: Email.optional(),
  name: Name.optional(),
  role: UserRole.optional(),
  password: z.string().min(12, { error: "must be at least 12 characters" }).max(256).optional(),
  active: z.boolean().optional(),
  allClients: z.boolean().optional(),
  clientIds: z.array(Id).max(10_000).optional(),
  teamIds: z.array(Id).max(500).optional(),
  timezone: TimeZone.optional(),
  phone: z.string().max(50).nullable().optional(),
  /** Required when users change their own password, so a borrowed session cannot take the account. */
  currentPassword: z.string().min(1).max(256).optional(),
  /** Revoke every API token of the user too (offered with a password change). */
  revokeApiTokens: z.boolean().optional(),
});

/** What every signed-in user may see of a colleague: enough for assignee pickers. */
export const UserSummaryDto = z.object({ id: Id, name: z.string(), role: UserRole });
export type UserSummaryDto = z.infer<typeof UserSummaryDto>;
const QueryFlag = z.stringbool({ error: "must be true or false" });
export const UserListQuery = z.object({
  q: z.string().trim().max(200).optional(),
  role: UserRole.optional(),
  teamId: Id.optional(),
  /** Admins and dispatchers only; others only ever see active users. */
  includeInactive: QueryFlag.default(false),
});

/** Which notification emails a technician gets; every one is on until they turn it off. */
export const NotificationPreferencesDto = z.object({
  userId: Id,
  /** "Assigned to you" when a ticket is assigned to me (by someone else). */
  assigned: z.boolean(),
  /** "New reply" when the customer writes on a ticket assigned to me. */
  newReply: z.boolean(),
  /** Monitoring opened a P1 ticket for a client I see (admins and dispatchers, or its assignee). */
  monitoringP1: z.boolean(),
});
export type NotificationPreferencesDto = z.infer<typeof NotificationPreferencesDto>;
const Toggle = z.boolean({ error: "must be true or false" });
/** The preferences to change; those left out keep their value. Unknown names are refused. */
export const UpdateNotificationPreferencesRequest = z.strictObject({
  assigned: Toggle.optional(),
  newReply: Toggle.optional(),
  monitoringP1: Toggle.optional(),
});
export type UpdateNotificationPreferencesRequest = z.infer<typeof UpdateNotificationPreferencesRequest>;

export const TeamDto = z.object({
  id: Id,
  name: z.string(),
  description: z.string(),
  memberIds: z.array(Id),
  version: z.number().int(),
});
export type TeamDto = z.infer<typeof TeamDto>;
export const CreateTeamRequest = z.object({
  name: Name,
  description: z.string().max(2000).default(""),
  memberIds: z.array(Id).max(1000).default([]),
});
export const UpdateTeamRequest = Versioned.extend({
  name: Name.optional(),
  description: z.string().max(2000).optional(),
  memberIds: z.array(Id).max(1000).optional(),
});

// ---- clients, sites, contacts
const Domain = z
  .string()
  .trim()
  .toLowerCase()
  .regex(/^(?=.{1,253}$)([a-z0-9-]{1,63}\.)+[a-z]{2,63}$/, { error: "must be a domain such as example.com" });

export const ClientDto = z.object({
  id: Id,
  name: z.string(),
  emailDomains: z.array(z.string()),
  phone: z.string().nullable(),
  website: z.string().nullable(),
  notes: z.string(),
  active: z.boolean(),
  openTickets: z.number().int().optional(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
  version: z.number().int(),
});
export type ClientDto = z.infer<typeof ClientDto>;
export const CreateClientRequest = z.object({
  name: Name,
  emailDomains: z.array(Domain).max(50).default([]),
  phone: z.string().max(50).nullable().optional(),
  website: z.string().max(500).nullable().optional(),
  notes: Notes.default(""),
});
export const UpdateClientRequest = Versioned.extend({
  name: Name.optional(),
  emailDomains: z.array(Domain).max(50).optional(),
  phone: z.string().max(50).nullable().optional(),
  website: z.string().max(500).nullable().optional(),
  notes: Notes.optional(),
  active: z.boolean().optional(),
});

export const SiteDto = z.object({
  id: Id,
  clientId: Id,
  name: z.string(),
  addressLine1: z.string().nullable(),
  addressLine2: z.string().nullable(),
  city: z.string().nullable(),
  region: z.string().nullable(),
  postalCode: z.string().nullable(),
  country: z.string().nullable(),
  timezone: z.string(),
  phone: z.string().nullable(),
  notes: z.string(),
  version: z.number().int(),
});
export type SiteDto = z.infer<typeof SiteDto>;
const SiteFields = {
  name: Name,
  addressLine1: z.string().max(200).nullable().optional(),
  addressLine2: z.string().max(200).nullable().optional(),
  city: z.string().max(100).nullable().optional(),
  region: z.string().max(100).nullable().optional(),
  postalCode: z.string().max(20).nullable().optional(),
  country: z.string().max(100).nullable().optional(),
  timezone: TimeZone,
  phone: z.string().max(50).nullable().optional(),
  notes: Notes,
};
// The defaults belong to create only: on update a missing field means "unchanged", not "reset".
export const CreateSiteRequest = z.object({
  ...SiteFields,
  timezone: TimeZone.default("UTC"),
  notes: Notes.default(""),
});
export const UpdateSiteRequest = Versioned.extend(
  Object.fromEntries(Object.entries(SiteFields).map(([k, v]) => [k, v.optional()])) as {
    [K in keyof typeof SiteFields]: z.ZodOptional<(typeof SiteFields)[K]>;
  },
);

export const PhoneNumber = z.object({
  label: z.string().trim().min(1).max(30).default("work"),
  number: z
    .string()
    .trim()
    .min(3)
    .max(40)
    .regex(/^[0-9+().\-\s/x#*]+$/i, { error: "may contain digits, spaces and + ( ) . - / x only" })
    .refine((v) => v.replace(/\D/g, "").length >= 3, { error: "must contain at least 3 digits" }),
});

export const ContactDto = z.object({
  id: Id,
  clientId: Id,
  clientName: z.string(),
  siteId: Id.nullable(),
  firstName: z.string(),
  lastName: z.string(),
  name: z.string(),
  title: z.string().nullable(),
  emails: z.array(z.string()),
  phones: z.array(z.object({ label: z.string(), number: z.string() })),
  vip: z.boolean(),
  notes: z.string(),
  active: z.boolean(),
  /** Set when this contact was merged into another as a duplicate: open that one instead. */
  mergedIntoId: Id.nullable().optional(),
  createdAt: Timestamp,
  version: z.number().int(),
});
export type ContactDto = z.infer<typeof ContactDto>;
const ContactFields = {
  siteId: Id.nullable().optional(),
  firstName: Name,
  lastName: z.string().trim().max(200).default(""),
  title: z.string().max(200).nullable().optional(),
  emails: z.array(Email).max(20).default([]),
  phones: z.array(PhoneNumber).max(20).default([]),
  vip: z.boolean().default(false),
  notes: Notes.default(""),
};
export const CreateContactRequest = z.object({ clientId: Id, ...ContactFields });
export const UpdateContactRequest = Versioned.extend({
  siteId: ContactFields.siteId,
  firstName: Name.optional(),
  lastName: z.string().trim().max(200).optional(),
  title: ContactFields.title,
  emails: z.array(Email).max(20).optional(),
  phones: z.array(PhoneNumber).max(20).optional(),
  vip: z.boolean().optional(),
  notes: Notes.optional(),
  active: z.boolean().optional(),
});

export const ClientListQuery = PageQuery.extend({
  q: z.string().trim().min(1).max(200).optional(),
  includeInactive: QueryFlag.default(false),
});
export const ContactListQuery = PageQuery.extend({
  clientId: Id.optional(),
  /** A name, an email (exact or prefix) or a phone number in any format. */
  q: z.string().trim().min(1).max(200).optional(),
  includeInactive: QueryFlag.default(false),
});
