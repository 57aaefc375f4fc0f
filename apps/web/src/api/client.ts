export interface FieldIssue {
  path: string;
  message: string;
}

/** The server's one error shape, `{ error: { code, message, details } }`, as a throwable. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }

  get issues(): FieldIssue[] {
    const d = this.details as { issues?: FieldIssue[] } | undefined;
    return Array.isArray(d?.issues) ? d.issues : [];
  }

  /** The server's message for a field ("body.email" or "email"), for showing next to that field. */
  fieldError(field: string): string | undefined {
    return this.issues.find(
      (i) => i.path === field || i.path === `body.${field}` || i.path.endsWith(`.${field}`),
    )?.message;
  }
}

export const isApiError = (e: unknown): e is ApiError => e instanceof ApiError;

/** Field errors of a failed mutation, keyed by the body field they name. */
export function fieldErrors(error: unknown): Record<string, string> {
  if (!isApiError(error)) return {};
  const out: Record<string, string> = {};
  for (const i of error.issues) {
    const key = i.path.replace(/^body\./, "");
    out[key] ??= i.message;
  }
  return out;
}

export type Query = Record<string, string | number | boolean | string[] | undefined | null>;

export function toSearch(q: Query | undefined): string {
  if (!q) return "";
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) {
    if (v === undefined || v === null || v === "") continue;
    if (Array.isArray(v)) {
      if (v.length) p.set(k, v.join(","));
    } else p.set(k, String(v));
  }
  const s = p.toString();
  return s ? `?${s}` : "";
}

export async function api<T>(
  method: "GET" | "POST" | "PATCH" | "PUT" | "DELETE",
  path: string,
  opts: { body?: unknown; query?: Query; headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}${toSearch(opts.query)}`, {
      method,
      credentials: "same-origin",
      headers: {
        accept: "application/json",
        ...(opts.body !== undefined ? { "content-type": "application/json" } : {}),
        ...opts.headers,
      },
      body: opts.body !== undefined ? JSON.stringify(opts.body) : undefined,
      signal: opts.signal,
    });
  } catch (e) {
    if ((e as Error).name === "AbortError") throw e;
    throw new ApiError(0, "network_error", "The server cannot be reached. Check the connection.");
  }
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let data: unknown = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    const err = (data as { error?: { code: string; message: string; details?: unknown } } | null)?.error;
    throw new ApiError(
      res.status,
      err?.code ?? "http_error",
      err?.message ?? `HTTP ${res.status}`,
      err?.details,
    );
  }
  return data as T;
}

export const get = <T>(path: string, query?: Query, signal?: AbortSignal) =>
  api<T>("GET", path, { query, signal });
