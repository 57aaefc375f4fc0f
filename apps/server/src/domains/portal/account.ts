import type { PortalAccountDto, PortalMeDto } from "@switchboard/shared";
import type { Selectable } from "kysely";
import type { AppDeps } from "../../app.ts";
import type { Database } from "../../db/database.ts";
import type { PortalAccountsTable } from "../../db/schema.ts";
import { AppError, conflictOn, invalid, notFound } from "../../http/errors.ts";
import { newTotpSecret, parseTotpSeed, totpUri, verifyTotp } from "../../lib/totp.ts";
import { writeAudit } from "../audit/audit.ts";
import { type Actor, assertClientVisible, requireRole } from "../auth/actor.ts";
import { verifyPassword } from "../auth/crypto.ts";
import { secretBox } from "../email/secrets.ts";
import { checkNewPassword, mailSignInLink } from "./sign-in.ts";
import { contactOf } from "./tickets.ts";

export async function portalMe(db: Database, actor: Actor): Promise<PortalMeDto> {
  const c = contactOf(actor);
  const row = await db
    .selectFrom("portal_accounts as a")
    .innerJoin("clients as cl", "cl.id", "a.client_id")
    .select(["a.email", "a.password_hash", "a.totp_secret", "cl.name as client_name"])
    .where("a.contact_id", "=", c.id)
    .executeTakeFirstOrThrow();
  const msp = await db.selectFrom("msp").select("name").executeTakeFirst();
  return {
    contactId: c.id,
    name: actor.name,
    email: row.email,
    client: { id: c.clientId, name: row.client_name },
    companyAdmin: c.companyAdmin,
    hasPassword: row.password_hash !== null,
    totpEnabled: row.totp_secret !== null,
    mspName: msp?.name ?? "",
  };
}

/** A contact sets (or changes) their password; changing one needs the current one. */
export async function setPortalPassword(
  db: Database,
  actor: Actor,
  input: { password: string; currentPassword?: string },
) {
  const c = contactOf(actor);
  const hash = await checkNewPassword(input.password);
  await db.transaction().execute(async (trx) => {
    const a = await trx
      .selectFrom("portal_accounts")
      .select("password_hash")
      .where("contact_id", "=", c.id)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (a.password_hash && !(await verifyPassword(a.password_hash, input.currentPassword ?? ""))) {
      throw invalid("body.currentPassword", "is not your current password");
    }
    await trx
      .updateTable("portal_accounts")
      .set({ password_hash: hash, updated_at: new Date() })
      .where("contact_id", "=", c.id)
      .execute();
    await writeAudit(trx, actor, {
      action: "portal.password_set",
      entityType: "contact",
      entityId: c.id,
      clientId: c.clientId,
    });
  });
}

/** Starts TOTP set-up: a new seed, shown to the contact once so their app can take it. */
export async function startPortalTotp(deps: AppDeps, actor: Actor) {
  const c = contactOf(actor);
  const secret = newTotpSecret();
  const seed = parseTotpSeed(secret)!;
  const row = await deps.db
    .updateTable("portal_accounts")
    .set({ totp_pending: (await secretBox(deps.config)).seal(secret) })
    .where("contact_id", "=", c.id)
    .returning("email")
    .executeTakeFirstOrThrow();
  const msp = (await deps.db.selectFrom("msp").select("name").executeTakeFirst())?.name ?? "Switchboard";
  return { secret, uri: totpUri(seed, row.email, msp) };
}

/** Turns TOTP on once a code from the pending seed checks out. */
export async function confirmPortalTotp(deps: AppDeps, actor: Actor, code: string) {
  const c = contactOf(actor);
  const box = await secretBox(deps.config);
  await deps.db.transaction().execute(async (trx) => {
    const a = await trx
      .selectFrom("portal_accounts")
      .select("totp_pending")
      .where("contact_id", "=", c.id)
      .forUpdate()
      .executeTakeFirstOrThrow();
    const seed = a.totp_pending ? parseTotpSeed(box.open(a.totp_pending)) : null;
    if (!seed) throw new AppError("invalid_transition", 409, "Start the authenticator set-up first");
    if (!verifyTotp(seed, code)) throw invalid("body.code", "is not the current code");
    await trx
      .updateTable("portal_accounts")
      .set({ totp_secret: a.totp_pending, totp_pending: null, updated_at: new Date() })
      .where("contact_id", "=", c.id)
      .execute();
    await writeAudit(trx, actor, {
      action: "portal.totp_enable",
      entityType: "contact",
      entityId: c.id,
      clientId: c.clientId,
    });
  });
}

const toAccountDto = (a: Selectable<PortalAccountsTable>): PortalAccountDto => ({
  contactId: a.contact_id,
  email: a.email,
  enabled: a.enabled,
  companyAdmin: a.company_admin,
  hasPassword: a.password_hash !== null,
  totpEnabled: a.totp_secret !== null,
  lastSignInAt: a.last_sign_in_at?.toISOString() ?? null,
});

async function contactFor(db: Database, actor: Actor, contactId: string) {
  const contact = await db
    .selectFrom("contacts")
    .select(["id", "client_id", "emails", "first_name", "active"])
    .where("id", "=", contactId)
    .executeTakeFirst();
  if (!contact) throw notFound("Contact");
  assertClientVisible(actor, contact.client_id, "Contact");
  return contact;
}

/** Staff: a contact's portal access, or null when they have none. */
export async function getPortalAccount(db: Database, actor: Actor, contactId: string) {
  await contactFor(db, actor, contactId);
  const a = await db
    .selectFrom("portal_accounts")
    .selectAll()
    .where("contact_id", "=", contactId)
    .executeTakeFirst();
  return a ? toAccountDto(a) : null;
}

/**
 * Staff (admins and dispatchers): gives a contact portal access or changes it; `invite` mails them a
 * sign-in link. Turning access off ends their portal sessions.
 */
export async function putPortalAccount(
  deps: AppDeps,
  actor: Actor,
  contactId: string,
  input: { email?: string; enabled: boolean; companyAdmin: boolean; invite: boolean },
) {
  requireRole(actor, "admin", "dispatcher");
  const contact = await contactFor(deps.db, actor, contactId);
  const email = input.email ?? contact.emails[0];
  if (!email) throw invalid("body.email", "the contact has no email address; give one");
  const row = await deps.db.transaction().execute(async (trx) => {
    const before = await trx
      .selectFrom("portal_accounts")
      .selectAll()
      .where("contact_id", "=", contactId)
      .forUpdate()
      .executeTakeFirst();
    const taken = await trx
      .selectFrom("portal_accounts")
      .select("contact_id")
      .where((eb) => eb(eb.fn("lower", ["email"]), "=", email.toLowerCase()))
      .where("contact_id", "<>", contactId)
      .executeTakeFirst();
    if (taken) throw conflictOn("body.email", "another contact signs in with this address");
    const values = {
      email,
      enabled: input.enabled,
      company_admin: input.companyAdmin,
      updated_at: new Date(),
    };
    const after = before
      ? await trx
          .updateTable("portal_accounts")
          .set({ ...values, version: before.version + 1 })
          .where("contact_id", "=", contactId)
          .returningAll()
          .executeTakeFirstOrThrow()
      : await trx
          .insertInto("portal_accounts")
          .values({ ...values, contact_id: contactId, client_id: contact.client_id })
          .returningAll()
          .executeTakeFirstOrThrow();
    if (!input.enabled || (before && before.email.toLowerCase() !== email.toLowerCase())) {
      await trx.deleteFrom("portal_sessions").where("contact_id", "=", contactId).execute();
    }
    await writeAudit(trx, actor, {
      action: before ? "portal.account_update" : "portal.account_create",
      entityType: "contact",
      entityId: contactId,
      clientId: contact.client_id,
      before: before ? toAccountDto(before) : undefined,
      after: toAccountDto(after),
    });
    return after;
  });
  if (input.invite && row.enabled) {
    if (!contact.active) throw invalid("body.invite", "the contact is inactive");
    await mailSignInLink(
      deps,
      { contact_id: contactId, client_id: contact.client_id, email, first_name: contact.first_name },
      "invite",
    );
  }
  return toAccountDto(row);
}
