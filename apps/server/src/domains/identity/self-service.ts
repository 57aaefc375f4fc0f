import type { SelfServiceResetRequest } from "@switchboard/shared";
import type { z } from "zod";
import { AppError } from "../../http/errors.ts";
import type { Actor } from "../auth/actor.ts";
import { BUILTIN_STATUS } from "../tickets/queries.ts";
import { createTicketInTx } from "../tickets/service.ts";
import { insertEntry } from "../tickets/timeline.ts";
import { type DirectoryDeps, runDirectoryAction } from "./directory.ts";
import { availableMethods, loadContactIdentity, loadPolicy } from "./policy.ts";
import { type IdentityDeps, SELF_METHODS } from "./verify.ts";

const ACTION_TEXT = { reset_password: "reset their password", unlock: "unlocked their account" } as const;

function me(actor: Actor) {
  if (actor.kind !== "contact" || !actor.contact)
    throw new AppError("forbidden", 403, "Only a signed-in contact");
  return actor.contact;
}

/** What the portal offers the contact: their authenticator, and whether they can reset on their own. */
export async function portalIdentity(deps: IdentityDeps, actor: Actor) {
  const c = (await loadContactIdentity(deps.db, me(actor).id))!;
  const policy = await loadPolicy(deps.db, c.clientId);
  const methods = (await availableMethods(deps.db, c, policy, !!deps.sms)).filter((m) =>
    SELF_METHODS.includes(m),
  );
  return {
    totp: c.totpConfirmed ? ("enrolled" as const) : c.totpSealed ? ("pending" as const) : ("none" as const),
    selfService: {
      account: c.directoryAccount,
      available: !!c.directoryAccount && !!policy.directoryDeviceId && methods.length > 0,
      methods: methods as Array<"sms" | "email" | "totp">,
    },
  };
}

/**
 * The contact resets (or unlocks) their own linked account after passing the policy's verification in
 * the portal. Done, it is a ticket resolved without a call; refused, the portal shows why and the contact
 * can try again (the audit log keeps every attempt).
 */
export async function selfServiceReset(
  deps: IdentityDeps & DirectoryDeps,
  actor: Actor,
  input: z.output<typeof SelfServiceResetRequest>,
) {
  const self = me(actor);
  const result = await runDirectoryAction(deps, actor, {
    contactId: self.id,
    verificationId: input.verificationId,
    action: input.action,
    password: input.action === "reset_password" ? input.password : undefined,
    mustChange: false,
    unlock: true,
  });
  if (result.action.status !== "succeeded") return { ...result, ticketNumber: null };
  const ticketNumber = await deps.db.transaction().execute(async (trx) => {
    const ticket = await createTicketInTx(trx, actor, {
      subject:
        input.action === "reset_password" ? "Password reset (self-service)" : "Account unlock (self-service)",
      description: `${actor.name} ${ACTION_TEXT[input.action]} (${result.action.account}) from the portal after verifying.`,
      clientId: self.clientId,
      contactId: self.id,
      type: "service_request",
      source: "portal",
      priority: 4,
      tags: ["self-service"],
      statusId: BUILTIN_STATUS.resolved.id,
    });
    await trx
      .updateTable("identity_actions")
      .set({ ticket_id: ticket.id })
      .where("id", "=", result.action.id)
      .execute();
    await trx
      .updateTable("identity_verifications")
      .set({ ticket_id: ticket.id })
      .where("id", "=", input.verificationId)
      .where("ticket_id", "is", null)
      .execute();
    await insertEntry(trx, actor, ticket, {
      kind: "event",
      visibility: "internal",
      body: `Self-service: ${ACTION_TEXT[input.action]} (${result.action.account}); verified in the portal`,
      event: {
        type: "identity_action",
        actionId: result.action.id,
        action: input.action,
        status: "succeeded",
      },
    });
    return ticket.number;
  });
  return { ...result, ticketNumber };
}
