import fastifyMultipart from "@fastify/multipart";
import {
  BulkUpdateRequest,
  CreateStatusRequest,
  CreateTicketRequest,
  CreateTimelineEntryRequest,
  ErrorResponse,
  IdParams,
  MergeTicketRequest,
  Page,
  StatusDto,
  TicketDto,
  TicketListQuery,
  TicketSummaryDto,
  TicketWithTimelineDto,
  TimelineEntryDto,
  TimelineQuery,
  UpdateStatusRequest,
  UpdateTicketRequest,
} from "@switchboard/shared";
import { z } from "zod";
import type { App, AppDeps } from "../../app.ts";
import { actorOf } from "../../http/auth.ts";
import { AppError, invalid } from "../../http/errors.ts";
import { rolesOnly, signedIn, writers } from "../../http/policy.ts";
import { safeFileName } from "../../lib/filename.ts";
import { addAttachment, getAttachment, previewable, safeContentType } from "./attachments.ts";
import { listTickets } from "./list.ts";
import { mergeTickets } from "./merge.ts";
import { loadTimeline } from "./read.ts";
import { createTicket, getTicket, ticketIdByNumber } from "./service.ts";
import { createStatus, listStatuses, updateStatus } from "./statuses.ts";
import { addTimelineEntry, getTimelineEntry, listTimeline } from "./timeline.ts";
import { bulkUpdate, updateTicket } from "./update.ts";

const tags = ["tickets"];
const errors = { 400: ErrorResponse, 404: ErrorResponse };
const IdempotencyHeaders = z.object({
  "idempotency-key": z.string().min(8).max(200).optional(),
});

export async function ticketRoutes(app: App, deps: AppDeps) {
  const { db } = deps;
  await app.register(fastifyMultipart, {
    limits: { fileSize: deps.config.ATTACHMENT_LIMIT_BYTES, files: 10, fields: 5 },
  });

  app.get(
    "/api/v1/statuses",
    { config: signedIn, schema: { tags, response: { 200: z.array(StatusDto) } } },
    async () => listStatuses(db),
  );
  app.post(
    "/api/v1/statuses",
    {
      config: rolesOnly(["admin"], { allClients: true }),
      schema: {
        tags,
        summary: "Add a status within a category (admins)",
        body: CreateStatusRequest,
        response: { 201: StatusDto },
      },
    },
    async (req, reply) => reply.code(201).send(await createStatus(db, actorOf(req), req.body)),
  );
  app.patch(
    "/api/v1/statuses/:id",
    {
      config: rolesOnly(["admin"], { allClients: true }),
      schema: {
        tags,
        summary: "Rename or reorder a status; move an added one to another category (admins)",
        params: IdParams,
        body: UpdateStatusRequest,
        response: { 200: StatusDto },
      },
    },
    async (req) => updateStatus(db, actorOf(req), req.params.id, req.body),
  );

  app.get(
    "/api/v1/tickets",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "Queues and filtered lists, keyset-paginated",
        querystring: TicketListQuery,
        response: { 200: Page(TicketSummaryDto) },
      },
    },
    async (req) => listTickets(db, actorOf(req), req.query),
  );

  app.post(
    "/api/v1/tickets",
    {
      config: writers,
      schema: {
        tags,
        summary: "Create a ticket (honours Idempotency-Key)",
        headers: IdempotencyHeaders,
        body: CreateTicketRequest,
        response: { 201: TicketDto, ...errors },
      },
    },
    async (req, reply) => {
      const { ticket, replayed } = await createTicket(db, actorOf(req), req.body, {
        idempotencyKey: req.headers["idempotency-key"],
      });
      if (replayed) reply.header("idempotent-replayed", "true");
      return reply.code(201).send(ticket);
    },
  );

  const withTimeline = async (actor: ReturnType<typeof actorOf>, id: string, limit: number) => {
    const [ticket, timeline] = await Promise.all([getTicket(db, actor, id), loadTimeline(db, id, limit)]);
    return { ...ticket, ticket, timeline: timeline.entries, olderBefore: timeline.olderBefore };
  };

  app.get(
    "/api/v1/tickets/:id",
    {
      config: signedIn,
      schema: {
        tags,
        summary:
          "A ticket (the TicketDto that POST and PATCH return, at the top level) with its newest timeline entries",
        params: IdParams,
        querystring: z.object({ timelineLimit: z.coerce.number().int().min(1).max(200).default(50) }),
        response: { 200: TicketWithTimelineDto, ...errors },
      },
    },
    async (req) => withTimeline(actorOf(req), req.params.id, req.query.timelineLimit),
  );

  app.get(
    "/api/v1/tickets/by-number/:number",
    {
      config: signedIn,
      schema: {
        tags,
        summary: "A ticket by its number; a merged ticket's number answers with the ticket it went into",
        params: z.object({ number: z.coerce.number().int().min(1) }),
        response: { 200: TicketWithTimelineDto, ...errors },
      },
    },
    async (req) => {
      const actor = actorOf(req);
      return withTimeline(actor, await ticketIdByNumber(db, actor, req.params.number), 50);
    },
  );

  app.patch(
    "/api/v1/tickets/:id",
    {
      config: writers,
      schema: {
        tags,
        summary:
          "Change a ticket; `version` must be the one you read (412 with the current ticket otherwise)",
        params: IdParams,
        body: UpdateTicketRequest,
        response: { 200: TicketDto, 409: ErrorResponse, 412: ErrorResponse, ...errors },
      },
    },
    async (req) => updateTicket(db, actorOf(req), req.params.id, req.body),
  );

  app.post(
    "/api/v1/tickets/:id/merge",
    {
      config: writers,
      schema: {
        tags,
        summary: "Merge this ticket into another",
        params: IdParams,
        body: MergeTicketRequest,
        response: { 200: TicketDto, 409: ErrorResponse, ...errors },
      },
    },
    async (req) => mergeTickets(db, actorOf(req), req.params.id, req.body.intoTicketId),
  );

  app.post(
    "/api/v1/tickets/bulk",
    {
      config: writers,
      schema: {
        tags,
        summary: "Assign, re-team, change status or tag many tickets (all or nothing)",
        body: BulkUpdateRequest,
        response: { 200: z.object({ updated: z.number().int() }), 409: ErrorResponse, ...errors },
      },
    },
    async (req) => bulkUpdate(db, actorOf(req), req.body),
  );

  app.get(
    "/api/v1/tickets/:id/timeline",
    {
      config: signedIn,
      schema: {
        tags,
        params: IdParams,
        querystring: TimelineQuery,
        response: {
          200: z.object({ items: z.array(TimelineEntryDto), olderBefore: z.number().int().nullable() }),
          ...errors,
        },
      },
    },
    async (req) => {
      const r = await listTimeline(db, actorOf(req), req.params.id, req.query);
      return { items: r.entries, olderBefore: r.olderBefore };
    },
  );

  app.post(
    "/api/v1/tickets/:id/timeline",
    {
      config: writers,
      schema: {
        tags,
        summary: "Add a public reply, an internal note or a phone call log",
        params: IdParams,
        body: CreateTimelineEntryRequest,
        response: { 201: TimelineEntryDto, ...errors },
      },
    },
    async (req, reply) => {
      const b = req.body;
      const r = await addTimelineEntry(db, actorOf(req), req.params.id, {
        kind: b.kind,
        body: b.body,
        attachmentIds: b.attachmentIds,
        ...(b.kind === "call" ? { call: b.call, contactId: b.contactId } : {}),
        ...(b.kind === "reply" ? { to: b.to, cc: b.cc } : {}),
      });
      return reply.code(201).send(await getTimelineEntry(db, r.ticketId, r.entryId));
    },
  );

  app.post(
    "/api/v1/tickets/:id/attachments",
    {
      config: writers,
      schema: {
        tags,
        summary: "Attach files (multipart/form-data; optional field timelineEntryId)",
        params: IdParams,
        consumes: ["multipart/form-data"],
      },
    },
    async (req, reply) => {
      const actor = actorOf(req);
      if (!req.isMultipart()) throw new AppError("unsupported_media_type", 415, "Send multipart/form-data");
      const saved = [];
      let entryId: string | null = null;
      for await (const part of req.parts()) {
        if (part.type === "field") {
          if (part.fieldname === "timelineEntryId") {
            const parsed = z.uuid().safeParse(part.value);
            if (!parsed.success) throw invalid("body.timelineEntryId", "must be a UUID");
            entryId = parsed.data;
          }
          continue;
        }
        const data = await part.toBuffer();
        if (part.file.truncated) {
          throw new AppError("payload_too_large", 413, `${part.filename} is over the attachment size limit`);
        }
        const row = await addAttachment(db, deps.blobs, actor, req.params.id, {
          filename: safeFileName(part.filename),
          // A type of letters, digits and +.- only: anything else a client sends is stored as binary.
          contentType: /^[\w.+-]+\/[\w.+-]+$/.test(part.mimetype)
            ? part.mimetype
            : "application/octet-stream",
          data,
          timelineEntryId: entryId,
        });
        saved.push({
          id: row.id,
          filename: row.filename,
          contentType: row.content_type,
          sizeBytes: row.size_bytes,
        });
      }
      if (saved.length === 0) throw invalid("body.file", "no file in the upload");
      return reply.code(201).send({ attachments: saved });
    },
  );

  app.get(
    "/api/v1/attachments/:id",
    {
      config: signedIn,
      schema: {
        tags,
        summary:
          "Download an attachment; `disposition=inline` shows raster images and PDFs in place (still sandboxed)",
        params: IdParams,
        querystring: z.object({ disposition: z.enum(["attachment", "inline"]).default("attachment") }),
      },
    },
    async (req, reply) => {
      const a = await getAttachment(db, actorOf(req), req.params.id);
      const stream = await deps.blobs.get(a.storage_key);
      const disposition =
        req.query.disposition === "inline" && previewable(a.content_type) ? "inline" : "attachment";
      reply
        .header("content-type", safeContentType(a.content_type))
        .header("content-length", String(a.size_bytes))
        .header("x-content-type-options", "nosniff")
        .header("content-security-policy", "default-src 'none'; sandbox")
        .header("content-disposition", `${disposition}; filename*=UTF-8''${encodeURIComponent(a.filename)}`);
      return reply.send(stream);
    },
  );
}
