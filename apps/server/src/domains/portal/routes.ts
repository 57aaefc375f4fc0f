import {
  IdParams,
  Page,
  PortalAccountDto,
  PortalCreateTicketRequest,
  PortalLinkRequest,
  PortalLoginRequest,
  PortalMeDto,
  PortalPasswordRequest,
  PortalRedeemRequest,
  PortalReplyRequest,
  PortalTicketDto,
  PortalTicketListQuery,
  PortalTicketSummaryDto,
  PortalTotpCodeRequest,
  PortalTotpSetupDto,
  PutPortalAccountRequest,
} from "@switchboard/shared";
import type { FastifyReply } from "fastify";
import { z } from "zod";
import type { App, AppDeps } from "../../app.ts";
import { actorOf } from "../../http/auth.ts";
import { AppError, invalid } from "../../http/errors.ts";
import { contactOnly, publicRoute, rolesOnly, signedIn } from "../../http/policy.ts";
import type { BlobStore } from "../../lib/blob-store.ts";
import { safeContentType } from "../tickets/attachments.ts";
import {
  confirmPortalTotp,
  getPortalAccount,
  portalMe,
  putPortalAccount,
  setPortalPassword,
  startPortalTotp,
} from "./account.ts";
import { PORTAL_COOKIE, setPortalCookie } from "./session.ts";
import { passwordSignIn, portalLogout, redeemSignInLink, requestSignInLink } from "./sign-in.ts";
import {
  attachOnPortalTicket,
  createPortalTicket,
  getPortalAttachment,
  getPortalTicket,
  listPortalTickets,
  replyOnPortalTicket,
} from "./tickets.ts";

const tags = ["portal"];

/** Sends a stored file as a download that a browser never runs (shared by the portal's file routes). */
export async function sendDownload(
  reply: FastifyReply,
  blobs: BlobStore,
  f: { storage_key: string; content_type: string; size_bytes: number; filename: string },
  opts: { inline?: boolean } = {},
) {
  const type = safeContentType(f.content_type);
  const inline = opts.inline && /^image\/(png|jpeg|gif|webp)$/i.test(type);
  reply
    .header("content-type", type)
    .header("content-length", String(f.size_bytes))
    .header("x-content-type-options", "nosniff")
    .header("content-security-policy", "default-src 'none'; sandbox")
    .header("cache-control", "private, no-store")
    .header(
      "content-disposition",
      `${inline ? "inline" : "attachment"}; filename*=UTF-8''${encodeURIComponent(f.filename)}`,
    );
  return reply.send(await blobs.get(f.storage_key));
}

export async function portalRoutes(app: App, deps: AppDeps) {
  const { db } = deps;

  app.post(
    "/api/v1/portal/auth/link",
    {
      config: publicRoute,
      schema: {
        tags,
        summary: "Mail a one-time sign-in link (the same answer whether or not the address has an account)",
        body: PortalLinkRequest,
        response: { 202: z.object({}) },
      },
    },
    async (req, reply) => {
      await requestSignInLink(deps, { email: req.body.email, ip: req.ip });
      return reply.code(202).send({});
    },
  );

  app.post(
    "/api/v1/portal/auth/redeem",
    {
      config: publicRoute,
      schema: {
        tags,
        summary: "Sign in with the token of a sign-in link (once); sets the portal cookie",
        body: PortalRedeemRequest,
        response: { 200: z.object({ expiresAt: z.string() }) },
      },
    },
    async (req, reply) => {
      const s = await redeemSignInLink(deps, {
        token: req.body.token,
        ip: req.ip,
        userAgent: req.headers["user-agent"],
      });
      setPortalCookie(reply, deps.config, s.token, s.expiresAt);
      return { expiresAt: s.expiresAt.toISOString() };
    },
  );

  app.post(
    "/api/v1/portal/auth/login",
    {
      config: publicRoute,
      schema: {
        tags,
        summary: "Sign in with a password (and the authenticator code when set up)",
        body: PortalLoginRequest,
        response: { 200: z.object({ expiresAt: z.string() }) },
      },
    },
    async (req, reply) => {
      const s = await passwordSignIn(deps, { ...req.body, ip: req.ip, userAgent: req.headers["user-agent"] });
      setPortalCookie(reply, deps.config, s.token, s.expiresAt);
      return { expiresAt: s.expiresAt.toISOString() };
    },
  );

  app.post(
    "/api/v1/portal/auth/logout",
    { config: publicRoute, schema: { tags, summary: "Sign out of the portal" } },
    async (req, reply) => {
      const cookie = req.cookies[PORTAL_COOKIE];
      if (cookie) await portalLogout(db, cookie);
      reply.clearCookie(PORTAL_COOKIE, { path: "/" });
      return reply.code(204).send();
    },
  );

  app.get(
    "/api/v1/portal/me",
    { config: contactOnly, schema: { tags, response: { 200: PortalMeDto } } },
    async (req) => portalMe(db, actorOf(req)),
  );

  app.put(
    "/api/v1/portal/me/password",
    { config: contactOnly, schema: { tags, body: PortalPasswordRequest } },
    async (req, reply) => {
      await setPortalPassword(db, actorOf(req), req.body);
      return reply.code(204).send();
    },
  );

  app.post(
    "/api/v1/portal/me/totp",
    {
      config: contactOnly,
      schema: { tags, summary: "Start authenticator set-up", response: { 200: PortalTotpSetupDto } },
    },
    async (req) => startPortalTotp(deps, actorOf(req)),
  );

  app.post(
    "/api/v1/portal/me/totp/confirm",
    { config: contactOnly, schema: { tags, body: PortalTotpCodeRequest } },
    async (req, reply) => {
      await confirmPortalTotp(deps, actorOf(req), req.body.code);
      return reply.code(204).send();
    },
  );

  app.get(
    "/api/v1/portal/tickets",
    {
      config: contactOnly,
      schema: {
        tags,
        summary: "My tickets (a company admin may ask for the company's)",
        querystring: PortalTicketListQuery,
        response: { 200: Page(PortalTicketSummaryDto) },
      },
    },
    async (req) => listPortalTickets(db, actorOf(req), req.query),
  );

  app.post(
    "/api/v1/portal/tickets",
    {
      config: contactOnly,
      schema: { tags, body: PortalCreateTicketRequest, response: { 201: PortalTicketDto } },
    },
    async (req, reply) => reply.code(201).send(await createPortalTicket(db, actorOf(req), req.body)),
  );

  app.get(
    "/api/v1/portal/tickets/:id",
    { config: contactOnly, schema: { tags, params: IdParams, response: { 200: PortalTicketDto } } },
    async (req) => getPortalTicket(db, actorOf(req), req.params.id),
  );

  app.post(
    "/api/v1/portal/tickets/:id/replies",
    {
      config: contactOnly,
      schema: { tags, params: IdParams, body: PortalReplyRequest, response: { 201: PortalTicketDto } },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      const r = await replyOnPortalTicket(db, actor, req.params.id, req.body.body);
      return reply.code(201).send(await getPortalTicket(db, actor, r.ticketId));
    },
  );

  app.post(
    "/api/v1/portal/tickets/:id/attachments",
    {
      config: contactOnly,
      schema: {
        tags,
        summary: "Attach files (multipart/form-data; optional field `note`)",
        params: IdParams,
        consumes: ["multipart/form-data"],
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      if (!req.isMultipart()) throw new AppError("unsupported_media_type", 415, "Send multipart/form-data");
      const files: Array<{ filename: string; contentType: string; data: Buffer }> = [];
      let note = "";
      for await (const part of req.parts()) {
        if (part.type === "field") {
          if (part.fieldname === "note") note = String(part.value).slice(0, 5000);
          continue;
        }
        const data = await part.toBuffer();
        if (part.file.truncated) {
          throw new AppError("payload_too_large", 413, `${part.filename} is over the attachment size limit`);
        }
        files.push({
          filename: part.filename || "attachment",
          contentType: part.mimetype || "application/octet-stream",
          data,
        });
      }
      if (files.length === 0) throw invalid("body.file", "no file in the upload");
      const rows = await attachOnPortalTicket(db, deps.blobs, actor, req.params.id, files, note);
      return reply.code(201).send({
        attachments: rows.map((r) => ({
          id: r.id,
          filename: r.filename,
          contentType: r.content_type,
          sizeBytes: r.size_bytes,
        })),
      });
    },
  );

  app.get(
    "/api/v1/portal/attachments/:id",
    { config: contactOnly, schema: { tags, summary: "Download an attachment", params: IdParams } },
    async (req, reply) =>
      sendDownload(reply, deps.blobs, await getPortalAttachment(db, actorOf(req), req.params.id)),
  );

  // Staff side: a contact's portal access.
  app.get(
    "/api/v1/contacts/:id/portal",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "A contact's portal access (null: none)",
        params: IdParams,
        response: { 200: PortalAccountDto.nullable() },
      },
    },
    async (req) => getPortalAccount(db, actorOf(req), req.params.id),
  );

  app.put(
    "/api/v1/contacts/:id/portal",
    {
      config: rolesOnly(["admin", "dispatcher"]),
      schema: {
        tags,
        summary: "Give a contact portal access or change it; `invite` mails a sign-in link",
        params: IdParams,
        body: PutPortalAccountRequest,
        response: { 200: PortalAccountDto },
      },
    },
    async (req) => putPortalAccount(deps, actorOf(req), req.params.id, req.body),
  );
}
