import type { Database } from "../../db/database.ts";
import { AppError } from "../../http/errors.ts";
import { newTotpSecret, parseTotpSeed, totpUri, verifyTotp } from "../../lib/totp.ts";
import { recordChange } from "../audit/record.ts";
import type { Actor } from "../auth/actor.ts";
import { identityKeys } from "./keys.ts";
import { loadContactIdentity } from "./policy.ts";
import type { IdentityDeps } from "./verify.ts";

function contactOf(actor: Actor) {
  if (actor.kind !== "contact" || !actor.contact)
    throw new AppError("forbidden", 403, "Only the contact enrolls");
  return actor.contact;
}

/**
 * The contact enrolls an authenticator from the portal: a new seed (sealed at rest), shown once as an
 * otpauth URI and its secret; it counts as a method only after the first code proves it (confirmTotp).
 */
export async function enrollTotp(deps: IdentityDeps, actor: Actor) {
  const me = contactOf(actor);
  const keys = await identityKeys(deps.config);
  const secret = newTotpSecret();
  const seed = parseTotpSeed(secret)!;
  const uri = totpUri(seed, actor.name, deps.config.SWITCHBOARD_MSP_NAME);
  await deps.db.transaction().execute(async (trx) => {
    const c = (await loadContactIdentity(trx, me.id))!;
    const sealed = keys.sealTotp(me.id, uri);
    await trx
      .insertInto("identity_contacts")
      .values({
        contact_id: me.id,
        client_id: me.clientId,
        sms_number: c.smsNumber,
        email: c.email,
        totp_enc: sealed,
        totp_confirmed_at: null,
      })
      .onConflict((oc) => oc.column("contact_id").doUpdateSet({ totp_enc: sealed, totp_confirmed_at: null }))
      .execute();
    await recordChange(
      trx,
      actor,
      { action: "identity.totp_enroll", entityType: "contact", entityId: me.id, clientId: me.clientId },
      { type: "identity.contact_updated", clientId: me.clientId, payload: { contactId: me.id } },
    );
  });
  return { otpauthUri: uri, secret };
}

export async function confirmTotp(deps: IdentityDeps, actor: Actor, code: string) {
  const me = contactOf(actor);
  const keys = await identityKeys(deps.config);
  return confirm(deps.db, actor, me, code, keys.openTotp);
}

async function confirm(
  db: Database,
  actor: Actor,
  me: { id: string; clientId: string },
  code: string,
  openTotp: (contactId: string, sealed: string) => string,
) {
  return db.transaction().execute(async (trx) => {
    const c = await loadContactIdentity(trx, me.id);
    if (!c?.totpSealed)
      throw new AppError("invalid_transition", 409, "Start the authenticator enrollment first");
    const seed = parseTotpSeed(openTotp(me.id, c.totpSealed));
    if (!seed || !verifyTotp(seed, code))
      throw new AppError("code_rejected", 422, "That code does not match; check the time on your phone", {
        reason: "wrong",
      });
    await trx
      .updateTable("identity_contacts")
      .set({ totp_confirmed_at: new Date() })
      .where("contact_id", "=", me.id)
      .execute();
    await recordChange(
      trx,
      actor,
      { action: "identity.totp_confirm", entityType: "contact", entityId: me.id, clientId: me.clientId },
      { type: "identity.contact_updated", clientId: me.clientId, payload: { contactId: me.id } },
    );
    return { enrolled: true };
  });
}
