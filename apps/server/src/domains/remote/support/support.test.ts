import { afterAll, beforeAll, describe, expect, it } from "vitest";
import WebSocket from "ws";
import { isolatedDatabase, makeClient, makeUser, type TestUser } from "../../../../test/helpers.ts";
import { type GatewayApp, startGatewayApp, waitFor } from "../../../gateway/test-support.ts";
import { makeTicket } from "../test-support.ts";

/** A socket that keeps every frame it receives. */
function socket(url: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, { headers });
  const frames: Array<Record<string, unknown>> = [];
  const opened = new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("unexpected-response", (_req, res) => reject(new Error(`http ${res.statusCode}`)));
  });
  const closed = new Promise<number>((resolve) => ws.on("close", (code) => resolve(code)));
  ws.on("message", (d) => frames.push(JSON.parse(d.toString())));
  ws.on("error", () => {});
  const next = (test: (f: Record<string, unknown>) => boolean) =>
    waitFor("a frame", async () => frames.find(test));
  return { ws, frames, opened, closed, next, send: (f: unknown) => ws.send(JSON.stringify(f)) };
}

// The attended session joined with a 6-digit code. Its own database: the guess limits count every
// attempt of the window, and no other test file may add to them.
describe("attended support sessions", () => {
  let t: GatewayApp;
  let tech: TestUser;
  let clientId: string;
  const join = (code: string, remoteAddress = "127.0.0.1") =>
    t.app.inject({ method: "POST", url: "/api/v1/join", payload: { code }, remoteAddress });
  const mint = async (ticketId: string, as = tech) => {
    const res = await t.app.inject({
      method: "POST",
      url: `/api/v1/tickets/${ticketId}/support-sessions`,
      headers: as.auth,
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string; code: string; status: string };
  };

  beforeAll(async () => {
    t = await startGatewayApp({}, await isolatedDatabase());
    await t.db.insertInto("msp").values({ name: "Lakeshore Managed IT" }).execute();
    tech = await makeUser(t, { role: "technician", name: "Dana Whitfield" });
    clientId = (await makeClient(t)).id;
  });
  afterAll(() => t?.close());

  it("shows the caller who is asking, once, for the right code only", async () => {
    const ticket = await makeTicket(t, tech.auth, clientId);
    const s = await mint(ticket.id);
    expect(s.code).toMatch(/^\d{6}$/);
    expect(s.status).toBe("waiting");
    const wrongCode = String((Number(s.code) + 1) % 1_000_000).padStart(6, "0");
    const wrong = await join(wrongCode);
    expect(wrong.statusCode).toBe(404);
    expect(wrong.json().error.message).toBe(
      "That code is not valid. Check the six digits with your technician.",
    );
    expect((await join("12a456")).statusCode).toBe(400);

    const ok = await join(`${s.code.slice(0, 3)} ${s.code.slice(3)}`);
    expect(ok.statusCode, ok.body).toBe(200);
    expect(ok.json().session).toMatchObject({
      technicianName: "Dana Whitfield",
      mspName: "Lakeshore Managed IT",
      ticketNumber: ticket.number,
      ticketSubject: "Reservation software not running",
      status: "joined",
    });
    // Single use: the same code again is just a wrong code.
    const again = await join(s.code);
    expect(again.statusCode).toBe(404);
    expect(again.json().error.message).toBe(wrong.json().error.message);
  });

  it("refuses an expired code the same way, and a code opens only its own ticket's session", async () => {
    const a = await makeTicket(t, tech.auth, clientId);
    const b = await makeTicket(t, tech.auth, clientId);
    const expired = await mint(a.id);
    await t.db
      .updateTable("support_sessions")
      .set({ code_expires_at: new Date(Date.now() - 1000) })
      .where("id", "=", expired.id)
      .execute();
    expect((await join(expired.code)).statusCode).toBe(404);
    const view = await t.app.inject({
      method: "GET",
      url: `/api/v1/support-sessions/${expired.id}`,
      headers: tech.auth,
    });
    expect(view.json().status).toBe("expired");

    const sa = await mint(a.id);
    const sb = await mint(b.id);
    const joined = await join(sa.code);
    const token = joined.json().token as string;
    expect(joined.json().session.ticketNumber).toBe(a.number);
    const other = await t.app.inject({
      method: "GET",
      url: `/api/v1/support-sessions/${sb.id}`,
      headers: tech.auth,
    });
    expect(other.json().status).toBe("waiting");
    // The caller's token reaches nothing of B's session, and nothing without it.
    const fileOfB = await t.app.inject({
      method: "GET",
      url: `/api/v1/join/files/${sb.id}`,
      headers: { "x-support-token": token },
    });
    expect(fileOfB.statusCode).toBe(404);
    expect((await t.app.inject({ method: "GET", url: "/api/v1/join/session" })).statusCode).toBe(404);
    expect(
      (
        await t.app.inject({
          method: "GET",
          url: "/api/v1/join/session",
          headers: { "x-support-token": "sbj_forged-token-1234" },
        })
      ).statusCode,
    ).toBe(404);
  });

  it("relays consent, chat both ways and signalling; the caller ends it; the ticket keeps the record", async () => {
    const ticket = await makeTicket(t, tech.auth, clientId);
    const s = await mint(ticket.id);
    const wsBase = t.url.replace(/^http/, "ws");
    const techSocket = socket(`${wsBase}/api/v1/support-sessions/${s.id}/socket`, tech.auth);
    await techSocket.opened;
    const joined = await join(s.code);
    const token = joined.json().token as string;
    await techSocket.next((f) => f.t === "status" && f.status === "joined");

    const callerSocket = socket(`${wsBase}/api/v1/join/socket`);
    await callerSocket.opened;
    callerSocket.send({ t: "auth", token });
    await callerSocket.next((f) => f.t === "ready");
    await techSocket.next((f) => f.t === "peer" && f.present === true);

    // No chat before consent.
    const consent = await t.app.inject({
      method: "POST",
      url: "/api/v1/join/consent",
      headers: { "x-support-token": token },
      payload: { scope: "session", granted: true },
    });
    expect(consent.statusCode, consent.body).toBe(200);
    await techSocket.next((f) => f.t === "status" && f.status === "active");

    callerSocket.send({ t: "chat", text: "It says the database is not reachable" });
    techSocket.send({ t: "chat", text: "Thanks, I can see it. Leave it with me." });
    await techSocket.next(
      (f) =>
        f.t === "event" && (f.event as { body: string }).body === "It says the database is not reachable",
    );
    await callerSocket.next(
      (f) =>
        f.t === "event" && (f.event as { body: string }).body === "Thanks, I can see it. Leave it with me.",
    );
    callerSocket.send({ t: "signal", data: { type: "offer", sdp: "v=0 fake" } });
    await techSocket.next((f) => f.t === "signal" && (f.data as { type: string }).type === "offer");

    // A malformed frame closes that socket only.
    const stray = socket(`${wsBase}/api/v1/join/socket`);
    await stray.opened;
    stray.ws.send("{nonsense");
    expect(await stray.closed).toBe(4401);

    callerSocket.send({ t: "end" });
    await techSocket.next((f) => f.t === "ended" && f.by === "caller");
    expect(await callerSocket.closed).toBe(1000);
    const record = (
      await t.app.inject({ method: "GET", url: `/api/v1/support-sessions/${s.id}`, headers: tech.auth })
    ).json();
    expect(record).toMatchObject({ status: "ended", endedBy: "caller", endReason: "ended by the caller" });
    expect(record.events.map((e: { kind: string }) => e.kind)).toEqual([
      "minted",
      "joined",
      "consent",
      "chat",
      "chat",
      "ended",
    ]);
    const timeline = JSON.stringify(
      (
        await t.app.inject({
          method: "GET",
          url: `/api/v1/tickets/${ticket.id}/timeline`,
          headers: tech.auth,
        })
      ).json(),
    );
    expect(timeline).toContain("Support session by Dana Whitfield");
    expect(timeline).toContain("The caller allowed screen sharing, chat and files with the technician");
    expect(timeline).toContain("Caller: It says the database is not reachable");
    expect(timeline).toContain("Dana Whitfield: Thanks, I can see it. Leave it with me.");
    // After the end the token is useless for anything but reading.
    const late = await t.app.inject({
      method: "POST",
      url: "/api/v1/join/consent",
      headers: { "x-support-token": token },
      payload: { scope: "session", granted: true },
    });
    expect(late.statusCode).toBe(409);
  });

  it("only the technician who minted the session drives it", async () => {
    const ticket = await makeTicket(t, tech.auth, clientId);
    const s = await mint(ticket.id);
    const colleague = await makeUser(t, { role: "technician" });
    const end = await t.app.inject({
      method: "POST",
      url: `/api/v1/support-sessions/${s.id}/end`,
      headers: colleague.auth,
    });
    expect(end.statusCode).toBe(404);
    const readonly = await makeUser(t, { role: "readonly" });
    const minted = await t.app.inject({
      method: "POST",
      url: `/api/v1/tickets/${ticket.id}/support-sessions`,
      headers: readonly.auth,
    });
    expect(minted.statusCode).toBe(403);
    const limited = await makeUser(t, { role: "technician", clientIds: [(await makeClient(t)).id] });
    const hidden = await t.app.inject({
      method: "POST",
      url: `/api/v1/tickets/${ticket.id}/support-sessions`,
      headers: limited.auth,
    });
    expect(hidden.statusCode).toBe(404);
    expect(
      (
        await t.app.inject({
          method: "POST",
          url: `/api/v1/support-sessions/${s.id}/end`,
          headers: tech.auth,
        })
      ).statusCode,
    ).toBe(200);
  });

  it("throttles guessing per address and globally, before comparing, and shows admins the flood", async () => {
    await t.db.deleteFrom("support_join_attempts").execute();
    await t.db
      .updateTable("support_sessions")
      .set({ status: "cancelled" })
      .where("status", "=", "waiting")
      .execute();
    const ticket = await makeTicket(t, tech.auth, clientId);
    const s = await mint(ticket.id);
    const wrong = String((Number(s.code) + 500_000) % 1_000_000).padStart(6, "0");
    // Per address: ten wrong codes, then even the right one waits.
    for (let i = 0; i < 10; i++) expect((await join(wrong, "10.9.9.9")).statusCode).toBe(404);
    expect((await join(s.code, "10.9.9.9")).statusCode).toBe(429);
    // Globally: with one live code, 99 wrong codes in the window from anywhere, then nobody is compared.
    for (let i = 0; i < 89; i++)
      expect((await join(wrong, `10.1.${Math.floor(i / 9)}.${i % 9}`)).statusCode).toBe(404);
    const refused = await join(s.code, "10.2.0.1");
    expect(refused.statusCode).toBe(429);
    expect(refused.json().error.details.retryAfterSeconds).toBe(600);

    const admin = await makeUser(t, { role: "admin" });
    const activity = await t.app.inject({
      method: "GET",
      url: "/api/v1/support/join-activity",
      headers: admin.auth,
    });
    expect(activity.json()).toMatchObject({
      liveCodes: 1,
      failedInWindow: 99,
      riskUsed: 99,
      riskBudget: 99,
      throttledInWindow: 2,
    });
    expect(activity.json().topAddresses[0]).toEqual({ address: "10.9.9.9", failed: 11 });
    const flood = await t.db
      .selectFrom("audit_log")
      .select("action")
      .where("action", "=", "support.join_throttled")
      .execute();
    expect(flood).toHaveLength(1);
    expect(
      (await t.app.inject({ method: "GET", url: "/api/v1/support/join-activity", headers: tech.auth }))
        .statusCode,
    ).toBe(403);
  });
});
