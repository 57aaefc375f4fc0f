import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { type GatewayApp, startGatewayApp } from "../../gateway/test-support.ts";

const id = randomUUID();
/** Every route of remote access and support sessions, with the answer an anonymous caller must get. */
const ROUTES: Array<{ method: "GET" | "POST" | "PUT"; url: string; anonymous: number; body?: object }> = [
  { method: "GET", url: `/api/v1/clients/${id}/remote-policy`, anonymous: 401 },
  { method: "PUT", url: `/api/v1/clients/${id}/remote-policy`, anonymous: 401 },
  { method: "POST", url: `/api/v1/devices/${id}/shells`, anonymous: 401 },
  { method: "GET", url: `/api/v1/remote/shells/${id}/socket`, anonymous: 401 },
  { method: "POST", url: `/api/v1/devices/${id}/files?path=/tmp/x`, anonymous: 401 },
  { method: "POST", url: `/api/v1/devices/${id}/file-downloads`, anonymous: 401 },
  { method: "GET", url: `/api/v1/devices/${id}/remote-sessions`, anonymous: 401 },
  { method: "GET", url: `/api/v1/remote/sessions/${id}`, anonymous: 401 },
  { method: "GET", url: `/api/v1/remote/sessions/${id}/file`, anonymous: 401 },
  { method: "POST", url: `/api/v1/tickets/${id}/support-sessions`, anonymous: 401 },
  { method: "GET", url: `/api/v1/tickets/${id}/support-sessions`, anonymous: 401 },
  { method: "GET", url: `/api/v1/support-sessions/${id}`, anonymous: 401 },
  { method: "POST", url: `/api/v1/support-sessions/${id}/end`, anonymous: 401 },
  { method: "POST", url: `/api/v1/support-sessions/${id}/files`, anonymous: 401 },
  { method: "GET", url: `/api/v1/support-sessions/${id}/socket`, anonymous: 401 },
  { method: "GET", url: "/api/v1/support/join-activity", anonymous: 401 },
  // Public: their own credential is the code, then the session token.
  { method: "POST", url: "/api/v1/join", anonymous: 404, body: { code: "000000" } },
  { method: "GET", url: "/api/v1/join/session", anonymous: 404 },
  { method: "POST", url: "/api/v1/join/consent", anonymous: 404, body: { scope: "session", granted: true } },
  { method: "POST", url: "/api/v1/join/end", anonymous: 404 },
  { method: "POST", url: "/api/v1/join/files", anonymous: 404 },
  { method: "GET", url: `/api/v1/join/files/${id}`, anonymous: 404 },
];

/** The same path written differently: a trailing slash, an encoded letter, an encoded slash, upper case. */
function variants(url: string) {
  const [path = "", query] = url.split("?");
  const q = query ? `?${query}` : "";
  const first = path.charAt("/api/v1/".length);
  return [
    `${path}/${q}`,
    `/api/v1/%${first.charCodeAt(0).toString(16)}${path.slice("/api/v1/".length + 1)}${q}`,
    `${path.replace(/\/([^/]+)$/, "%2F$1")}${q}`,
    `${path.toUpperCase()}${q}`,
  ];
}

describe("remote access routes, anonymously", () => {
  let t: GatewayApp;
  beforeAll(async () => {
    t = await startGatewayApp();
  });
  afterAll(() => t?.close());

  it("answers every route and every spelling of it with 401 or 404, never anything else", async () => {
    for (const r of ROUTES) {
      // The join limit must not be what answers here.
      if (r.url === "/api/v1/join") await t.db.deleteFrom("support_join_attempts").execute();
      const res = await t.app.inject({ method: r.method, url: r.url, payload: r.body });
      expect(res.statusCode, `${r.method} ${r.url}: ${res.body}`).toBe(r.anonymous);
      for (const v of variants(r.url)) {
        const other = await t.app.inject({ method: r.method, url: v, payload: r.body });
        expect([401, 404], `${r.method} ${v}: ${other.statusCode} ${other.body}`).toContain(other.statusCode);
      }
    }
  });

  it("refuses the sockets' upgrades without a sign-in, and the caller's socket without a token", async () => {
    const ws = t.url.replace(/^http/, "ws");
    const status = (url: string, first?: object) =>
      new Promise<number>((resolve) => {
        const s = new WebSocket(url);
        s.on("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
        s.on("open", () => {
          s.on("close", (code) => resolve(code));
          if (first) s.send(JSON.stringify(first));
        });
        s.on("error", () => {});
      });
    expect(await status(`${ws}/api/v1/remote/shells/${id}/socket`)).toBe(401);
    expect(await status(`${ws}/api/v1/remote/shells/${id}/socket/`)).toBe(404);
    expect(await status(`${ws}/api/v1/support-sessions/${id}/socket`)).toBe(401);
    expect(await status(`${ws}/api/v1/%73upport-sessions/${id}/socket`)).toBeOneOf([401, 404]);
    // The caller's socket opens, then closes unless its first frame is a valid token.
    expect(await status(`${ws}/api/v1/join/socket`, { t: "chat", text: "hello" })).toBe(4401);
    expect(await status(`${ws}/api/v1/join/socket`, { t: "auth", token: "sbj_not-a-real-token" })).toBe(4401);
  }, 30_000);
});
