import {
  CreateDocumentRequest,
  CreateLayoutRequest,
  CreateShareRequest,
  DocLayoutDto,
  DocumentDto,
  DocumentListQuery,
  DocumentSummaryDto,
  DocumentVersionDto,
  IdParams,
  OpenShareRequest,
  ShareDto,
  SharedDocumentsDto,
  UpdateDocumentRequest,
} from "@switchboard/shared";
import { z } from "zod";
import type { App, AppDeps } from "../../app.ts";
import { actorOf } from "../../http/auth.ts";
import { AppError, invalid } from "../../http/errors.ts";
import { publicRoute, rolesOnly, signedIn, writers } from "../../http/policy.ts";
import { sendDownload } from "../portal/routes.ts";
import {
  addDocumentFile,
  archiveDocument,
  createDocument,
  createLayout,
  getDocument,
  getDocumentFile,
  getDocumentVersion,
  listDocuments,
  listLayouts,
  updateDocument,
} from "./service.ts";
import { createShare, openShare, revokeShare, sharedFile } from "./shares.ts";

const tags = ["documentation"];

export async function documentRoutes(app: App, deps: AppDeps) {
  const { db } = deps;
  app.get(
    "/api/v1/doc-layouts",
    { config: signedIn, schema: { tags, response: { 200: z.array(DocLayoutDto) } } },
    async () => listLayouts(db),
  );
  app.post(
    "/api/v1/doc-layouts",
    {
      config: rolesOnly(["admin"], { allClients: true }),
      schema: { tags, body: CreateLayoutRequest, response: { 201: DocLayoutDto } },
    },
    async (req, reply) => reply.code(201).send(await createLayout(db, actorOf(req), req.body)),
  );
  app.get(
    "/api/v1/documents",
    {
      config: signedIn,
      schema: { tags, querystring: DocumentListQuery, response: { 200: z.array(DocumentSummaryDto) } },
    },
    async (req) => listDocuments(db, actorOf(req), req.query),
  );
  app.post(
    "/api/v1/documents",
    { config: writers, schema: { tags, body: CreateDocumentRequest, response: { 201: DocumentDto } } },
    async (req, reply) => reply.code(201).send(await createDocument(db, actorOf(req), req.body)),
  );
  app.get(
    "/api/v1/documents/:id",
    { config: signedIn, schema: { tags, params: IdParams, response: { 200: DocumentDto } } },
    async (req) => getDocument(db, actorOf(req), req.params.id),
  );
  app.patch(
    "/api/v1/documents/:id",
    {
      config: writers,
      schema: { tags, params: IdParams, body: UpdateDocumentRequest, response: { 200: DocumentDto } },
    },
    async (req) => updateDocument(db, actorOf(req), req.params.id, req.body),
  );
  app.delete(
    "/api/v1/documents/:id",
    { config: writers, schema: { tags, params: IdParams } },
    async (req, reply) => {
      await archiveDocument(db, actorOf(req), req.params.id);
      return reply.code(204).send();
    },
  );
  app.get(
    "/api/v1/documents/:id/versions/:version",
    {
      config: signedIn,
      schema: {
        tags,
        params: IdParams.extend({ version: z.coerce.number().int().min(1).max(1_000_000) }),
        response: { 200: DocumentVersionDto },
      },
    },
    async (req) => getDocumentVersion(db, actorOf(req), req.params.id, req.params.version),
  );
  app.post(
    "/api/v1/documents/:id/files",
    { config: writers, schema: { tags, params: IdParams, consumes: ["multipart/form-data"] } },
    async (req, reply) => {
      if (!req.isMultipart()) throw new AppError("unsupported_media_type", 415, "Send multipart/form-data");
      const part = await req.file();
      if (!part) throw invalid("body.file", "no file in the upload");
      const data = await part.toBuffer();
      if (part.file.truncated)
        throw new AppError("payload_too_large", 413, "The file is over the size limit");
      const row = await addDocumentFile(db, deps.blobs, actorOf(req), req.params.id, {
        filename: part.filename || "file",
        contentType: part.mimetype || "application/octet-stream",
        data,
      });
      return reply
        .code(201)
        .send({ id: row.id, filename: row.filename, url: `/api/v1/documents/files/${row.id}` });
    },
  );
  app.get(
    "/api/v1/documents/files/:id",
    { config: signedIn, schema: { tags, params: IdParams } },
    async (req, reply) =>
      sendDownload(reply, deps.blobs, await getDocumentFile(db, actorOf(req), req.params.id), {
        inline: true,
      }),
  );
  app.post(
    "/api/v1/document-shares",
    {
      config: writers,
      schema: {
        tags,
        summary: "Share documents with a contact by an expiring link (shown once; optionally mailed)",
        body: CreateShareRequest,
        response: { 201: ShareDto },
      },
    },
    async (req, reply) => reply.code(201).send(await createShare(deps, actorOf(req), req.body)),
  );
  app.delete(
    "/api/v1/document-shares/:id",
    { config: writers, schema: { tags, params: IdParams } },
    async (req, reply) => {
      await revokeShare(deps, actorOf(req), req.params.id);
      return reply.code(204).send();
    },
  );
  // The link's token travels in a POST body (the page reads it from the URL's fragment): never in a URL a
  // server or proxy logs.
  app.post(
    "/api/v1/shared/open",
    {
      config: publicRoute,
      schema: {
        tags,
        summary: "Open a share link",
        body: OpenShareRequest,
        response: { 200: SharedDocumentsDto },
      },
    },
    async (req) => openShare(deps, req.body.token),
  );
  app.post(
    "/api/v1/shared/files/:id",
    {
      config: publicRoute,
      schema: { tags, summary: "Download a file of a share link", params: IdParams, body: OpenShareRequest },
    },
    async (req, reply) =>
      sendDownload(reply, deps.blobs, await sharedFile(deps, req.body.token, req.params.id)),
  );
}
