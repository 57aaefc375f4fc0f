import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AgentClient } from "../../../agent/src/client.ts";
import { enroll } from "../../../agent/src/enroll.ts";
import type { AgentState } from "../../../agent/src/state.ts";
import { enrollmentSetup, type GatewayApp, natsReachable, startGatewayApp, waitFor } from "./test-support.ts";

const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";

// CI runs a NATS service on 4222; a machine without one skips this file rather than failing it.
const hasNats = await natsReachable(NATS_URL);
if (!hasNats) console.warn(`NATS not reachable at ${NATS_URL}: skipping the two-gateway routing test`);

describe.skipIf(!hasNats)("two gateway processes routed over NATS", () => {
  let a: GatewayApp;
  let b: GatewayApp;
  let agent: AgentClient;
  let state: AgentState;
  let auth: { authorization: string };

  beforeAll(async () => {
    a = await startGatewayApp({ NATS_URL });
    b = await startGatewayApp({ NATS_URL });
    const setup = await enrollmentSetup(a);
    auth = setup.admin.auth;
    const stateDir = await mkdtemp(path.join(os.tmpdir(), "sb-agent-nats-"));
    // Enrolled through B, connected to A: only NATS links the API call on B to the socket on A.
    state = await enroll({ server: b.url, token: setup.token.token, stateDir });
    state = { ...state, serverUrl: a.url };
    agent = new AgentClient({
      state,
      stateDir,
      backoff: { baseMs: 100, maxMs: 500, spreadMs: 200 },
      collect: async () => {
        throw new Error("inventory is not under test here");
      },
    });
    agent.start();
    await waitFor("agent on A", async () => agent.connected && a.app.agents.hub.isLocal(state.deviceId));
  });
  afterAll(async () => {
    await agent?.stop();
    await a?.close();
    await b?.close();
  });

  it("delivers a command launched on B to the agent connected to A", async () => {
    expect(b.app.agents.hub.isLocal(state.deviceId)).toBe(false);
    const res = await b.app.inject({
      method: "POST",
      url: `/api/v1/devices/${state.deviceId}/commands`,
      headers: auth,
      payload: { command: { kind: "script.run", interpreter: "sh", script: "echo via nats" } },
    });
    expect(res.statusCode).toBe(202);
    // Delivered at once (not queued): the agent may already be running it.
    expect(["sent", "running", "succeeded"]).toContain(res.json().status);
    const done = await waitFor("result", async () => {
      const c = (
        await b.app.inject({ method: "GET", url: `/api/v1/device-commands/${res.json().id}`, headers: auth })
      ).json();
      return c.status === "succeeded" ? c : undefined;
    });
    expect(done).toMatchObject({ stdout: "via nats\n", exitCode: 0 });
  });

  it("a second connection on B closes the first one on A; the device stays online", async () => {
    const first = agent;
    const kicked = new Promise<number>((resolve) =>
      first.once("disconnected", (code: number) => {
        // Stop before it reconnects to A and takes the device back.
        void first.stop();
        resolve(code);
      }),
    );
    agent = new AgentClient({
      state: { ...state, serverUrl: b.url },
      stateDir: await mkdtemp(path.join(os.tmpdir(), "sb-agent-nats-")),
      backoff: { baseMs: 100, maxMs: 500, spreadMs: 200 },
      collect: async () => {
        throw new Error("inventory is not under test here");
      },
    });
    agent.start();
    expect(await kicked).toBe(4409);
    await waitFor(
      "agent on B only",
      async () => b.app.agents.hub.isLocal(state.deviceId) && !a.app.agents.hub.isLocal(state.deviceId),
    );
    const device = await a.app.inject({
      method: "GET",
      url: `/api/v1/devices/${state.deviceId}`,
      headers: auth,
    });
    expect(device.json().status).toBe("online");
    const res = await a.app.inject({
      method: "POST",
      url: `/api/v1/devices/${state.deviceId}/commands`,
      headers: auth,
      payload: { command: { kind: "script.run", interpreter: "sh", script: "echo back via nats" } },
    });
    const done = await waitFor("result", async () => {
      const c = (
        await a.app.inject({ method: "GET", url: `/api/v1/device-commands/${res.json().id}`, headers: auth })
      ).json();
      return c.status === "succeeded" ? c : undefined;
    });
    expect(done.stdout).toBe("back via nats\n");
  });

  it("retiring on A closes the agent's connection on B", async () => {
    const retired = new Promise<void>((resolve) => agent.once("retired", () => resolve()));
    const res = await a.app.inject({
      method: "POST",
      url: `/api/v1/devices/${state.deviceId}/retire`,
      headers: auth,
    });
    expect(res.statusCode).toBe(200);
    await retired;
    expect(b.app.agents.hub.isLocal(state.deviceId)).toBe(false);
  });
});
