import type { ChallengeDto, IdentityActionDto, IdentityMethod, VerificationDto } from "@switchboard/shared";
import type { Selectable } from "kysely";
import type {
  IdentityActionsTable,
  IdentityChallengesTable,
  IdentityVerificationsTable,
} from "../../db/schema.ts";

export type VerificationRow = Selectable<IdentityVerificationsTable>;
export type ChallengeRow = Selectable<IdentityChallengesTable> & {
  mail_status: string | null;
  mail_error: string | null;
};
export type ActionRow = Selectable<IdentityActionsTable>;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function toChallengeDto(c: ChallengeRow): ChallengeDto {
  const expired = c.status === "sent" && c.expires_at <= new Date();
  // A code mailed but refused by the relay is as good as never sent: say so where the technician looks.
  const mailFailed = c.status === "sent" && (c.mail_status === "failed" || c.mail_status === "bounced");
  return {
    id: c.id,
    method: c.method,
    status: expired ? "expired" : mailFailed ? "send_failed" : c.status,
    destination: c.destination,
    attemptsLeft: Math.max(0, c.max_attempts - c.attempts),
    expiresAt: c.expires_at.toISOString(),
    lastError: mailFailed ? `the mail was not delivered: ${c.mail_error ?? c.mail_status}` : c.last_error,
    createdAt: c.created_at.toISOString(),
    decidedAt: iso(c.decided_at),
  };
}

export function toVerificationDto(
  v: VerificationRow,
  challenges: ChallengeRow[],
  contactName: string,
  availableMethods: IdentityMethod[],
): VerificationDto {
  const passed = [
    ...new Set(
      challenges
        .filter((c) => c.status === "passed" && c.method !== "reverse")
        .map((c) => c.method as Exclude<IdentityMethod, "reverse">),
    ),
  ];
  const pendingExpired = v.status === "pending" && v.expires_at <= new Date();
  return {
    id: v.id,
    clientId: v.client_id,
    contactId: v.contact_id,
    contactName,
    ticketId: v.ticket_id,
    status: pendingExpired ? "expired" : v.status,
    privileged: v.privileged,
    factorsRequired: v.factors_required,
    managerSatisfies: v.manager_satisfies,
    factorsPassed: passed,
    availableMethods,
    reason: v.reason,
    startedBy: v.started_by_label,
    createdAt: v.created_at.toISOString(),
    expiresAt: v.expires_at.toISOString(),
    verifiedAt: iso(v.verified_at),
    validUntil: iso(v.valid_until),
    challenges: challenges.map(toChallengeDto),
  };
}

export function toActionDto(a: ActionRow): IdentityActionDto {
  const accounts =
    a.result && Array.isArray(a.result.accounts)
      ? (a.result.accounts as IdentityActionDto["accounts"])
      : null;
  return {
    id: a.id,
    contactId: a.contact_id,
    action: a.action,
    account: a.account,
    status: a.status,
    error: a.error,
    verificationId: a.verification_id,
    ticketId: a.ticket_id,
    requestedBy: a.requested_by_label,
    createdAt: a.created_at.toISOString(),
    finishedAt: iso(a.finished_at),
    accounts,
  };
}
