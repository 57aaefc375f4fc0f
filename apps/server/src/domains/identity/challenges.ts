import { timingSafeEqual } from "node:crypto";
import type {
  CheckCodeRequest,
  ConfirmReverseRequest,
  SendChallengeRequest,
  VerificationDto,
} from "@switchboard/shared";
import type { z } from "zod";
import { AppError, invalid, notFound } from "../../http/errors.ts";
import { serverKeys, signToken } from "../../lib/server-keys.ts";
import { SmsError } from "../../lib/sms.ts";
import { parseTotpSeed, type TotpParams, totpCode } from "../../lib/totp.ts";
import { recordChange } from "../audit/record.ts";
import { type Actor, requireWriter } from "../auth/actor.ts";
import { queueSystemMail } from "../email/system-mail.ts";
import { publicBase } from "../portal/sign-in.ts";
import { identityKeys, newCode } from "./keys.ts";
import { availableMethods, loadContactIdentity, loadPolicy, otherApprovers } from "./policy.ts";

import {
  APPROVAL_TTL_MS,
  CODE_TRIES,
  CODE_TTL_MS,
  CODES_PER_CONTACT_HOUR,
  fail,
  type IdentityDeps,
  loadVerification,
  lockVerification,
  MAX_CHALLENGES,
  METHOD_LABEL,
  note,
  pendingOrThrow,
  SELF_METHODS,
  settle,
} from "./verify.ts";

// Challenges of a verification: codes sent (SMS, email) or asked for (authenticator), checked with every
// try counted, and the reverse check the caller uses to verify the technician.

export const maskPhone = (n: string) =>
  `${n.slice(0, 2)}${"•".repeat(Math.max(0, n.length - 6))}${n.slice(-4)}`;
export const maskEmail = (e: string) => {
  const [local = "", domain = ""] = e.split("@");
  return `${local.slice(0, 1)}•••@${domain}`;
};

/**
 * Sends one challenge: a code by SMS or email (stored only as its HMAC), a TOTP prompt, a manager's
 * approval link, or a reverse check whose code the technician reads out (returned once, here only).
 * An SMS the provider refuses is recorded on the challenge with the provider's reason.
 */
export async function sendChallenge(
  deps: IdentityDeps,
  actor: Actor,
  verificationId: string,
  input: z.output<typeof SendChallengeRequest>,
): Promise<{ verification: VerificationDto; readOut: string | null }> {
  requireWriter(actor);
  const keys = await identityKeys(deps.config);
  const code = newCode();
  let sms: { to: string; body: string; challengeId: string } | null = null;
  await deps.db.transaction().execute(async (trx) => {
    const v = await lockVerification(trx, actor, verificationId);
    pendingOrThrow(v);
    const c = (await loadContactIdentity(trx, v.contact_id))!;
    const policy = await loadPolicy(trx, v.client_id);
    const methods = await availableMethods(trx, c, policy, !!deps.sms);
    if (!methods.includes(input.method) || (actor.kind === "contact" && !SELF_METHODS.includes(input.method)))
      throw invalid("body.method", `${METHOD_LABEL[input.method]} is not available for ${c.name}`);
    const sent = await trx
      .selectFrom("identity_challenges")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("verification_id", "=", v.id)
      .executeTakeFirstOrThrow();
    const recent = await trx
      .selectFrom("identity_challenges as ch")
      .innerJoin("identity_verifications as iv", "iv.id", "ch.verification_id")
      .select((eb) => eb.fn.countAll<string>().as("n"))
      .where("iv.contact_id", "=", v.contact_id)
      .where("ch.method", "in", ["sms", "email", "reverse"])
      .where("ch.created_at", ">", new Date(Date.now() - 3600_000))
      .executeTakeFirstOrThrow();
    if (
      (input.method === "sms" || input.method === "email" || input.method === "reverse") &&
      Number(recent.n) >= CODES_PER_CONTACT_HOUR
    )
      throw new AppError(
        "rate_limited",
        429,
        `${c.name} was sent ${CODES_PER_CONTACT_HOUR} codes in the last hour; wait before sending more`,
        {
          retryAfterSeconds: 900,
        },
      );
    if (Number(sent.n) >= MAX_CHALLENGES)
      throw new AppError("rate_limited", 429, "Too many codes for this verification; start a new one", {
        retryAfterSeconds: 0,
      });
    const channel: "sms" | "email" | null =
      input.method === "sms" || input.method === "email"
        ? input.method
        : input.method === "reverse"
          ? (input.via ?? (deps.sms && c.smsNumber ? "sms" : "email"))
          : null;
    if (channel === "sms" && !(deps.sms && c.smsNumber)) throw invalid("body.via", "SMS is not available");
    if (channel === "email" && !c.email) throw invalid("body.via", "the contact has no email address");
    let approver: Awaited<ReturnType<typeof otherApprovers>>[number] | undefined;
    if (input.method === "manager") {
      const approvers = await otherApprovers(trx, v.client_id, v.contact_id);
      approver = input.approverContactId
        ? approvers.find((a) => a.id === input.approverContactId)
        : approvers.find((a) => a.email ?? a.emails[0]);
      if (!approver) throw invalid("body.approverContactId", "is not an approver of this client");
    }
    const destination =
      channel === "sms"
        ? maskPhone(c.smsNumber!)
        : channel === "email"
          ? maskEmail(c.email!)
          : approver
            ? `${approver.first_name} ${approver.last_name}`.trim()
            : "authenticator app";
    const ttl = input.method === "manager" ? APPROVAL_TTL_MS : CODE_TTL_MS;
    const ch = await trx
      .insertInto("identity_challenges")
      .values({
        client_id: v.client_id,
        verification_id: v.id,
        method: input.method,
        destination,
        approver_contact_id: approver?.id ?? null,
        max_attempts: CODE_TRIES,
        expires_at: new Date(Date.now() + ttl),
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    if (channel) {
      await trx
        .updateTable("identity_challenges")
        .set({ code_hmac: keys.codeMac(ch.id, code) })
        .where("id", "=", ch.id)
        .execute();
    }
    const msp = deps.config.SWITCHBOARD_MSP_NAME;
    const text = (secret: string) =>
      input.method === "reverse"
        ? `${msp} support: your technician ${actor.name} will read you this code: ${secret}. If they cannot, hang up and call us back.`
        : `${msp} support: your verification code is ${secret}. It expires in 2 minutes. Never share it with anyone who calls you.`;
    if (channel === "sms") sms = { to: c.smsNumber!, body: text(code), challengeId: ch.id };
    if (channel === "email") {
      const mailId = await queueSystemMail(deps, trx, {
        to: c.email!,
        subject:
          input.method === "reverse" ? `${msp}: your technician's code` : `${msp}: your verification code`,
        text: text("[code: sent, not stored]"),
        secretText: text(code),
        template: "identity_code",
        ticketId: v.ticket_id ?? undefined,
      });
      await trx
        .updateTable("identity_challenges")
        .set({ provider_id: mailId })
        .where("id", "=", ch.id)
        .execute();
    }
    if (approver) {
      const token = signToken(await serverKeys(deps.config), "identity.approval", { c: ch.id }, ttl / 1000);
      const link = `${publicBase(deps.config)}/portal/approve#token=${token}`;
      const body = (l: string) =>
        `${actor.name} at ${msp} is verifying ${c.name}, who called for support.\n\nIf ${c.name} really asked for help, approve here (the link works for 10 minutes): ${l}\n\nIf you do not know about this, deny it.`;
      const mailId = await queueSystemMail(deps, trx, {
        to: approver.email ?? approver.emails[0]!,
        subject: `${msp}: approve verification of ${c.name}?`,
        text: body("[approval link: sent, not stored]"),
        secretText: body(link),
        template: "identity_approval",
        ticketId: v.ticket_id ?? undefined,
      });
      await trx
        .updateTable("identity_challenges")
        .set({ provider_id: mailId })
        .where("id", "=", ch.id)
        .execute();
    }
    await recordChange(
      trx,
      actor,
      {
        action: "identity.challenge_send",
        entityType: "contact",
        entityId: v.contact_id,
        clientId: v.client_id,
        after: { verificationId: v.id, challengeId: ch.id, method: input.method, destination },
      },
      {
        type: "identity.verification_updated",
        clientId: v.client_id,
        ticketId: v.ticket_id,
        payload: { verificationId: v.id, status: "pending" },
      },
    );
    await note(trx, actor, v.ticket_id, `Sent a ${METHOD_LABEL[input.method]} to ${destination}`, {
      type: "identity_challenge",
      verificationId: v.id,
      method: input.method,
    });
  });
  if (sms) await deliverSms(deps, sms);
  const verification = (await loadVerification(deps.db, verificationId, !!deps.sms))!;
  return { verification, readOut: input.method === "reverse" ? code : null };
}

/** After the commit: a refused or unreachable provider marks the challenge, with the reason. */
async function deliverSms(deps: IdentityDeps, m: { to: string; body: string; challengeId: string }) {
  try {
    const { providerId } = await deps.sms!.send({ to: m.to, body: m.body });
    await deps.db
      .updateTable("identity_challenges")
      .set({ provider_id: providerId })
      .where("id", "=", m.challengeId)
      .execute();
  } catch (err) {
    const reason = err instanceof SmsError ? err.message : "the SMS could not be sent";
    await deps.db
      .updateTable("identity_challenges")
      .set({ status: "send_failed", last_error: reason, decided_at: new Date() })
      .where("id", "=", m.challengeId)
      .where("status", "=", "sent")
      .execute();
  }
}

/** The time step whose code this is (this step, or one either side for clock drift), or null. */
function totpStep(p: TotpParams, code: string, at = Date.now()): number | null {
  for (const drift of [0, -1, 1]) {
    const when = at + drift * p.period * 1000;
    const a = Buffer.from(totpCode(p, when));
    const b = Buffer.from(code);
    if (a.length === b.length && timingSafeEqual(a, b)) return Math.floor(when / 1000 / p.period);
  }
  return null;
}

type Rejection = {
  reason: "wrong" | "expired" | "used" | "locked" | "closed";
  attemptsLeft: number;
  message: string;
};

/**
 * Checks a code read back by the caller. Every try is counted (wrong, expired or already used) and
 * committed before the answer: the fifth wrong one fails the challenge and the verification.
 */
export async function checkCode(
  deps: IdentityDeps,
  actor: Actor,
  verificationId: string,
  input: z.output<typeof CheckCodeRequest>,
): Promise<VerificationDto> {
  requireWriter(actor);
  const keys = await identityKeys(deps.config);
  const code = input.code.replace(/\s/g, "");
  const rejection = await deps.db.transaction().execute(async (trx): Promise<Rejection | null> => {
    const v = await lockVerification(trx, actor, verificationId);
    const ch = await trx
      .selectFrom("identity_challenges")
      .selectAll()
      .where("id", "=", input.challengeId)
      .where("verification_id", "=", v.id)
      .forUpdate()
      .executeTakeFirst();
    if (!ch) throw notFound("Challenge");
    if (ch.method === "manager" || ch.method === "reverse")
      throw invalid("body.challengeId", "is not answered with a code");
    const attempts = ch.attempts + 1;
    const left = Math.max(0, ch.max_attempts - attempts);
    const count = async (status?: "failed" | "expired") =>
      trx
        .updateTable("identity_challenges")
        .set({ attempts, ...(status ? { status, decided_at: new Date() } : {}) })
        .where("id", "=", ch.id)
        .execute();
    if (ch.status === "passed") {
      await count();
      return { reason: "used", attemptsLeft: left, message: "This code was already used" };
    }
    if (ch.status === "failed" || ch.attempts >= ch.max_attempts)
      return { reason: "locked", attemptsLeft: 0, message: "Too many wrong codes; this verification failed" };
    if (ch.status !== "sent" || v.status !== "pending")
      return {
        reason: "closed",
        attemptsLeft: left,
        message: `This code can no longer be used (${ch.status})`,
      };
    if (ch.expires_at <= new Date()) {
      await count("expired");
      await settle(trx, actor, v, null);
      return { reason: "expired", attemptsLeft: left, message: "This code expired; send a new one" };
    }
    let ok = false;
    if (ch.method === "totp") {
      const c = await loadContactIdentity(trx, v.contact_id);
      const seed =
        c?.totpSealed && c.totpConfirmed ? parseTotpSeed(keys.openTotp(c.contactId, c.totpSealed)) : null;
      const step = seed ? totpStep(seed, code) : null;
      if (step !== null) {
        // A code (its time step) counts once per contact: a code read over a shoulder is spent.
        const fresh = await trx
          .updateTable("identity_contacts")
          .set({ totp_last_step: step })
          .where("contact_id", "=", v.contact_id)
          .where((eb) => eb.or([eb("totp_last_step", "is", null), eb("totp_last_step", "<", String(step))]))
          .returning("contact_id")
          .executeTakeFirst();
        if (!fresh) {
          await count();
          return {
            reason: "used",
            attemptsLeft: left,
            message: "This authenticator code was already used; wait for the next one",
          };
        }
        ok = true;
      }
    } else {
      ok = !!ch.code_hmac && keys.codeMatches(ch.id, code, ch.code_hmac);
    }
    if (!ok) {
      const failed = attempts >= ch.max_attempts;
      await count(failed ? "failed" : undefined);
      await recordChange(
        trx,
        actor,
        {
          action: "identity.code_wrong",
          entityType: "contact",
          entityId: v.contact_id,
          clientId: v.client_id,
          after: { verificationId: v.id, challengeId: ch.id, method: ch.method, attempts },
        },
        {
          type: "identity.verification_updated",
          clientId: v.client_id,
          ticketId: v.ticket_id,
          payload: { verificationId: v.id, status: failed ? "failed" : "pending" },
        },
      );
      if (failed) await fail(trx, actor, v, `${ch.max_attempts} wrong ${METHOD_LABEL[ch.method]}s`);
      return {
        reason: failed ? "locked" : "wrong",
        attemptsLeft: left,
        message: failed ? "Too many wrong codes; this verification failed" : `Wrong code; ${left} tries left`,
      };
    }
    await trx
      .updateTable("identity_challenges")
      .set({ attempts, status: "passed", decided_at: new Date(), code_hmac: null })
      .where("id", "=", ch.id)
      .execute();
    await settle(trx, actor, v, ch.method);
    return null;
  });
  if (rejection)
    throw new AppError("code_rejected", 422, rejection.message, {
      reason: rejection.reason,
      attemptsLeft: rejection.attemptsLeft,
    });
  return (await loadVerification(deps.db, verificationId, !!deps.sms))!;
}

/** The technician reports whether the caller heard the right code (reverse check: never a factor). */
export async function confirmReverse(
  deps: IdentityDeps,
  actor: Actor,
  verificationId: string,
  input: z.output<typeof ConfirmReverseRequest>,
) {
  requireWriter(actor);
  await deps.db.transaction().execute(async (trx) => {
    const v = await lockVerification(trx, actor, verificationId);
    const ch = await trx
      .updateTable("identity_challenges")
      .set({ status: input.confirmed ? "passed" : "denied", decided_at: new Date(), code_hmac: null })
      .where("id", "=", input.challengeId)
      .where("verification_id", "=", v.id)
      .where("method", "=", "reverse")
      .where("status", "=", "sent")
      .returning("id")
      .executeTakeFirst();
    if (!ch) throw new AppError("invalid_transition", 409, "No open reverse check with this id");
    await recordChange(
      trx,
      actor,
      {
        action: "identity.reverse_check",
        entityType: "contact",
        entityId: v.contact_id,
        clientId: v.client_id,
        after: { verificationId: v.id, challengeId: ch.id, confirmed: input.confirmed },
      },
      {
        type: "identity.verification_updated",
        clientId: v.client_id,
        ticketId: v.ticket_id,
        payload: { verificationId: v.id, status: v.status },
      },
    );
    await note(
      trx,
      actor,
      v.ticket_id,
      input.confirmed
        ? "Reverse check: the caller confirmed the technician's code"
        : "Reverse check: the caller did NOT hear the right code",
      { type: "identity_reverse", verificationId: v.id, confirmed: input.confirmed },
    );
  });
  return (await loadVerification(deps.db, verificationId, !!deps.sms))!;
}
