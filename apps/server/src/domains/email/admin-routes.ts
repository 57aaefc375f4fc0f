import {
  EmailClientSettingsDto,
  EmailSettingsDto,
  IdParams,
  MailboxTestResult,
  SendTestEmailRequest,
  SendTestEmailResult,
  TemplatePreviewDto,
  TemplatePreviewRequest,
  UpdateEmailSettingsRequest,
} from "@switchboard/shared";
import { z } from "zod";
import type { App, AppDeps } from "../../app.ts";
import { actorOf } from "../../http/auth.ts";
import { rolesOnly } from "../../http/policy.ts";
import { requireRole } from "../auth/actor.ts";
import { testMailbox } from "./mailbox-test.ts";
import { getEmailSettings, previewTemplate, sendTestEmail, updateEmailSettings } from "./settings.ts";

const tags = ["email"];
const mspAdmins = rolesOnly(["admin"], { allClients: true });

/** The console's email administration: relay and From, tests, template preview, clients' From addresses. */
export async function emailAdminRoutes(app: App, deps: AppDeps) {
  app.get(
    "/api/v1/email/settings",
    {
      config: mspAdmins,
      schema: {
        tags,
        summary: "The outbound relay and default From address (passwords are never returned)",
        response: { 200: EmailSettingsDto },
      },
    },
    async (req) => getEmailSettings(deps.db, deps.config, actorOf(req)),
  );

  app.put(
    "/api/v1/email/settings",
    {
      config: mspAdmins,
      schema: {
        tags,
        summary: "Set the outbound relay and default From address",
        description:
          "`relay: null` removes the relay; a relay without `password` keeps the stored one. Send the `version` you read.",
        body: UpdateEmailSettingsRequest,
        response: { 200: EmailSettingsDto },
      },
    },
    async (req) => updateEmailSettings(deps.db, deps.config, actorOf(req), req.body),
  );

  app.post(
    "/api/v1/email/settings/test",
    {
      config: mspAdmins,
      schema: {
        tags,
        summary: "Send a test mail through the relay now and return the server's answer",
        description:
          "Answers 200 either way: `ok` says whether the relay accepted it, `response`/`error` why.",
        body: SendTestEmailRequest,
        response: { 200: SendTestEmailResult },
      },
    },
    async (req) => sendTestEmail(deps.db, deps.config, actorOf(req), req.body.to),
  );

  app.post(
    "/api/v1/email/mailboxes/:id/test",
    {
      config: mspAdmins,
      schema: {
        tags,
        summary: "Sign in to a mailbox's IMAP server and greet its SMTP server, with the stored settings",
        params: IdParams,
        response: { 200: MailboxTestResult },
      },
    },
    async (req) => testMailbox(deps.db, deps.config, actorOf(req), req.params.id),
  );

  app.post(
    "/api/v1/email/templates/preview",
    {
      config: mspAdmins,
      schema: {
        tags,
        summary: "A template rendered with sample values, as the customer would read it",
        body: TemplatePreviewRequest,
        response: { 200: TemplatePreviewDto },
      },
    },
    async (req) => {
      requireRole(actorOf(req), "admin");
      return previewTemplate(req.body);
    },
  );

  app.get(
    "/api/v1/email/client-settings",
    {
      config: mspAdmins,
      schema: {
        tags,
        summary: "Clients with their own From address or signature",
        response: { 200: z.object({ items: z.array(EmailClientSettingsDto) }) },
      },
    },
    async (req) => {
      requireRole(actorOf(req), "admin");
      const rows = await deps.db
        .selectFrom("email_client_settings as s")
        .innerJoin("clients as c", "c.id", "s.client_id")
        .select(["s.client_id", "c.name", "s.from_address", "s.signature"])
        .orderBy("c.name")
        .execute();
      return {
        items: rows.map((r) => ({
          clientId: r.client_id,
          clientName: r.name,
          fromAddress: r.from_address,
          signature: r.signature,
        })),
      };
    },
  );
}
