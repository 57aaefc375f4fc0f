import {
  CreateMailboxRequest,
  EmailClientSettingsRequest,
  EmailContentDto,
  EmailMessageDto,
  EmailMessageQuery,
  EmailTemplateDto,
  EmailTemplateKey,
  Id,
  IdParams,
  MailboxDto,
  ReplyRouteDto,
  RetryEmailRequest,
  SaveEmailTemplateRequest,
  UpdateMailboxRequest,
} from "@switchboard/shared";
import { z } from "zod";
import type { App, AppDeps } from "../../app.ts";
import { actorOf } from "../../http/auth.ts";
import { rolesOnly, signedIn, writers } from "../../http/policy.ts";
import { emailAdminRoutes } from "./admin-routes.ts";
import { getEmailContent } from "./content.ts";
import { getReplyRoute, retryDelivery } from "./delivery.ts";
import { createMailbox, deleteMailbox, listMailboxes, updateMailbox } from "./mailboxes.ts";
import {
  listEmailMessages,
  listTemplates,
  listTicketEmails,
  retryEmailMessage,
  saveClientSettings,
  saveTemplate,
} from "./service.ts";

const tags = ["email"];

export async function emailRoutes(app: App, deps: AppDeps) {
  await emailAdminRoutes(app, deps);
  app.get(
    "/api/v1/email/messages",
    {
      config: rolesOnly(["admin"], { allClients: true }),
      schema: {
        tags,
        summary: "Held messages by status (quarantined by default): admin only",
        querystring: EmailMessageQuery,
        response: { 200: z.object({ items: z.array(EmailMessageDto) }) },
      },
    },
    async (req) => ({ items: await listEmailMessages(deps.db, actorOf(req), req.query) }),
  );

  app.post(
    "/api/v1/email/messages/:id/retry",
    {
      config: rolesOnly(["admin"], { allClients: true }),
      schema: {
        tags,
        summary:
          "Process a held inbound message again (optionally into a ticket or for a client), or resend a failed one",
        params: IdParams,
        body: RetryEmailRequest.default({}),
        response: { 202: z.object({ id: Id, status: z.string() }) },
      },
    },
    async (req, reply) => {
      const result = await retryEmailMessage(deps, actorOf(req), req.params.id, req.body);
      return reply.code(202).send(result);
    },
  );

  app.get(
    "/api/v1/email/messages/:id/content",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "A message's sanitized HTML, text (with the quoted part separated) and attachments",
        params: IdParams,
        response: { 200: EmailContentDto },
      },
    },
    async (req) => getEmailContent(deps, actorOf(req), req.params.id),
  );

  app.get(
    "/api/v1/tickets/:id/emails",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "Messages in and out of a ticket with their delivery status (queued, sent, failed)",
        params: IdParams,
        response: { 200: z.object({ items: z.array(EmailMessageDto) }) },
      },
    },
    async (req) => ({ items: await listTicketEmails(deps.db, actorOf(req), req.params.id) }),
  );

  app.get(
    "/api/v1/tickets/:id/reply-route",
    {
      config: signedIn,
      schema: {
        tags,
        summary:
          "Where a reply on this ticket would go (To, CC) and from where; `problem` says why it could not be sent",
        params: IdParams,
        response: { 200: ReplyRouteDto },
      },
    },
    async (req) => getReplyRoute(deps, actorOf(req), req.params.id),
  );

  app.post(
    "/api/v1/tickets/:id/emails/:emailId/retry",
    {
      config: writers,
      schema: {
        tags,
        summary: "Send a failed or bounced message of this ticket again",
        params: z.object({ id: Id, emailId: Id }),
        response: { 202: z.object({ id: Id, status: z.literal("queued") }) },
      },
    },
    async (req, reply) =>
      reply.code(202).send(await retryDelivery(deps, actorOf(req), req.params.id, req.params.emailId)),
  );

  app.get(
    "/api/v1/email/mailboxes",
    {
      config: rolesOnly(["admin"], { allClients: true }),
      schema: { tags, response: { 200: z.object({ items: z.array(MailboxDto) }) } },
    },
    async (req) => ({ items: await listMailboxes(deps.db, actorOf(req)) }),
  );

  app.post(
    "/api/v1/email/mailboxes",
    {
      config: rolesOnly(["admin"], { allClients: true }),
      schema: { tags, body: CreateMailboxRequest, response: { 201: MailboxDto } },
    },
    async (req, reply) =>
      reply.code(201).send(await createMailbox(deps.db, deps.config, actorOf(req), req.body)),
  );

  app.patch(
    "/api/v1/email/mailboxes/:id",
    {
      config: rolesOnly(["admin"], { allClients: true }),
      schema: { tags, params: IdParams, body: UpdateMailboxRequest, response: { 200: MailboxDto } },
    },
    async (req) => updateMailbox(deps.db, deps.config, actorOf(req), req.params.id, req.body),
  );

  app.delete(
    "/api/v1/email/mailboxes/:id",
    { config: rolesOnly(["admin"], { allClients: true }), schema: { tags, params: IdParams } },
    async (req, reply) => {
      await deleteMailbox(deps.db, actorOf(req), req.params.id);
      return reply.code(204).send();
    },
  );

  app.get(
    "/api/v1/email/templates",
    {
      config: rolesOnly(["admin"], { allClients: true }),
      schema: {
        tags,
        querystring: z.object({ clientId: Id.optional() }),
        response: { 200: z.object({ items: z.array(EmailTemplateDto) }) },
      },
    },
    async (req) => ({ items: await listTemplates(deps.db, actorOf(req), req.query.clientId ?? null) }),
  );

  app.put(
    "/api/v1/email/templates/:key",
    {
      config: rolesOnly(["admin"], { allClients: true }),
      schema: {
        tags,
        params: z.object({ key: EmailTemplateKey }),
        body: SaveEmailTemplateRequest,
        response: { 200: EmailTemplateDto },
      },
    },
    async (req) => saveTemplate(deps.db, actorOf(req), req.params.key, req.body),
  );

  app.put(
    "/api/v1/email/client-settings/:id",
    {
      config: rolesOnly(["admin"]),
      schema: {
        tags,
        summary: "A client's From address and signature for mail sent on its tickets",
        params: IdParams,
        body: EmailClientSettingsRequest,
        response: { 200: z.object({ fromAddress: z.string().nullable(), signature: z.string() }) },
      },
    },
    async (req) => saveClientSettings(deps.db, actorOf(req), req.params.id, req.body),
  );
}
