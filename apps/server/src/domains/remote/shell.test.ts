import { REMOTE_WINDOW } from "@switchboard/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentClient } from "../../../../agent/src/client.ts";
import { makeUser } from "../../../test/helpers.ts";
import { type GatewayApp, startGatewayApp, waitFor } from "../../gateway/test-support.ts";
import { CALM, connectedAgent, makeTicket, openShell, ShellClient } from "./test-support.ts";

// A real shell on a real PTY (script(1)) through the gateway, driven the way the console's terminal does.
const canPty = process.platform === "linux";

describe.skipIf(!canPty)("remote shell", () => {
  let t: GatewayApp;
  let agent: AgentClient;
  let deviceId: string;
  let auth: Record<string, string>;
  let clientId: string;

  beforeAll(async () => {
    // A plain shell: this machine's interactive bash start-up files take seconds (the executable's test
    // uses the default login shell).
    process.env.SWITCHBOARD_AGENT_SHELL = "/bin/sh";
    t = await startGatewayApp(CALM);
    const a = await connectedAgent(t);
    agent = a.agent;
    deviceId = a.deviceId;
    auth = a.admin.auth;
    clientId = a.client.id;
  });
  afterAll(async () => {
    await agent?.stop();
    await t?.close();
  });

  const api = (method: "GET" | "POST" | "PUT", url: string, payload?: object) =>
    t.app.inject({ method, url, headers: auth, payload });

  it("runs a command, resizes, and leaves the recording on the ticket with start and end audited", async () => {
    const ticket = await makeTicket(t, auth, clientId);
    const { id, client } = await openShell(t, auth, deviceId, { ticketId: ticket.id });
    await waitFor("shell open", async () => client.status === "open", 30_000);
    client.type("echo $((6*7))\r");
    await client.waitForScreen("42 on the screen", (lines) => lines.some((l) => /(^|\s)42$/.test(l)));

    client.resize(100, 30);
    client.type("stty size\r");
    await client.waitForScreen("the new size", (lines) => lines.some((l) => /(^|\s)30 100$/.test(l)));

    client.type("exit\r");
    expect((await client.closed).code).toBe(1000);
    const closed = client.frames.find((f) => f.t === "closed");
    expect(closed).toMatchObject({ reason: "the shell exited", failed: false, recording: true });

    const session = await waitFor("recorded", async () => {
      const s = (await api("GET", `/api/v1/remote/sessions/${id}`)).json();
      return s.status === "closed" && s.file ? s : undefined;
    });
    expect(session).toMatchObject({ kind: "shell", ticketId: ticket.id, closeReason: "the shell exited" });
    expect(session.file.attachmentId).toBeTruthy();

    // The attachment on the ticket is the asciicast: a v2 header, then output events that hold the answer.
    const cast = await api("GET", `/api/v1/attachments/${session.file.attachmentId}`);
    expect(cast.statusCode).toBe(200);
    const [header, ...events] = cast.body
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(header).toMatchObject({ version: 2, width: 80, height: 24 });
    const output = events
      .filter((e) => e[1] === "o")
      .map((e) => e[2])
      .join("");
    expect(output).toContain("42");
    expect(events.some((e) => e[1] === "r" && e[2] === "100x30")).toBe(true);
    // Keystrokes are not recorded.
    expect(events.every((e) => e[1] !== "i")).toBe(true);

    const timeline = (await api("GET", `/api/v1/tickets/${ticket.id}/timeline?limit=20`)).json();
    expect(JSON.stringify(timeline)).toContain("Remote shell on");

    const audit = await t.db
      .selectFrom("audit_log")
      .select(["action", "actor_user_id"])
      .where("entity_id", "=", deviceId)
      .where("action", "like", "remote.shell%")
      .execute();
    expect(audit.map((a) => a.action).sort()).toEqual(["remote.shell_end", "remote.shell_start"]);
    expect(new Set(audit.map((a) => a.actor_user_id)).size).toBe(1);
  });

  it("holds a large output back until the terminal has taken it (flow control)", async () => {
    const { client } = await openShell(t, auth, deviceId);
    await waitFor("shell open", async () => client.status === "open", 30_000);
    // A slow terminal: each chunk is acknowledged 20 ms after it was written.
    client.ackDelayMs = 20;
    client.type("head -c 3000000 /dev/zero | tr '\\0' x; echo; echo done-$((1+1))\r");
    await client.waitForScreen(
      "the end of the output",
      (lines) => lines.some((l) => /(^|\s)done-2$/.test(l)),
      60_000,
    );
    expect(client.received).toBeGreaterThan(3_000_000);
    // Never more in flight than the window and one read from the PTY (64 KiB): the rest waited on the device.
    expect(client.maxInFlight).toBeLessThanOrEqual(REMOTE_WINDOW + 64 * 1024);
    client.type("exit\r");
    await client.closed;
  });

  it("ends only the shell whose console sends a malformed frame", async () => {
    const first = await openShell(t, auth, deviceId);
    const second = await openShell(t, auth, deviceId);
    await waitFor("both open", async () => first.client.status === "open" && second.client.status === "open");
    first.client.send("{not json");
    expect((await first.client.closed).code).toBe(4400);
    second.client.type("echo still-$((2*3))\r");
    await second.client.waitForScreen("the other shell works", (l) =>
      l.some((line) => /(^|\s)still-6$/.test(line)),
    );
    expect(agent.connected).toBe(true);
    second.client.type("exit\r");
    await second.client.closed;
    const row = await waitFor("failed row", async () => {
      const s = (await api("GET", `/api/v1/remote/sessions/${first.id}`)).json();
      return s.status === "failed" ? s : undefined;
    });
    expect(row.lastError).toBe("the console sent a malformed frame");
  });

  it("refuses another user's socket for a shell, and a second one for the same shell", async () => {
    const { id, client } = await openShell(t, auth, deviceId);
    const url = `${t.url.replace(/^http/, "ws")}/api/v1/remote/shells/${id}/socket`;
    const other = await makeUser(t, { role: "admin" });
    expect((await new ShellClient(url, other.auth).closed).code).toBe(404);
    await waitFor("open", async () => client.status === "open", 30_000);
    const plain = await fetch(`${t.url}/api/v1/remote/shells/${id}/socket`, { headers: auth });
    expect(plain.status).toBe(426);
    expect((await new ShellClient(url, auth).closed).code).toBe(409);
    client.type("exit\r");
    await client.closed;
  });

  it("follows the client's policy: roles, and consent", async () => {
    const policy = (await api("GET", `/api/v1/clients/${clientId}/remote-policy`)).json();
    expect(policy).toMatchObject({ shellRoles: ["admin", "technician"], requireConsent: false, version: 1 });
    const put = await api("PUT", `/api/v1/clients/${clientId}/remote-policy`, {
      shellRoles: ["technician"],
      fileRoles: ["admin", "technician"],
      requireConsent: false,
      idleTimeoutSeconds: 600,
      version: 1,
    });
    expect(put.statusCode).toBe(200);
    const refused = await api("POST", `/api/v1/devices/${deviceId}/shells`, {});
    expect(refused.statusCode).toBe(403);
    expect(refused.json().error.message).toContain("does not allow the admin role");

    await api("PUT", `/api/v1/clients/${clientId}/remote-policy`, {
      shellRoles: ["admin", "technician"],
      fileRoles: ["admin", "technician"],
      requireConsent: true,
      idleTimeoutSeconds: 600,
      version: 2,
    });
    const noConsent = await api("POST", `/api/v1/devices/${deviceId}/shells`, {});
    expect(noConsent.statusCode).toBe(403);
    expect(noConsent.json().error.message).toContain("consent");
    const reset = await api("PUT", `/api/v1/clients/${clientId}/remote-policy`, {
      shellRoles: ["admin", "technician"],
      fileRoles: ["admin", "technician"],
      requireConsent: false,
      idleTimeoutSeconds: 900,
      version: 3,
    });
    expect(reset.statusCode).toBe(200);
    const audit = await t.db
      .selectFrom("audit_log")
      .select("action")
      .where("entity_id", "=", clientId)
      .where("action", "=", "remote.policy_update")
      .execute();
    expect(audit).toHaveLength(3);
  });

  it("with consent required, opens only what the caller allowed, and only while their session lasts", async () => {
    const policy = (await api("GET", `/api/v1/clients/${clientId}/remote-policy`)).json();
    const set = (requireConsent: boolean, version: number) =>
      api("PUT", `/api/v1/clients/${clientId}/remote-policy`, {
        shellRoles: ["admin", "technician"],
        fileRoles: ["admin", "technician"],
        requireConsent,
        idleTimeoutSeconds: 900,
        version,
      });
    expect((await set(true, policy.version)).statusCode).toBe(200);
    const ticket = await makeTicket(t, auth, clientId);
    const support = (await api("POST", `/api/v1/tickets/${ticket.id}/support-sessions`)).json();
    const joined = await t.app.inject({
      method: "POST",
      url: "/api/v1/join",
      payload: { code: support.code },
    });
    const caller = { "x-support-token": joined.json().token as string };
    const consent = (body: object) =>
      t.app.inject({ method: "POST", url: "/api/v1/join/consent", headers: caller, payload: body });
    expect((await consent({ scope: "session", granted: true })).statusCode).toBe(200);
    // The caller cannot allow what was not asked for.
    expect((await consent({ scope: "shell", deviceId, granted: true })).statusCode).toBe(400);
    const WebSocket = (await import("ws")).default;
    const techSocket = new WebSocket(
      `${t.url.replace(/^http/, "ws")}/api/v1/support-sessions/${support.id}/socket`,
      {
        headers: auth,
      },
    );
    await new Promise((r) => techSocket.once("open", r));
    techSocket.send(JSON.stringify({ t: "consent.request", scope: "shell", deviceId }));
    await waitFor("the request recorded", async () =>
      (await api("GET", `/api/v1/support-sessions/${support.id}`))
        .json()
        .events.some((e: { kind: string }) => e.kind === "consent_request"),
    );
    const without = await api("POST", `/api/v1/devices/${deviceId}/shells`, {});
    expect(without.statusCode).toBe(403);
    expect((await consent({ scope: "shell", deviceId, granted: true })).statusCode).toBe(200);
    const { client } = await openShell(t, auth, deviceId, { supportSessionId: support.id });
    await waitFor("open with consent", async () => client.status === "open", 30_000);
    client.type("echo ok-$((20+22))\r");
    await client.waitForScreen("the shell works", (l) => l.some((line) => /(^|\s)ok-42$/.test(line)));
    // The caller ends the session: the shell it allowed ends with it.
    await t.app.inject({ method: "POST", url: "/api/v1/join/end", headers: caller });
    await client.closed;
    expect(client.frames.find((f) => f.t === "closed")).toMatchObject({
      reason: "the support session ended",
    });
    techSocket.close();
    expect((await set(false, policy.version + 1)).statusCode).toBe(200);
  });
});
