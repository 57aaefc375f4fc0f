import { timingSafeEqual } from "node:crypto";
import type {
  CheckCodeRequest,
  ConfirmReverseRequest,
  IdentityMethod,
  SendChallengeRequest,
  VerificationDto,
} from "@switchboard/shared";
import { sql, type Transaction } from "kysely";
import type { z } from "zod";
import type { AppDeps } from "../../app.ts";
import type { Database } from "../../db/database.ts";
import type { DB } from "../../db/schema.ts";
import { asSystem } from "../../db/scope.ts";
import { AppError, invalid, notFound } from "../../http/errors.ts";
import { serverKeys, signToken, verifyToken } from "../../lib/server-keys.ts";
import { SmsError, type SmsProvider } from "../../lib/sms.ts";
import { parseTotpSeed, type TotpParams, totpCode } from "../../lib/totp.ts";
import { recordChange } from "../audit/record.ts";
import { type Actor, assertClientVisible, requireWriter } from "../auth/actor.ts";
import { queueSystemMail } from "../email/system-mail.ts";
import { publicBase } from "../portal/sign-in.ts";
import { insertEntry } from "../tickets/timeline.ts";
import { type ChallengeRow, toVerificationDto, type VerificationRow } from "./dto.ts";
import { identityKeys, newCode } from "./keys.ts";
import { availableMethods, isPrivileged, loadContactIdentity, loadPolicy, otherApprovers } from "./policy.ts";

/** A code lives 2 minutes and takes 5 tries (the issue's numbers); an approval link 10 minutes. */
export const CODE_TTL_MS = 2 * 60_000;
export const CODE_TRIES = 5;
export const APPROVAL_TTL_MS = 10 * 60_000;
/** An unfinished verification is abandoned after this. */
export const PENDING_TTL_MS = 15 * 60_000;
/** Codes sent per verification: a bound on what one call can push at a contact's phone. */
export const MAX_CHALLENGES = 8;
/** Codes texted or mailed to one contact per hour, across verifications (a phone is not a pager). */
export const CODES_PER_CONTACT_HOUR = 12;
/** What a contact may use on their own (self-service): a manager's approval and the reverse check need a technician. */
export const SELF_METHODS: IdentityMethod[] = ["sms", "email", "totp"];

export interface IdentityDeps {
  db: Database;
  config: AppDeps["config"];
  boss: AppDeps["boss"];
  blobs: AppDeps["blobs"];
  sms: SmsProvider | null;
}

const METHOD_LABEL: Record<IdentityMethod, string> = {
  sms: "SMS code",
  email: "email code",
  totp: "authenticator code",
  manager: "manager's approval",
  reverse: "reverse check",
};

export const maskPhone = (n: string) =>
  `${n.slice(0, 2)}${"•".repeat(Math.max(0, n.length - 6))}${n.slice(-4)}`;
export const maskEmail = (e: string) => {
  const [local = "", domain = ""] = e.split("@");
  return `${local.slice(0, 1)}•••@${domain}`;
};

type Trx = Transaction<DB>;

/** A portal contact acts only on their own verifications (self-service); staff on any they may see. */
export function assertSelf(actor: Actor, contactId: string, what: string) {
  if (actor.kind === "contact" && actor.contact?.id !== contactId) throw notFound(what);
}

async function lockVerification(trx: Trx, actor: Actor, id: string) {
  const v = await trx
    .selectFrom("identity_verifications")
    .selectAll()
    .where("id", "=", id)
    .forUpdate()
    .executeTakeFirst();
  if (!v) throw notFound("Verification");
  assertClientVisible(actor, v.client_id, "Verification");
  assertSelf(actor, v.contact_id, "Verification");
  return v;
}

/** The verification with its challenges, as the technician sees it. */
export async function loadVerification(db: Database | Trx, id: string, smsReady: boolean) {
  const v = await db.selectFrom("identity_verifications").selectAll().where("id", "=", id).executeTakeFirst();
  if (!v) return null;
  const challenges = await db
    .selectFrom("identity_challenges as ch")
    .leftJoin("email_messages as m", (j) =>
      j.on(sql<boolean>`ch.method in ('email', 'manager', 'reverse') and m.id::text = ch.provider_id`),
    )
    .selectAll("ch")
    .select(["m.status as mail_status", "m.last_error as mail_error"])
    .where("ch.verification_id", "=", id)
    .orderBy("ch.created_at")
    .execute();
  const contact = await loadContactIdentity(db, v.contact_id);
  const policy = await loadPolicy(db, v.client_id);
  const methods = contact ? await availableMethods(db, contact, policy, smsReady) : [];
  return toVerificationDto(v, challenges as ChallengeRow[], contact?.name ?? "", methods);
}

export async function getVerification(deps: IdentityDeps, actor: Actor, id: string) {
  await expireStale(deps.db, actor, id);
  const dto = await loadVerification(deps.db, id, !!deps.sms);
  if (!dto) throw notFound("Verification");
  assertClientVisible(actor, dto.clientId, "Verification");
  assertSelf(actor, dto.contactId, "Verification");
  return dto;
}

/**
 * Pending verifications past their time become expired, each recorded once (audit, event, ticket
 * timeline): when someone looks at one, and by the sweep every process runs (routes.ts).
 */
export async function expireStale(db: Database, actor: Actor, id?: string) {
  return db.transaction().execute(async (trx) => {
    let q = trx
      .updateTable("identity_verifications")
      .set({ status: "expired", reason: "not completed in time" })
      .where("status", "=", "pending")
      .where("expires_at", "<=", new Date());
    if (id) q = q.where("id", "=", id);
    const rows = await q.returningAll().execute();
    for (const v of rows) {
      await recordChange(
        trx,
        actor,
        {
          action: "identity.verification_expired",
          entityType: "contact",
          entityId: v.contact_id,
          clientId: v.client_id,
          after: { verificationId: v.id },
        },
        {
          type: "identity.verification_updated",
          clientId: v.client_id,
          ticketId: v.ticket_id,
          payload: { verificationId: v.id, status: "expired" },
        },
      );
      await note(trx, actor, v.ticket_id, "Caller verification expired: not completed in time", {
        type: "identity_verification",
        verificationId: v.id,
        status: "expired",
      });
    }
    return rows.length;
  });
}

async function note(
  trx: Trx,
  actor: Actor,
  ticketId: string | null,
  body: string,
  event: Record<string, unknown>,
) {
  if (!ticketId) return;
  await insertEntry(trx, actor, { id: ticketId }, { kind: "event", visibility: "internal", body, event });
}

export async function startVerification(
  deps: IdentityDeps,
  actor: Actor,
  input: { contactId: string; ticketId?: string },
): Promise<VerificationDto> {
  requireWriter(actor);
  const id = await deps.db.transaction().execute(async (trx) => {
    const c = await loadContactIdentity(trx, input.contactId);
    if (!c) throw notFound("Contact");
    assertClientVisible(actor, c.clientId, "Contact");
    assertSelf(actor, c.contactId, "Contact");
    if (input.ticketId) {
      const t = await trx
        .selectFrom("tickets")
        .select("client_id")
        .where("id", "=", input.ticketId)
        .executeTakeFirst();
      if (!t) throw notFound("Ticket");
      assertClientVisible(actor, t.client_id, "Ticket");
      if (t.client_id !== c.clientId) throw invalid("body.ticketId", "is a ticket of another client");
    }
    const policy = await loadPolicy(trx, c.clientId);
    const privileged = isPrivileged(c);
    const v = await trx
      .insertInto("identity_verifications")
      .values({
        client_id: c.clientId,
        contact_id: c.contactId,
        ticket_id: input.ticketId ?? null,
        started_by_user_id: actor.userId,
        started_by_label: actor.name,
        privileged,
        factors_required: privileged ? Math.max(policy.privilegedFactors, policy.factors) : policy.factors,
        manager_satisfies: privileged && policy.managerSatisfiesPrivileged,
        validity_minutes: policy.validityMinutes,
        expires_at: new Date(Date.now() + PENDING_TTL_MS),
      })
      .returning(["id", "factors_required"])
      .executeTakeFirstOrThrow();
    await recordChange(
      trx,
      actor,
      {
        action: "identity.verification_start",
        entityType: "contact",
        entityId: c.contactId,
        clientId: c.clientId,
        after: {
          verificationId: v.id,
          ticketId: input.ticketId ?? null,
          privileged,
          factors: v.factors_required,
        },
      },
      {
        type: "identity.verification_updated",
        clientId: c.clientId,
        ticketId: input.ticketId ?? null,
        payload: { verificationId: v.id, status: "pending" },
      },
    );
    await note(trx, actor, input.ticketId ?? null, `Started verifying the caller as ${c.name}`, {
      type: "identity_verification",
      verificationId: v.id,
      status: "pending",
    });
    return v.id;
  });
  return (await loadVerification(deps.db, id, !!deps.sms))!;
}

function pendingOrThrow(v: VerificationRow) {
  if (v.status === "pending" && v.expires_at <= new Date())
    throw new AppError("invalid_transition", 409, "This verification expired; start a new one");
  if (v.status !== "pending")
    throw new AppError("invalid_transition", 409, `This verification is already ${v.status}`);
}

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

async function fail(trx: Trx, actor: Actor, v: VerificationRow, reason: string) {
  await trx
    .updateTable("identity_verifications")
    .set({ status: "failed", reason })
    .where("id", "=", v.id)
    .where("status", "=", "pending")
    .execute();
  await recordChange(
    trx,
    actor,
    {
      action: "identity.verification_failed",
      entityType: "contact",
      entityId: v.contact_id,
      clientId: v.client_id,
      after: { verificationId: v.id, reason },
    },
    {
      type: "identity.verification_updated",
      clientId: v.client_id,
      ticketId: v.ticket_id,
      payload: { verificationId: v.id, status: "failed" },
    },
  );
  await note(trx, actor, v.ticket_id, `Caller verification failed: ${reason}`, {
    type: "identity_verification",
    verificationId: v.id,
    status: "failed",
  });
}

/** Factors passed so far; the verification becomes verified once they meet what it requires. */
async function settle(trx: Trx, actor: Actor, v: VerificationRow, passed: IdentityMethod | null) {
  if (!passed) return;
  const rows = await trx
    .selectFrom("identity_challenges")
    .select("method")
    .distinct()
    .where("verification_id", "=", v.id)
    .where("status", "=", "passed")
    .where("method", "<>", "reverse")
    .execute();
  const methods = rows.map((r) => r.method);
  const done = methods.length >= v.factors_required || (v.manager_satisfies && methods.includes("manager"));
  const validUntil = new Date(Date.now() + v.validity_minutes * 60_000);
  if (done) {
    await trx
      .updateTable("identity_verifications")
      .set({ status: "verified", verified_at: new Date(), valid_until: validUntil })
      .where("id", "=", v.id)
      .where("status", "=", "pending")
      .execute();
  }
  const summary = methods.map((m) => METHOD_LABEL[m]).join(" + ");
  await recordChange(
    trx,
    actor,
    {
      action: done ? "identity.verified" : "identity.factor_passed",
      entityType: "contact",
      entityId: v.contact_id,
      clientId: v.client_id,
      after: { verificationId: v.id, method: passed, methods, validUntil: done ? validUntil : null },
    },
    {
      type: "identity.verification_updated",
      clientId: v.client_id,
      ticketId: v.ticket_id,
      payload: { verificationId: v.id, status: done ? "verified" : "pending" },
    },
  );
  await note(
    trx,
    actor,
    v.ticket_id,
    done
      ? `Caller verified (${summary}), good until ${validUntil.toISOString().slice(11, 16)} UTC`
      : `${METHOD_LABEL[passed]} passed; ${v.factors_required - methods.length} more factor needed`,
    { type: "identity_verification", verificationId: v.id, status: done ? "verified" : "pending" },
  );
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

export async function cancelVerification(deps: IdentityDeps, actor: Actor, verificationId: string) {
  requireWriter(actor);
  await deps.db.transaction().execute(async (trx) => {
    const v = await lockVerification(trx, actor, verificationId);
    pendingOrThrow(v);
    await trx
      .updateTable("identity_verifications")
      .set({ status: "cancelled" })
      .where("id", "=", v.id)
      .execute();
    await recordChange(
      trx,
      actor,
      {
        action: "identity.verification_cancel",
        entityType: "contact",
        entityId: v.contact_id,
        clientId: v.client_id,
        after: { verificationId: v.id },
      },
      {
        type: "identity.verification_updated",
        clientId: v.client_id,
        ticketId: v.ticket_id,
        payload: { verificationId: v.id, status: "cancelled" },
      },
    );
  });
  return (await loadVerification(deps.db, verificationId, !!deps.sms))!;
}

// ---- a manager's approval by signed link (public routes: the token is the credential) -------------

async function approvalFromToken(deps: IdentityDeps, token: string) {
  const data = verifyToken<{ c: string }>(await serverKeys(deps.config), "identity.approval", token);
  if (!data?.c) throw new AppError("not_found", 404, "This approval link is not valid or has expired");
  return data.c;
}

export async function describeApproval(deps: IdentityDeps, token: string) {
  const challengeId = await approvalFromToken(deps, token);
  return asSystem(async () => {
    const row = await deps.db
      .selectFrom("identity_challenges as ch")
      .innerJoin("identity_verifications as v", "v.id", "ch.verification_id")
      .innerJoin("contacts as c", "c.id", "v.contact_id")
      .leftJoin("contacts as a", "a.id", "ch.approver_contact_id")
      .leftJoin("tickets as t", "t.id", "v.ticket_id")
      .select([
        "ch.status",
        "ch.expires_at",
        "c.first_name",
        "c.last_name",
        "a.first_name as a_first",
        "a.last_name as a_last",
        "t.number",
        "v.started_by_label",
      ])
      .where("ch.id", "=", challengeId)
      .where("ch.method", "=", "manager")
      .executeTakeFirst();
    if (!row) throw new AppError("not_found", 404, "This approval link is not valid or has expired");
    return {
      contactName: `${row.first_name} ${row.last_name}`.trim(),
      approverName: `${row.a_first ?? ""} ${row.a_last ?? ""}`.trim(),
      ticketNumber: row.number ?? null,
      requestedBy: row.started_by_label,
      status: row.status === "sent" && row.expires_at <= new Date() ? ("expired" as const) : row.status,
      expiresAt: row.expires_at.toISOString(),
    };
  });
}

/** The approver's answer: once, before the link expires, while the verification is pending. */
export async function decideApproval(deps: IdentityDeps, token: string, approve: boolean, ip?: string) {
  const challengeId = await approvalFromToken(deps, token);
  await asSystem(() =>
    deps.db.transaction().execute(async (trx) => {
      const ch = await trx
        .selectFrom("identity_challenges")
        .selectAll()
        .where("id", "=", challengeId)
        .where("method", "=", "manager")
        .forUpdate()
        .executeTakeFirst();
      if (!ch) throw new AppError("not_found", 404, "This approval link is not valid or has expired");
      const v = await trx
        .selectFrom("identity_verifications")
        .selectAll()
        .where("id", "=", ch.verification_id)
        .forUpdate()
        .executeTakeFirstOrThrow();
      if (ch.status !== "sent" || v.status !== "pending")
        throw new AppError("invalid_transition", 409, "This request was already answered or closed");
      if (ch.expires_at <= new Date())
        throw new AppError(
          "invalid_transition",
          409,
          "This request expired; the technician can send a new one",
        );
      const approver = await trx
        .selectFrom("contacts")
        .select(["first_name", "last_name"])
        .where("id", "=", ch.approver_contact_id!)
        .executeTakeFirst();
      const actor: Actor = {
        kind: "system",
        userId: null,
        name: `approver ${`${approver?.first_name ?? ""} ${approver?.last_name ?? ""}`.trim()}`,
        role: "admin",
        clientIds: [v.client_id],
        teamIds: [],
        timezone: "UTC",
        via: "system",
        ip,
      };
      await trx
        .updateTable("identity_challenges")
        .set({ status: approve ? "passed" : "denied", decided_at: new Date() })
        .where("id", "=", ch.id)
        .execute();
      if (approve) await settle(trx, actor, v, "manager");
      else await fail(trx, actor, v, "the manager denied it");
    }),
  );
  return describeApproval(deps, token);
}

/** Fresh: verified, for this contact, still within the policy's window when it was verified. */
export async function freshVerification(trx: Trx, verificationId: string, contactId: string) {
  const v = await trx
    .selectFrom("identity_verifications")
    .selectAll()
    .where("id", "=", verificationId)
    .executeTakeFirst();
  const why = !v
    ? "no such verification"
    : v.contact_id !== contactId
      ? "the verification is of another contact"
      : v.status !== "verified"
        ? `the verification is ${v.status}`
        : !v.valid_until || v.valid_until <= new Date()
          ? "the verification is no longer fresh"
          : null;
  if (why)
    throw new AppError("verification_required", 403, `Verify the caller first: ${why}`, {
      reason: why,
    });
  return v!;
}
