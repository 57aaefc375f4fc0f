import type {
  ContactIdentityDto,
  IdentityMethod,
  IdentityPolicyDto,
  UpdateContactIdentityRequest,
  UpdateIdentityPolicyRequest,
} from "@switchboard/shared";
import type { Kysely, Transaction } from "kysely";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import type { DB } from "../../db/schema.ts";
import { invalid, notFound, versionConflict } from "../../http/errors.ts";
import { recordChange } from "../audit/record.ts";
import { type Actor, assertClientVisible, requireRole, requireWriter } from "../auth/actor.ts";
import { visibleClient } from "../clients/service.ts";

type Db = Kysely<DB> | Transaction<DB>;
type FactorMethod = IdentityPolicyDto["methods"][number];

export const DEFAULT_POLICY = {
  methods: ["sms", "email", "totp", "manager"] as FactorMethod[],
  factors: 1,
  privilegedFactors: 2,
  managerSatisfiesPrivileged: true,
  validityMinutes: 10,
  directoryDeviceId: null,
  directoryKind: null,
};

export async function loadPolicy(db: Db, clientId: string): Promise<IdentityPolicyDto> {
  const row = await db
    .selectFrom("identity_policies")
    .selectAll()
    .where("client_id", "=", clientId)
    .executeTakeFirst();
  if (!row) return { clientId, ...DEFAULT_POLICY, version: 1, updatedAt: null };
  return {
    clientId,
    methods: row.methods.filter((m): m is FactorMethod => m !== "reverse"),
    factors: row.factors,
    privilegedFactors: row.privileged_factors,
    managerSatisfiesPrivileged: row.manager_satisfies_privileged,
    validityMinutes: row.validity_minutes,
    directoryDeviceId: row.directory_device_id,
    directoryKind: row.directory_kind,
    version: row.version,
    updatedAt: row.updated_at.toISOString(),
  };
}

export async function getPolicy(db: Database, actor: Actor, clientId: string) {
  await visibleClient(db, actor, clientId);
  return loadPolicy(db, clientId);
}

export async function updatePolicy(
  db: Database,
  actor: Actor,
  clientId: string,
  input: z.output<typeof UpdateIdentityPolicyRequest>,
) {
  requireRole(actor, "admin");
  return db.transaction().execute(async (trx) => {
    await visibleClient(trx, actor, clientId);
    await trx.selectFrom("clients").select("id").where("id", "=", clientId).forUpdate().execute();
    const before = await loadPolicy(trx, clientId);
    if (before.version !== input.version) throw versionConflict("verification policy", before);
    if (input.directoryDeviceId) {
      const d = await trx
        .selectFrom("devices")
        .select(["client_id", "retired_at"])
        .where("id", "=", input.directoryDeviceId)
        .executeTakeFirst();
      if (!d || d.client_id !== clientId || d.retired_at)
        throw invalid("body.directoryDeviceId", "is not an active device of this client");
      if (!input.directoryKind) throw invalid("body.directoryKind", "is required with a directory device");
    }
    const values = {
      methods: [...new Set(input.methods)],
      factors: input.factors,
      privileged_factors: Math.max(input.privilegedFactors, input.factors),
      manager_satisfies_privileged: input.managerSatisfiesPrivileged,
      validity_minutes: input.validityMinutes,
      directory_device_id: input.directoryDeviceId,
      directory_kind: input.directoryDeviceId ? input.directoryKind : null,
      updated_at: new Date(),
      updated_by_user_id: actor.userId,
    };
    await trx
      .insertInto("identity_policies")
      .values({ client_id: clientId, ...values, version: before.version + 1 })
      .onConflict((oc) => oc.column("client_id").doUpdateSet({ ...values, version: before.version + 1 }))
      .execute();
    const after = await loadPolicy(trx, clientId);
    await recordChange(
      trx,
      actor,
      { action: "identity.policy_update", entityType: "client", entityId: clientId, clientId, before, after },
      { type: "identity.policy_updated", clientId, payload: { clientId } },
    );
    return after;
  });
}

export interface ContactIdentity {
  contactId: string;
  clientId: string;
  name: string;
  vip: boolean;
  smsNumber: string | null;
  email: string | null;
  totpSealed: string | null;
  totpConfirmed: boolean;
  approver: boolean;
  adminAccount: boolean;
  directoryAccount: string | null;
  directoryAccountSource: "typed" | "discovered" | null;
  directoryAccountSetAt: Date | null;
  version: number;
}

/** A contact's verification details: their settings row, or what their contact record suggests. */
export async function loadContactIdentity(db: Db, contactId: string): Promise<ContactIdentity | null> {
  const row = await db
    .selectFrom("contacts as c")
    .leftJoin("identity_contacts as i", "i.contact_id", "c.id")
    .select([
      "c.id",
      "c.client_id",
      "c.first_name",
      "c.last_name",
      "c.vip",
      "c.emails",
      "c.phones",
      "c.active",
      "i.contact_id as settings",
      "i.sms_number",
      "i.email",
      "i.totp_enc",
      "i.totp_confirmed_at",
      "i.approver",
      "i.admin_account",
      "i.directory_account",
      "i.directory_account_source",
      "i.directory_account_set_at",
      "i.version",
    ])
    .where("c.id", "=", contactId)
    .executeTakeFirst();
  if (!row) return null;
  const mobile = row.phones
    .map((p) => p.number.replace(/[\s().-]/g, ""))
    .find((n) => /^\+[1-9]\d{6,14}$/.test(n));
  return {
    contactId: row.id,
    clientId: row.client_id,
    name: `${row.first_name} ${row.last_name}`.trim(),
    vip: row.vip,
    smsNumber: row.settings ? row.sms_number : (mobile ?? null),
    email: row.settings ? row.email : (row.emails[0] ?? null),
    totpSealed: row.totp_enc ?? null,
    totpConfirmed: !!row.totp_confirmed_at,
    approver: row.approver ?? false,
    adminAccount: row.admin_account ?? false,
    directoryAccount: row.directory_account ?? null,
    directoryAccountSource: row.directory_account_source ?? null,
    directoryAccountSetAt: row.directory_account_set_at ?? null,
    version: row.version ?? 0,
  };
}

/** Approvers of the client other than `contactId` (a caller never approves their own verification). */
export async function otherApprovers(db: Db, clientId: string, contactId: string) {
  return db
    .selectFrom("identity_contacts as i")
    .innerJoin("contacts as c", "c.id", "i.contact_id")
    .select(["c.id", "c.first_name", "c.last_name", "i.email", "c.emails"])
    .where("i.client_id", "=", clientId)
    .where("i.approver", "=", true)
    .where("c.active", "=", true)
    .where("c.id", "<>", contactId)
    .orderBy("c.last_name")
    .execute();
}

/** What a technician may use for this contact now: the policy's methods the contact can receive. */
export async function availableMethods(
  db: Db,
  c: ContactIdentity,
  policy: IdentityPolicyDto,
  smsReady: boolean,
): Promise<IdentityMethod[]> {
  const out: IdentityMethod[] = [];
  const allowed = new Set(policy.methods);
  if (allowed.has("sms") && smsReady && c.smsNumber) out.push("sms");
  if (allowed.has("email") && c.email) out.push("email");
  if (allowed.has("totp") && c.totpConfirmed) out.push("totp");
  if (allowed.has("manager") && (await otherApprovers(db, c.clientId, c.contactId)).length)
    out.push("manager");
  if ((smsReady && c.smsNumber) || c.email) out.push("reverse");
  return out;
}

export const isPrivileged = (c: ContactIdentity) => c.vip || c.adminAccount;

export async function visibleContact(db: Db, actor: Actor, contactId: string) {
  const c = await loadContactIdentity(db, contactId);
  if (!c) throw notFound("Contact");
  assertClientVisible(actor, c.clientId, "Contact");
  return c;
}

export async function contactIdentityDto(
  db: Db,
  c: ContactIdentity,
  smsReady: boolean,
): Promise<ContactIdentityDto> {
  const policy = await loadPolicy(db, c.clientId);
  return {
    contactId: c.contactId,
    clientId: c.clientId,
    name: c.name,
    vip: c.vip,
    smsNumber: c.smsNumber,
    email: c.email,
    totp: c.totpConfirmed ? "enrolled" : c.totpSealed ? "pending" : "none",
    approver: c.approver,
    adminAccount: c.adminAccount,
    directoryAccount: c.directoryAccount,
    availableMethods: await availableMethods(db, c, policy, smsReady),
    privileged: isPrivileged(c),
    version: c.version,
  };
}

export async function updateContactIdentity(
  db: Database,
  actor: Actor,
  contactId: string,
  input: z.output<typeof UpdateContactIdentityRequest>,
) {
  requireWriter(actor);
  return db.transaction().execute(async (trx) => {
    const before = await visibleContact(trx, actor, contactId);
    await trx.selectFrom("contacts").select("id").where("id", "=", contactId).forUpdate().execute();
    const current = (await loadContactIdentity(trx, contactId))!;
    if (current.version !== input.version) throw versionConflict("contact's verification details", current);
    const relinked = input.directoryAccount !== current.directoryAccount;
    const values = {
      sms_number: input.smsNumber,
      email: input.email,
      approver: input.approver,
      admin_account: input.adminAccount,
      directory_account: input.directoryAccount,
      ...(relinked
        ? {
            directory_account_set_at: new Date(),
            directory_account_source:
              input.directoryAccount === null
                ? null
                : (await foundInDirectory(trx, contactId, input.directoryAccount))
                  ? ("discovered" as const)
                  : ("typed" as const),
          }
        : {}),
      updated_at: new Date(),
    };
    await trx
      .insertInto("identity_contacts")
      .values({ contact_id: contactId, client_id: before.clientId, ...values, version: 1 })
      .onConflict((oc) => oc.column("contact_id").doUpdateSet({ ...values, version: current.version + 1 }))
      .execute();
    const after = (await loadContactIdentity(trx, contactId))!;
    const visible = ({ totpSealed: _, ...rest }: ContactIdentity) => rest;
    await recordChange(
      trx,
      actor,
      {
        action: "identity.contact_update",
        entityType: "contact",
        entityId: contactId,
        clientId: before.clientId,
        before: visible(before),
        after: visible(after),
      },
      { type: "identity.contact_updated", clientId: before.clientId, payload: { contactId } },
    );
    return after;
  });
}

/** Whether a lookup through the agent in the last hour found this account for the contact's address. */
async function foundInDirectory(db: Db, contactId: string, account: string) {
  const rows = await db
    .selectFrom("identity_actions")
    .select("result")
    .where("contact_id", "=", contactId)
    .where("action", "=", "discover")
    .where("status", "=", "succeeded")
    .where("created_at", ">", new Date(Date.now() - 3600_000))
    .execute();
  const want = account.toLowerCase();
  return rows.some((r) =>
    (
      (r.result?.accounts ?? []) as Array<{
        samAccountName?: string | null;
        userPrincipalName?: string | null;
      }>
    ).some((a) => a.samAccountName?.toLowerCase() === want || a.userPrincipalName?.toLowerCase() === want),
  );
}
