import type { FastifyError, FastifyInstance } from "fastify";
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from "fastify-type-provider-zod";

/**
 * The one error type. Codes (stable, documented in docs/ARCHITECTURE.md):
 * validation_failed 400, unauthenticated 401, forbidden 403, not_found 404, conflict 409,
 * invalid_transition 409, setup_complete 409, idempotency_key_reused 422, version_conflict 412,
 * payload_too_large 413, unsupported_media_type 415, upgrade_required 426, rate_limited 429,
 * internal_error 500; identity: code_rejected 422, verification_required 403.
 */
export type ErrorCode =
  | "validation_failed"
  | "unauthenticated"
  | "forbidden"
  | "not_found"
  | "conflict"
  | "invalid_transition"
  | "setup_complete"
  | "idempotency_key_reused"
  | "version_conflict"
  | "payload_too_large"
  | "unsupported_media_type"
  | "upgrade_required"
  | "rate_limited"
  | "internal_error"
  | "code_rejected"
  | "verification_required";

export interface FieldIssue {
  path: string;
  message: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;
  constructor(code: ErrorCode, status: number, message: string, details?: unknown) {
    super(message);
    this.code = code;
    this.status = status;
    this.details = details;
  }
}

export const notFound = (what: string) => new AppError("not_found", 404, `${what} not found`);
export const forbidden = (message = "You are not allowed to do this") =>
  new AppError("forbidden", 403, message);
export const invalid = (path: string, message: string) =>
  new AppError("validation_failed", 400, `${path}: ${message}`, { issues: [{ path, message }] });

/** 409 naming the field whose value is already taken (a duplicate name or email). */
export const conflictOn = (path: string, message: string) =>
  new AppError("conflict", 409, `${path}: ${message}`, { issues: [{ path, message }] });

/** 412 with the record as it is now, so the caller can merge and retry with its version. */
export const versionConflict = (what: string, current: unknown) =>
  new AppError(
    "version_conflict",
    412,
    `This ${what} was changed by someone else since you read it; reload and try again`,
    { current },
  );

/** A unique index refused the write: another request won a race the pre-check could not see. */
export function isUniqueViolation(err: unknown, constraint: string): boolean {
  const e = err as { code?: string; constraint?: string } | null;
  return e?.code === "23505" && e.constraint === constraint;
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; details?: unknown };
}

function body(code: ErrorCode, message: string, details?: unknown): ErrorBody {
  return { error: details === undefined ? { code, message } : { code, message, details } };
}

const issuePath = (location: string, instancePath: string) =>
  [location, ...instancePath.split("/")].filter(Boolean).join(".");

export function registerErrorHandler(app: FastifyInstance) {
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send(body("not_found", `No route for ${req.method} ${req.url.split("?")[0]}`));
  });

  app.setErrorHandler((err: FastifyError | AppError, req, reply) => {
    if (err instanceof AppError) {
      if (err.status >= 500) req.log.error({ err }, err.message);
      return reply.code(err.status).send(body(err.code, err.message, err.details));
    }
    if (hasZodFastifySchemaValidationErrors(err)) {
      const location = err.validationContext === "querystring" ? "query" : (err.validationContext ?? "body");
      const issues: FieldIssue[] = err.validation.map((v) => ({
        path: issuePath(location, v.instancePath),
        message: v.message ?? "is invalid",
      }));
      const first = issues[0];
      const message = first ? `${first.path}: ${first.message}` : "Invalid request";
      return reply.code(400).send(body("validation_failed", message, { issues }));
    }
    if (isResponseSerializationError(err)) {
      req.log.error({ err, issues: err.cause.issues }, "response did not match its schema");
      return reply.code(500).send(body("internal_error", "Internal server error"));
    }
    const status = err.statusCode ?? 500;
    if (status === 413 || err.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
      return reply.code(413).send(body("payload_too_large", "Request body is too large"));
    }
    if (status === 415 || err.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
      return reply.code(415).send(body("unsupported_media_type", "Send application/json"));
    }
    if (status === 429) {
      return reply.code(429).send(body("rate_limited", err.message));
    }
    if (status >= 400 && status < 500) {
      // Fastify's own client errors: malformed JSON, empty body with a JSON content type...
      return reply.code(400).send(body("validation_failed", err.message));
    }
    const pgCode = (err as { code?: unknown }).code;
    if (pgCode === "42501" && /row-level security/.test(err.message)) {
      // A write outside the actor's clients that no service check caught: RLS held. Answered like an
      // unknown record, and logged loudly: a check is missing somewhere.
      req.log.error({ err }, "row-level security refused a write the service layer allowed");
      return reply.code(404).send(body("not_found", "Not found"));
    }
    if (typeof pgCode === "string" && /^22[0-9A-Z]{3}$/.test(pgCode)) {
      // PostgreSQL's data exceptions (a value out of range, malformed for its type): bad input that a
      // schema let through. A 400, logged so the schema can be tightened.
      req.log.warn({ err }, "bad input reached the database");
      return reply
        .code(400)
        .send(body("validation_failed", "A value in the request is out of range or malformed"));
    }
    req.log.error({ err }, "unhandled error");
    return reply.code(500).send(body("internal_error", "Internal server error"));
  });
}
