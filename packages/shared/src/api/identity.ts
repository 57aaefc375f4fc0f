import { z } from "zod";
import { DirectoryAccountName, DirectorySystem } from "../agent/commands.ts";
import { Email, Id, Timestamp } from "./common.ts";

// Caller verification and directory resets (issue 9).

/** `reverse` lets the caller check the technician; it is never a factor for the caller. */
export const IdentityMethod = z.enum(["sms", "email", "totp", "manager", "reverse"]);
export type IdentityMethod = z.infer<typeof IdentityMethod>;
export const FactorMethod = z.enum(["sms", "email", "totp", "manager"]);

const E164 = z
  .string()
  .regex(/^\+[1-9]\d{6,14}$/, { error: "must be a phone number in E.164 form (+15175550123)" });

export const IdentityPolicyDto = z.object({
  clientId: Id,
  /** Methods a technician may use to verify this client's callers. */
  methods: z.array(FactorMethod),
  /** Factors a caller must pass. */
  factors: z.number().int(),
  /** Factors a VIP contact or an admin account must pass. */
  privilegedFactors: z.number().int(),
  /** A manager's approval alone is enough for a VIP or admin account. */
  managerSatisfiesPrivileged: z.boolean(),
  /** Minutes a verification is good for. */
  validityMinutes: z.number().int(),
  directoryDeviceId: Id.nullable(),
  directoryKind: DirectorySystem.nullable(),
  version: z.number().int(),
  updatedAt: Timestamp.nullable(),
});
export type IdentityPolicyDto = z.infer<typeof IdentityPolicyDto>;
export const UpdateIdentityPolicyRequest = z.object({
  methods: z.array(FactorMethod).min(1).max(4),
  factors: z.number().int().min(1).max(3),
  privilegedFactors: z.number().int().min(1).max(3),
  managerSatisfiesPrivileged: z.boolean(),
  validityMinutes: z.number().int().min(1).max(120),
  directoryDeviceId: Id.nullable(),
  directoryKind: DirectorySystem.nullable(),
  version: z.number().int().min(1),
});

export const ContactIdentityDto = z.object({
  contactId: Id,
  clientId: Id,
  name: z.string(),
  vip: z.boolean(),
  smsNumber: z.string().nullable(),
  email: z.string().nullable(),
  totp: z.enum(["none", "pending", "enrolled"]),
  approver: z.boolean(),
  adminAccount: z.boolean(),
  directoryAccount: z.string().nullable(),
  /** Methods usable for this contact now (policy, their details, an approver other than them). */
  availableMethods: z.array(IdentityMethod),
  /** VIP or admin account: the policy's privileged factors apply. */
  privileged: z.boolean(),
  version: z.number().int(),
});
export type ContactIdentityDto = z.infer<typeof ContactIdentityDto>;
export const UpdateContactIdentityRequest = z.object({
  smsNumber: E164.nullable(),
  email: Email.nullable(),
  approver: z.boolean(),
  adminAccount: z.boolean(),
  directoryAccount: DirectoryAccountName.nullable(),
  version: z.number().int().min(0),
});
export const PortalIdentityDto = z.object({
  totp: z.enum(["none", "pending", "enrolled"]),
  /** Resetting one's own account from the portal: the linked account and the methods the policy allows. */
  selfService: z.object({
    account: z.string().nullable(),
    available: z.boolean(),
    methods: z.array(z.enum(["sms", "email", "totp"])),
  }),
});
export const SelfChallengeRequest = z.object({ method: z.enum(["sms", "email", "totp"]) });
export const SelfServiceResetRequest = z.discriminatedUnion("action", [
  z.object({
    action: z.literal("reset_password"),
    verificationId: Id,
    /** The contact's new password (the directory's own rules apply and its refusal is shown). */
    password: z.string().min(8).max(256),
  }),
  z.object({ action: z.literal("unlock"), verificationId: Id }),
]);
/** TOTP enrollment: the seed is shown once (URI for a QR code, and the secret to type). */
export const TotpEnrollmentDto = z.object({ otpauthUri: z.string(), secret: z.string() });
export const ConfirmTotpRequest = z.object({
  code: z.string().regex(/^\d{6}$/, { error: "must be 6 digits" }),
});

export const ChallengeStatus = z.enum(["sent", "passed", "failed", "expired", "send_failed", "denied"]);
export const ChallengeDto = z.object({
  id: Id,
  method: IdentityMethod,
  status: ChallengeStatus,
  /** Masked: "+1•••••0123", "j•••@example.com", the approver's name. */
  destination: z.string(),
  attemptsLeft: z.number().int(),
  expiresAt: Timestamp,
  lastError: z.string().nullable(),
  createdAt: Timestamp,
  decidedAt: Timestamp.nullable(),
});
export type ChallengeDto = z.infer<typeof ChallengeDto>;
export const VerificationStatus = z.enum(["pending", "verified", "failed", "expired", "cancelled"]);
export const VerificationDto = z.object({
  id: Id,
  clientId: Id,
  contactId: Id,
  contactName: z.string(),
  ticketId: Id.nullable(),
  status: VerificationStatus,
  privileged: z.boolean(),
  factorsRequired: z.number().int(),
  managerSatisfies: z.boolean(),
  factorsPassed: z.array(FactorMethod),
  availableMethods: z.array(IdentityMethod),
  reason: z.string().nullable(),
  startedBy: z.string(),
  createdAt: Timestamp,
  expiresAt: Timestamp,
  verifiedAt: Timestamp.nullable(),
  validUntil: Timestamp.nullable(),
  challenges: z.array(ChallengeDto),
});
export type VerificationDto = z.infer<typeof VerificationDto>;
export const StartVerificationRequest = z.object({ contactId: Id, ticketId: Id.optional() });
export const SendChallengeRequest = z.object({
  method: IdentityMethod,
  /** reverse: the channel the caller receives the technician's code on. */
  via: z.enum(["sms", "email"]).optional(),
  /** manager: which approver (default: the first approver of the client who is not the caller). */
  approverContactId: Id.optional(),
});
export const SendChallengeResponse = z.object({
  verification: VerificationDto,
  /** reverse only: the code the technician reads to the caller, shown once. */
  readOut: z.string().nullable(),
});
export const CheckCodeRequest = z.object({
  challengeId: Id,
  code: z.string().regex(/^\s*\d{3}\s?\d{3}\s*$/, { error: "must be 6 digits" }),
});
export const ConfirmReverseRequest = z.object({ challengeId: Id, confirmed: z.boolean() });

export const ApprovalLookupRequest = z.object({ token: z.string().min(10).max(2000) });
export const ApprovalDto = z.object({
  contactName: z.string(),
  approverName: z.string(),
  ticketNumber: z.number().int().nullable(),
  requestedBy: z.string(),
  status: ChallengeStatus,
  expiresAt: Timestamp,
});
export const ApprovalDecisionRequest = z.object({
  token: z.string().min(10).max(2000),
  approve: z.boolean(),
});

export const IdentityActionKind = z.enum(["reset_password", "unlock", "force_change"]);
export const IdentityActionDto = z.object({
  id: Id,
  contactId: Id,
  action: z.enum(["reset_password", "unlock", "force_change", "discover"]),
  account: z.string(),
  status: z.enum(["running", "succeeded", "failed"]),
  error: z.string().nullable(),
  verificationId: Id.nullable(),
  ticketId: Id.nullable(),
  requestedBy: z.string(),
  createdAt: Timestamp,
  finishedAt: Timestamp.nullable(),
  /** discover: the accounts the directory holds for the contact's address. */
  accounts: z
    .array(
      z.object({
        samAccountName: z.string().nullable(),
        userPrincipalName: z.string().nullable(),
        dn: z.string(),
      }),
    )
    .nullable(),
});
export type IdentityActionDto = z.infer<typeof IdentityActionDto>;
export const DirectoryActionRequest = z.object({
  contactId: Id,
  verificationId: Id,
  action: IdentityActionKind,
  ticketId: Id.optional(),
  /** reset_password: typed by the technician; absent, a passphrase is generated. */
  password: z.string().min(8).max(256).optional(),
  /** reset_password: the user must change it at next logon (default true). */
  mustChange: z.boolean().default(true),
  /** reset_password: unlock the account too (default true). */
  unlock: z.boolean().default(true),
});
export const DirectoryActionResponse = z.object({
  action: IdentityActionDto,
  /** The new password, only in this reply, only once the directory took it. */
  password: z.string().nullable(),
});
export const DiscoverAccountRequest = z.object({ contactId: Id });
export const SelfServiceResetResponse = z.object({
  action: IdentityActionDto,
  /** The resolved ticket that records it. */
  ticketNumber: z.number().int().nullable(),
});

export const IdentityReportQuery = z.object({ days: z.coerce.number().int().min(1).max(366).default(30) });
export const IdentityReportDto = z.object({
  clientId: Id,
  since: Timestamp,
  totals: z.object({
    resetsDone: z.number().int(),
    resetsFailed: z.number().int(),
    selfService: z.number().int(),
    verificationsFailed: z.number().int(),
  }),
  actions: z.array(
    z.object({
      id: Id,
      contactName: z.string(),
      action: z.enum(["reset_password", "unlock", "force_change"]),
      account: z.string(),
      status: z.enum(["running", "succeeded", "failed"]),
      error: z.string().nullable(),
      requestedBy: z.string(),
      selfService: z.boolean(),
      ticketId: Id.nullable(),
      createdAt: Timestamp,
    }),
  ),
  failedVerifications: z.array(
    z.object({
      id: Id,
      contactName: z.string(),
      status: z.enum(["failed", "expired"]),
      reason: z.string().nullable(),
      startedBy: z.string(),
      ticketId: Id.nullable(),
      createdAt: Timestamp,
    }),
  ),
});
export type IdentityReportDto = z.infer<typeof IdentityReportDto>;
