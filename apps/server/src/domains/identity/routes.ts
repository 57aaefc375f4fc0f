import {
  ApprovalDecisionRequest,
  ApprovalDto,
  ApprovalLookupRequest,
  CheckCodeRequest,
  ConfirmReverseRequest,
  ConfirmTotpRequest,
  ContactIdentityDto,
  DirectoryActionRequest,
  DirectoryActionResponse,
  IdentityActionDto,
  IdentityPolicyDto,
  IdentityReportDto,
  IdentityReportQuery,
  IdParams,
  PortalIdentityDto,
  SelfChallengeRequest,
  SelfServiceResetRequest,
  SelfServiceResetResponse,
  SendChallengeRequest,
  SendChallengeResponse,
  StartVerificationRequest,
  TotpEnrollmentDto,
  UpdateContactIdentityRequest,
  UpdateIdentityPolicyRequest,
  VerificationDto,
} from "@switchboard/shared";
import type { FastifyRequest } from "fastify";
import { z } from "zod";
import type { App, AppDeps } from "../../app.ts";
import { asSystem } from "../../db/scope.ts";
import { actorOf } from "../../http/auth.ts";
import { forbidden } from "../../http/errors.ts";
import { contactOnly, publicRoute, rolesOnly, signedIn, writers } from "../../http/policy.ts";
import { smsProviderFromConfig } from "../../lib/sms.ts";
import { systemActor } from "../auth/actor.ts";
import { decideApproval, describeApproval } from "./approval.ts";
import { checkCode, confirmReverse, sendChallenge } from "./challenges.ts";
import { discoverAccount, getAction, listActions, runDirectoryAction } from "./directory.ts";
import {
  contactIdentityDto,
  getPolicy,
  updateContactIdentity,
  updatePolicy,
  visibleContact,
} from "./policy.ts";
import { identityReport } from "./report.ts";
import { portalIdentity, selfServiceReset } from "./self-service.ts";
import { confirmTotp, enrollTotp } from "./totp.ts";
import {
  cancelVerification,
  expireStale,
  getVerification,
  type IdentityDeps,
  startVerification,
} from "./verify.ts";

/** Caller verification, the contact's methods, the client's policy, and directory resets (issue 9). */
export async function identityRoutes(app: App, deps: AppDeps) {
  // deps.boss is read at call time: tests (and the server) may attach the queue after the app is built.
  const id: IdentityDeps = {
    db: deps.db,
    config: deps.config,
    get boss() {
      return deps.boss;
    },
    blobs: deps.blobs,
    sms: smsProviderFromConfig(deps.config),
  };
  const dir = () => ({ db: deps.db, hub: app.agents.hub, serverKey: app.agents.serverKey });
  // Abandoned verifications are recorded as expired on their ticket even if nobody looks again.
  const sweep = setInterval(() => {
    void asSystem(() => expireStale(deps.db, systemActor("identity"))).catch((err) =>
      app.log.error({ err }, "expiring verifications failed"),
    );
  }, 60_000);
  sweep.unref();
  app.addHook("onClose", () => clearInterval(sweep));
  const tags = ["identity"];

  app.get(
    "/api/v1/clients/:id/identity-policy",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "The client's caller verification policy",
        params: IdParams,
        response: { 200: IdentityPolicyDto },
      },
    },
    async (req) => getPolicy(deps.db, actorOf(req), req.params.id),
  );
  app.put(
    "/api/v1/clients/:id/identity-policy",
    {
      config: rolesOnly(["admin"]),
      schema: {
        tags,
        summary: "Set the methods, factors, validity and directory for verifying the client's callers",
        params: IdParams,
        body: UpdateIdentityPolicyRequest,
        response: { 200: IdentityPolicyDto },
      },
    },
    async (req) => updatePolicy(deps.db, actorOf(req), req.params.id, req.body),
  );

  app.get(
    "/api/v1/clients/:id/identity-report",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "The client's resets (by technicians and self-service) and failed verifications",
        params: IdParams,
        querystring: IdentityReportQuery,
        response: { 200: IdentityReportDto },
      },
    },
    async (req) => identityReport(deps.db, actorOf(req), req.params.id, req.query.days),
  );

  app.get(
    "/api/v1/contacts/:id/identity",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "A contact's verification methods and directory account",
        params: IdParams,
        response: { 200: ContactIdentityDto },
      },
    },
    async (req) =>
      contactIdentityDto(deps.db, await visibleContact(deps.db, actorOf(req), req.params.id), !!id.sms),
  );
  app.put(
    "/api/v1/contacts/:id/identity",
    {
      config: writers,
      schema: {
        tags,
        summary: "Set a contact's verification details, approver flag, admin account and directory account",
        params: IdParams,
        body: UpdateContactIdentityRequest,
        response: { 200: ContactIdentityDto },
      },
    },
    async (req) =>
      contactIdentityDto(
        deps.db,
        await updateContactIdentity(deps.db, actorOf(req), req.params.id, req.body),
        !!id.sms,
      ),
  );
  app.post(
    "/api/v1/contacts/:id/directory-lookup",
    {
      config: writers,
      schema: {
        tags,
        summary:
          "Find the contact's directory account by their email, through the agent on the domain controller",
        params: IdParams,
        response: { 200: IdentityActionDto },
      },
    },
    async (req) => discoverAccount(dir(), actorOf(req), req.params.id),
  );
  app.get(
    "/api/v1/contacts/:id/directory-actions",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "The contact's recent resets and lookups",
        params: IdParams,
        response: { 200: z.array(IdentityActionDto) },
      },
    },
    async (req) => listActions(deps.db, actorOf(req), req.params.id),
  );

  app.post(
    "/api/v1/identity/verifications",
    {
      config: writers,
      schema: {
        tags,
        summary: "Start verifying a caller as a contact (optionally on a ticket)",
        body: StartVerificationRequest,
        response: { 201: VerificationDto },
      },
    },
    async (req, reply) => {
      const v = await startVerification(id, actorOf(req), req.body);
      reply.code(201);
      return v;
    },
  );
  app.get(
    "/api/v1/identity/verifications/:id",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "A verification and its challenges",
        params: IdParams,
        response: { 200: VerificationDto },
      },
    },
    async (req) => getVerification(id, actorOf(req), req.params.id),
  );
  app.post(
    "/api/v1/identity/verifications/:id/challenges",
    {
      config: writers,
      schema: {
        tags,
        summary: "Send a code (SMS, email), ask for a TOTP code, a manager's approval, or a reverse check",
        params: IdParams,
        body: SendChallengeRequest,
        response: { 200: SendChallengeResponse },
      },
    },
    async (req) => sendChallenge(id, actorOf(req), req.params.id, req.body),
  );
  app.post(
    "/api/v1/identity/verifications/:id/check",
    {
      config: writers,
      schema: {
        tags,
        summary: "Check the code the caller read back (422 code_rejected with the reason and tries left)",
        params: IdParams,
        body: CheckCodeRequest,
        response: { 200: VerificationDto },
      },
    },
    async (req) => checkCode(id, actorOf(req), req.params.id, req.body),
  );
  app.post(
    "/api/v1/identity/verifications/:id/reverse",
    {
      config: writers,
      schema: {
        tags,
        summary: "Record whether the caller heard the technician's reverse-check code",
        params: IdParams,
        body: ConfirmReverseRequest,
        response: { 200: VerificationDto },
      },
    },
    async (req) => confirmReverse(id, actorOf(req), req.params.id, req.body),
  );
  app.post(
    "/api/v1/identity/verifications/:id/cancel",
    {
      config: writers,
      schema: {
        tags,
        summary: "Cancel a pending verification",
        params: IdParams,
        response: { 200: VerificationDto },
      },
    },
    async (req) => cancelVerification(id, actorOf(req), req.params.id),
  );

  app.post(
    "/api/v1/identity/directory-actions",
    {
      config: writers,
      schema: {
        tags,
        summary:
          "Reset the password, unlock, or force a change on the contact's directory account (needs a fresh verification: 403 verification_required)",
        body: DirectoryActionRequest,
        response: { 200: DirectoryActionResponse },
      },
    },
    async (req) => runDirectoryAction(dir(), actorOf(req), req.body),
  );
  app.get(
    "/api/v1/identity/directory-actions/:id",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "A reset or lookup and its result",
        params: IdParams,
        response: { 200: IdentityActionDto },
      },
    },
    async (req) => getAction(dir(), actorOf(req), req.params.id),
  );

  // The approver's signed link: the token (from the URL fragment, sent in the body) is the credential.
  app.post(
    "/api/v1/identity/approval",
    {
      config: publicRoute,
      schema: {
        tags,
        summary: "What an approval link asks",
        body: ApprovalLookupRequest,
        response: { 200: ApprovalDto },
      },
    },
    async (req) => describeApproval(id, req.body.token),
  );
  app.post(
    "/api/v1/identity/approval/decision",
    {
      config: publicRoute,
      schema: {
        tags,
        summary: "Approve or deny a caller's verification",
        body: ApprovalDecisionRequest,
        response: { 200: ApprovalDto },
      },
    },
    async (req) => decideApproval(id, req.body.token, req.body.approve, req.ip),
  );

  app.get(
    "/api/v1/portal/identity",
    {
      config: contactOnly,
      schema: { tags, summary: "Your call-verification authenticator", response: { 200: PortalIdentityDto } },
    },
    async (req) => portalIdentity(id, actorOf(req)),
  );
  app.post(
    "/api/v1/portal/identity/totp",
    {
      config: contactOnly,
      schema: {
        tags,
        summary: "Enroll an authenticator app for verifying your calls",
        response: { 200: TotpEnrollmentDto },
      },
    },
    async (req) => enrollTotp(id, actorOf(req)),
  );
  app.post(
    "/api/v1/portal/identity/totp/confirm",
    {
      config: contactOnly,
      schema: { tags, summary: "Confirm the authenticator with its first code", body: ConfirmTotpRequest },
    },
    async (req) => confirmTotp(id, actorOf(req), req.body.code),
  );

  // Self-service: the signed-in contact verifies themselves (SMS, email or authenticator code) and
  // resets or unlocks their own linked account. The services confine a contact to their own records.
  const me = (req: FastifyRequest) => {
    const c = actorOf(req).contact;
    if (!c) throw forbidden("Only a signed-in contact");
    return c.id;
  };
  app.post(
    "/api/v1/portal/identity/verifications",
    {
      config: contactOnly,
      schema: {
        tags,
        summary: "Start verifying yourself to reset your password",
        response: { 201: VerificationDto },
      },
    },
    async (req, reply) => {
      const v = await startVerification(id, actorOf(req), { contactId: me(req) });
      reply.code(201);
      return v;
    },
  );
  app.get(
    "/api/v1/portal/identity/verifications/:id",
    {
      config: contactOnly,
      schema: { tags, summary: "Your verification", params: IdParams, response: { 200: VerificationDto } },
    },
    async (req) => getVerification(id, actorOf(req), req.params.id),
  );
  app.post(
    "/api/v1/portal/identity/verifications/:id/challenges",
    {
      config: contactOnly,
      schema: {
        tags,
        summary: "Send yourself a code",
        params: IdParams,
        body: SelfChallengeRequest,
        response: { 200: VerificationDto },
      },
    },
    async (req) => (await sendChallenge(id, actorOf(req), req.params.id, req.body)).verification,
  );
  app.post(
    "/api/v1/portal/identity/verifications/:id/check",
    {
      config: contactOnly,
      schema: {
        tags,
        summary: "Check the code you received",
        params: IdParams,
        body: CheckCodeRequest,
        response: { 200: VerificationDto },
      },
    },
    async (req) => checkCode(id, actorOf(req), req.params.id, req.body),
  );
  app.post(
    "/api/v1/portal/identity/reset",
    {
      config: contactOnly,
      schema: {
        tags,
        summary: "Reset or unlock your own account after verifying (403 verification_required otherwise)",
        body: SelfServiceResetRequest,
        response: { 200: SelfServiceResetResponse },
      },
    },
    async (req) => selfServiceReset({ ...id, ...dir() }, actorOf(req), req.body),
  );
}
