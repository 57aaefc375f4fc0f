import type { IdentityMethod, VerificationDto } from "@switchboard/shared";
import { sql, type Transaction } from "kysely";
import type { AppDeps } from "../../app.ts";
import type { Database } from "../../db/database.ts";
import type { DB } from "../../db/schema.ts";
import { AppError, invalid, notFound } from "../../http/errors.ts";
import type { SmsProvider } from "../../lib/sms.ts";
import { recordChange } from "../audit/record.ts";
import { type Actor, assertClientVisible, requireWriter } from "../auth/actor.ts";
import { insertEntry } from "../tickets/timeline.ts";
import { type ChallengeRow, toVerificationDto, type VerificationRow } from "./dto.ts";
import { availableMethods, isPrivileged, loadContactIdentity, loadPolicy } from "./policy.ts";

/** A code lives 2 minutes and takes 5 tries (the numbers); an approval link 10 minutes. */
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

export const METHOD_LABEL: Record<IdentityMethod, string> = {
  sms: "SMS code",
  email: "email code",
  totp: "authenticator code",
  manager: "manager's approval",
  reverse: "reverse check",
};

type Trx = Transaction<DB>;

/** A portal contact acts only on their own verifications (self-service); staff on any they may see. */
export function assertSelf(actor: Actor, contactId: string, what: string) {
  if (actor.kind === "contact" && actor.contact?.id !== contactId) throw notFound(what);
}

export async function lockVerification(trx: Trx, actor: Actor, id: string) {
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

export async function note(
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

export function pendingOrThrow(v: VerificationRow) {
  if (v.status === "pending" && v.expires_at <= new Date())
    throw new AppError("invalid_transition", 409, "This verification expired; start a new one");
  if (v.status !== "pending")
    throw new AppError("invalid_transition", 409, `This verification is already ${v.status}`);
}

export async function fail(trx: Trx, actor: Actor, v: VerificationRow, reason: string) {
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
export async function settle(trx: Trx, actor: Actor, v: VerificationRow, passed: IdentityMethod | null) {
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
