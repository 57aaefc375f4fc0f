import {
  ArticleDto,
  ArticleFromTicketRequest,
  ArticleListQuery,
  ArticleSummaryDto,
  CreateArticleRequest,
  IdParams,
  PortalArticleDto,
  PortalArticleQuery,
  UpdateArticleRequest,
} from "@switchboard/shared";
import { z } from "zod";
import type { App, AppDeps } from "../../app.ts";
import { actorOf } from "../../http/auth.ts";
import { AppError, invalid } from "../../http/errors.ts";
import { contactOnly, signedIn, writers } from "../../http/policy.ts";
import { sendDownload } from "../portal/routes.ts";
import { getPortalArticle, getPortalArticleFile, suggestArticles } from "./portal.ts";
import {
  addArticleFile,
  articleFromTicket,
  createArticle,
  deleteArticle,
  getArticle,
  getArticleFile,
  listArticles,
  updateArticle,
} from "./service.ts";

const tags = ["knowledge base"];

export async function kbRoutes(app: App, deps: AppDeps) {
  const { db } = deps;

  app.get(
    "/api/v1/kb/articles",
    {
      config: signedIn,
      schema: { tags, querystring: ArticleListQuery, response: { 200: z.array(ArticleSummaryDto) } },
    },
    async (req) => listArticles(db, actorOf(req), req.query),
  );
  app.post(
    "/api/v1/kb/articles",
    {
      config: writers,
      schema: {
        tags,
        summary: "Write an article (its HTML is sanitised)",
        body: CreateArticleRequest,
        response: { 201: ArticleDto },
      },
    },
    async (req, reply) => reply.code(201).send(await createArticle(db, actorOf(req), req.body)),
  );
  app.post(
    "/api/v1/kb/articles/from-ticket",
    {
      config: writers,
      schema: {
        tags,
        summary: "Draft an internal article from a ticket's problem and resolution",
        body: ArticleFromTicketRequest,
        response: { 201: ArticleDto },
      },
    },
    async (req, reply) => reply.code(201).send(await articleFromTicket(db, actorOf(req), req.body.ticketId)),
  );
  app.get(
    "/api/v1/kb/articles/:id",
    { config: signedIn, schema: { tags, params: IdParams, response: { 200: ArticleDto } } },
    async (req) => getArticle(db, actorOf(req), req.params.id),
  );
  app.patch(
    "/api/v1/kb/articles/:id",
    {
      config: writers,
      schema: { tags, params: IdParams, body: UpdateArticleRequest, response: { 200: ArticleDto } },
    },
    async (req) => updateArticle(db, actorOf(req), req.params.id, req.body),
  );
  app.delete(
    "/api/v1/kb/articles/:id",
    { config: writers, schema: { tags, params: IdParams } },
    async (req, reply) => {
      await deleteArticle(db, actorOf(req), req.params.id);
      return reply.code(204).send();
    },
  );
  app.post(
    "/api/v1/kb/articles/:id/files",
    {
      config: writers,
      schema: {
        tags,
        summary: "Upload an image for the article (multipart/form-data)",
        params: IdParams,
        consumes: ["multipart/form-data"],
      },
    },
    async (req, reply) => {
      if (!req.isMultipart()) throw new AppError("unsupported_media_type", 415, "Send multipart/form-data");
      const part = await req.file();
      if (!part) throw invalid("body.file", "no file in the upload");
      const data = await part.toBuffer();
      if (part.file.truncated)
        throw new AppError("payload_too_large", 413, "The image is over the size limit");
      const row = await addArticleFile(db, deps.blobs, actorOf(req), req.params.id, {
        filename: part.filename || "image",
        contentType: part.mimetype,
        data,
      });
      return reply.code(201).send({ id: row.id, url: `/api/v1/kb/files/${row.id}` });
    },
  );
  app.get(
    "/api/v1/kb/files/:id",
    { config: signedIn, schema: { tags, params: IdParams } },
    async (req, reply) =>
      sendDownload(reply, deps.blobs, await getArticleFile(db, actorOf(req), req.params.id), {
        inline: true,
      }),
  );

  app.get(
    "/api/v1/portal/kb/articles",
    {
      config: contactOnly,
      schema: {
        tags: ["portal"],
        summary: "Public articles matching the words (suggestions before a new ticket)",
        querystring: PortalArticleQuery,
        response: { 200: z.array(ArticleSummaryDto) },
      },
    },
    async (req) => suggestArticles(db, actorOf(req), req.query),
  );
  app.get(
    "/api/v1/portal/kb/articles/:id",
    {
      config: contactOnly,
      schema: { tags: ["portal"], params: IdParams, response: { 200: PortalArticleDto } },
    },
    async (req) => getPortalArticle(db, actorOf(req), req.params.id),
  );
  app.get(
    "/api/v1/portal/kb/files/:id",
    { config: contactOnly, schema: { tags: ["portal"], params: IdParams } },
    async (req, reply) =>
      sendDownload(reply, deps.blobs, await getPortalArticleFile(db, actorOf(req), req.params.id), {
        inline: true,
      }),
  );
}
