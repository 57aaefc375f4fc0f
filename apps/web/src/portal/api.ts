// The portal's own small API client: the console's is not loaded here.

export class PortalError extends Error {
  readonly status: number;
  readonly code: string;
  readonly details: unknown;
  constructor(status: number, code: string, message: string, details?: unknown) {
    super(message);
    this.status = status;
    this.code = code;
    this.details = details;
  }
}

export async function call<T>(method: "GET" | "POST" | "PUT", path: string, body?: unknown): Promise<T> {
  let res: Response;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      credentials: "same-origin",
      headers: {
        accept: "application/json",
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch {
    throw new PortalError(0, "network_error", "The server cannot be reached. Check your connection.");
  }
  if (res.status === 204) return undefined as T;
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const e = (data as { error?: { code: string; message: string; details?: unknown } } | null)?.error;
    throw new PortalError(
      res.status,
      e?.code ?? "http_error",
      e?.message ?? `HTTP ${res.status}`,
      e?.details,
    );
  }
  return data as T;
}

export async function upload<T>(path: string, form: FormData): Promise<T> {
  const res = await fetch(`/api/v1${path}`, { method: "POST", credentials: "same-origin", body: form });
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const e = (data as { error?: { code: string; message: string } } | null)?.error;
    throw new PortalError(res.status, e?.code ?? "http_error", e?.message ?? `HTTP ${res.status}`);
  }
  return data as T;
}

/** Values after `#` (sign-in, rating and share links carry their token there: it never reaches a server log). */
export function fragment(): URLSearchParams {
  return new URLSearchParams(window.location.hash.replace(/^#/, ""));
}

export interface Me {
  contactId: string;
  name: string;
  email: string;
  client: { id: string; name: string };
  companyAdmin: boolean;
  hasPassword: boolean;
  totpEnabled: boolean;
  mspName: string;
}
export interface TicketSummary {
  id: string;
  number: number;
  subject: string;
  status: { name: string; category: string };
  contactName: string | null;
  createdAt: string;
  lastActivityAt: string;
  resolvedAt: string | null;
}
export interface Ticket extends TicketSummary {
  description: string;
  rating: "good" | "okay" | "bad" | null;
  entries: Array<{
    id: string;
    kind: string;
    body: string;
    author: { type: "user" | "contact"; name: string } | null;
    attachments: Array<{ id: string; filename: string; sizeBytes: number }>;
    createdAt: string;
  }>;
}
export interface ArticleHit {
  id: string;
  title: string;
  excerpt: string;
}

export const when = (iso: string) =>
  new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
