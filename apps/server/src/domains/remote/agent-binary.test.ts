import { type ChildProcess, spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { binary, canRun, ensureBuilt, run } from "../../gateway/agent-build.ts";
import {
  enrollmentSetup,
  type GatewayApp,
  natsReachable,
  startGatewayApp,
  waitFor,
} from "../../gateway/test-support.ts";
import { CALM, makeTicket, openShell } from "./test-support.ts";

const NATS_URL = process.env.NATS_URL ?? "nats://127.0.0.1:4222";
const hasNats = await natsReachable(NATS_URL);
if (!hasNats) console.warn(`NATS not reachable at ${NATS_URL}: the shell test runs on one gateway process`);
const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

// The linux-x64 executable gives a real PTY with the machine's login shell. The agent is connected to
// gateway A; the console talks to process B, so (with NATS) every keystroke and every byte of output
// crosses between two processes.
describe.skipIf(!canRun)("remote access with the agent executable", () => {
  let a: GatewayApp;
  let b: GatewayApp;
  let proc: ChildProcess | null = null;
  let deviceId: string;
  let auth: Record<string, string>;
  let clientId: string;
  const stderr: string[] = [];

  beforeAll(async () => {
    await ensureBuilt();
    a = await startGatewayApp(hasNats ? { ...CALM, NATS_URL } : CALM);
    b = hasNats ? await startGatewayApp({ ...CALM, NATS_URL }) : a;
    const setup = await enrollmentSetup(a);
    auth = setup.admin.auth;
    clientId = setup.client.id;
    const stateDir = await mkdtemp(path.join(os.tmpdir(), "sb-remote-sea-"));
    const enrolled = await run(binary, [
      "enroll",
      "--server",
      a.url,
      "--token",
      setup.token.token,
      "--state-dir",
      stateDir,
    ]);
    if (enrolled.code !== 0) throw new Error(enrolled.stderr);
    deviceId = enrolled.stdout.match(/enrolled as device (\S+)/)?.[1] ?? "";
    proc = spawn(binary, ["run", "--state-dir", stateDir], {
      env: {
        ...process.env,
        SWITCHBOARD_AGENT_BACKOFF_BASE_MS: "200",
        SWITCHBOARD_AGENT_RECONNECT_SPREAD_MS: "200",
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    proc.stderr?.on("data", (d: Buffer) => stderr.push(d.toString()));
    await waitFor("the executable connected to A", async () => a.app.agents.hub.isLocal(deviceId), 60_000);
  }, 180_000);
  afterAll(async () => {
    proc?.kill("SIGKILL");
    await a?.close();
    if (b !== a) await b?.close();
  });

  it("types echo $((6*7)) and reads 42, resizes, and leaves the recording on the ticket", async () => {
    expect(b.app.agents.hub.isLocal(deviceId)).toBe(!hasNats);
    const ticket = await makeTicket(b, auth, clientId);
    const { id, client } = await openShell(b, auth, deviceId, { ticketId: ticket.id });
    await waitFor("shell open", async () => client.status === "open", 20_000).catch((err: Error) => {
      throw new Error(`${err.message}: ${JSON.stringify(client.frames)}\n${stderr.join("")}`);
    });
    client.type("echo $((6*7))\r");
    await client.waitForScreen("42", (lines) => lines.some((l) => /(^|\s)42$/.test(l)), 30_000);
    client.resize(120, 40);
    client.type("stty size\r");
    await client.waitForScreen("40 120", (lines) => lines.some((l) => /(^|\s)40 120$/.test(l)), 15_000);
    client.send({ t: "close" });
    await client.closed;
    const session = await waitFor("the recording", async () => {
      const s = (
        await b.app.inject({ method: "GET", url: `/api/v1/remote/sessions/${id}`, headers: auth })
      ).json();
      return s.file ? s : undefined;
    });
    expect(session).toMatchObject({
      status: "closed",
      closeReason: "closed by the technician",
      ticketId: ticket.id,
    });
    // The recording is a blob of the process that held the console (each test app has its own data dir).
    const cast = await b.app.inject({
      method: "GET",
      url: `/api/v1/attachments/${session.file.attachmentId}`,
      headers: auth,
    });
    const events = cast.body
      .trim()
      .split("\n")
      .slice(1)
      .map((l) => JSON.parse(l) as [number, string, string]);
    expect(
      events
        .filter((e) => e[1] === "o")
        .map((e) => e[2])
        .join(""),
    ).toMatch(/42/);
    expect(events).toContainEqual([expect.any(Number), "r", "120x40"]);
  }, 90_000);

  it("uploads and downloads a file with the same SHA-256", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "sb-remote-sea-files-"));
    const target = path.join(dir, "payload.bin");
    const data = randomBytes(700_000);
    const boundary = "----sbtest";
    const body = Buffer.concat([
      Buffer.from(
        `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="payload.bin"\r\n\r\n`,
      ),
      data,
      Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const up = await b.app.inject({
      method: "POST",
      url: `/api/v1/devices/${deviceId}/files?path=${encodeURIComponent(target)}`,
      headers: { ...auth, "content-type": `multipart/form-data; boundary=${boundary}` },
      payload: body,
    });
    expect(up.json()).toMatchObject({ status: "closed", file: { sha256: sha(data) } });
    expect(sha(await readFile(target))).toBe(sha(data));
    const down = await b.app.inject({
      method: "POST",
      url: `/api/v1/devices/${deviceId}/file-downloads`,
      headers: auth,
      payload: { path: target },
    });
    expect(down.json()).toMatchObject({
      status: "closed",
      file: { sha256: sha(data), sizeBytes: data.length },
    });
    const file = await b.app.inject({
      method: "GET",
      url: `/api/v1/remote/sessions/${down.json().id}/file`,
      headers: auth,
    });
    expect(sha(file.rawPayload)).toBe(sha(data));
  }, 60_000);
});
