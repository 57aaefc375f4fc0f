// Shared by the remote access tests (not collected as a test itself): an agent enrolled and connected, a
// ticket, and a console's shell socket that feeds a headless xterm the way the browser's terminal does.
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { ShellServerFrame } from "@switchboard/shared";
import xtermHeadless from "@xterm/headless";
import WebSocket from "ws";
import { AgentClient } from "../../../../agent/src/client.ts";
import { enroll } from "../../../../agent/src/enroll.ts";
import { enrollmentSetup, type GatewayApp, waitFor } from "../../gateway/test-support.ts";

const { Terminal } = xtermHeadless;

/**
 * Presence is not under test here: a heartbeat of 10 s (the gateway tests use 1 s) keeps a loaded
 * machine from dropping the agent between a shell's open and its answer.
 */
export const CALM = { AGENT_HEARTBEAT_SECONDS: "10" };

export async function connectedAgent(t: GatewayApp, enrollVia: GatewayApp = t) {
  const setup = await enrollmentSetup(enrollVia);
  const stateDir = await mkdtemp(path.join(os.tmpdir(), "sb-remote-"));
  const state = await enroll({ server: enrollVia.url, token: setup.token.token, stateDir });
  const agent = new AgentClient({
    state: { ...state, serverUrl: t.url },
    stateDir,
    backoff: { baseMs: 100, maxMs: 500, spreadMs: 200 },
    collect: async () => {
      throw new Error("inventory is not under test here");
    },
  });
  agent.start();
  await waitFor("agent connected", async () => agent.connected && t.app.agents.hub.isLocal(state.deviceId));
  return { ...setup, agent, deviceId: state.deviceId, stateDir };
}

export async function makeTicket(t: GatewayApp, auth: Record<string, string>, clientId: string) {
  const res = await t.app.inject({
    method: "POST",
    url: "/api/v1/tickets",
    headers: auth,
    payload: { clientId, subject: "Reservation software not running" },
  });
  if (res.statusCode !== 201) throw new Error(`ticket: ${res.statusCode} ${res.body}`);
  return res.json() as { id: string; number: number };
}

/** The browser's side of a shell: a terminal that acknowledges output once it has been written. */
export class ShellClient {
  readonly ws: WebSocket;
  readonly term: InstanceType<typeof Terminal>;
  readonly frames: ShellServerFrame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  status = "connecting";
  ackDelayMs = 0;
  /** Output received and not yet acknowledged, at its highest: what flow control bounds. */
  maxInFlight = 0;
  received = 0;
  private acked = 0;

  constructor(url: string, headers: Record<string, string>, size = { cols: 80, rows: 24 }) {
    this.term = new Terminal({ ...size, allowProposedApi: true });
    this.ws = new WebSocket(url, { headers });
    this.closed = new Promise((resolve) => {
      this.ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() }));
      this.ws.on("unexpected-response", (_req, res) =>
        resolve({ code: res.statusCode ?? 0, reason: "http" }),
      );
      this.ws.on("error", () => {});
    });
    this.ws.on("message", (data) => {
      const f = JSON.parse(data.toString()) as ShellServerFrame;
      if (f.t === "out") {
        this.received += f.d.length;
        this.maxInFlight = Math.max(this.maxInFlight, this.received - this.acked);
        this.term.write(f.d, () => {
          const ack = () => {
            this.acked += f.d.length;
            this.send({ t: "ack", n: f.d.length });
          };
          if (this.ackDelayMs) setTimeout(ack, this.ackDelayMs);
          else ack();
        });
        return;
      }
      this.frames.push(f);
      if (f.t === "state") this.status = f.status;
      if (f.t === "closed") this.status = "closed";
    });
  }

  send(frame: unknown) {
    if (this.ws.readyState === WebSocket.OPEN)
      this.ws.send(typeof frame === "string" ? frame : JSON.stringify(frame));
  }

  type(text: string) {
    this.send({ t: "in", d: text });
  }

  resize(cols: number, rows: number) {
    this.term.resize(cols, rows);
    this.send({ t: "resize", cols, rows });
  }

  /** The visible screen, one string per row, trailing spaces trimmed. */
  screen(): string[] {
    const b = this.term.buffer.active;
    const lines: string[] = [];
    for (let i = 0; i < this.term.rows; i++)
      lines.push(b.getLine(b.viewportY + i)?.translateToString(true) ?? "");
    return lines;
  }

  async waitForScreen(what: string, test: (lines: string[]) => boolean, ms = 30_000) {
    return waitFor(what, async () => test(this.screen()), ms).catch((err: Error) => {
      throw new Error(`${err.message}; the screen:\n${this.screen().join("\n")}`);
    });
  }
}

export async function openShell(
  t: GatewayApp,
  auth: Record<string, string>,
  deviceId: string,
  body: Record<string, unknown> = {},
  via: GatewayApp = t,
) {
  const res = await t.app.inject({
    method: "POST",
    url: `/api/v1/devices/${deviceId}/shells`,
    headers: auth,
    payload: { cols: 80, rows: 24, ...body },
  });
  if (res.statusCode !== 201) throw new Error(`shell: ${res.statusCode} ${res.body}`);
  const id = res.json().id as string;
  const client = new ShellClient(`${via.url.replace(/^http/, "ws")}/api/v1/remote/shells/${id}/socket`, auth);
  return { id, client };
}
