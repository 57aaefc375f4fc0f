import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { chmod, mkdtemp, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { binary, canRun, ensureBuilt, run } from "./agent-build.ts";
import { enrollmentSetup, type GatewayApp, startGatewayApp, waitFor } from "./test-support.ts";

// The single executable that `npm run build:agent` makes, enrolled and run as a real process. CI runs the
// build first; when the executable is missing or older than its sources this test builds linux-x64 itself.

describe.skipIf(!canRun)("the linux-x64 agent executable", () => {
  let t: GatewayApp;
  let proc: ChildProcess | null = null;
  let stateDir: string;
  let initDir: string;
  let auth: { authorization: string };
  let deviceId: string;
  const stderr: string[] = [];

  beforeAll(async () => {
    await ensureBuilt();
    t = await startGatewayApp();
    stateDir = await mkdtemp(path.join(os.tmpdir(), "sb-sea-"));
    initDir = await mkdtemp(path.join(os.tmpdir(), "sb-sea-init-"));
    await writeFile(
      path.join(initDir, "webapp"),
      `#!/bin/sh\n[ "$1" = restart ] && echo "webapp restarted pid $$"\nexit 0\n`,
    );
    await chmod(path.join(initDir, "webapp"), 0o755);
  }, 180_000);
  afterAll(async () => {
    proc?.kill("SIGKILL");
    await t?.close();
  });

  const api = (method: "GET" | "POST", url: string, payload?: object) =>
    t.app.inject({ method, url, headers: auth, payload });

  it("enrolls, reports inventory, runs commands, and goes offline when killed", async () => {
    const setup = await enrollmentSetup(t, { maxUses: 1 });
    auth = setup.admin.auth;
    const enrolled = await run(binary, [
      "enroll",
      "--server",
      t.url,
      "--token",
      setup.token.token,
      "--fingerprint",
      setup.token.serverKeyFingerprint,
      "--state-dir",
      stateDir,
    ]);
    expect(enrolled.code, enrolled.stderr).toBe(0);
    deviceId = enrolled.stdout.match(/enrolled as device (\S+)/)?.[1] ?? "";
    expect(deviceId).toMatch(/^[0-9a-f-]{36}$/);

    const again = await run(binary, [
      "enroll",
      "--server",
      t.url,
      "--token",
      setup.token.token,
      "--state-dir",
      stateDir,
    ]);
    expect(again).toMatchObject({
      code: 1,
      stderr: "Enrollment refused (403): The enrollment token has been used 1 of 1 times\n",
    });

    proc = spawn(binary, ["run", "--state-dir", stateDir], {
      env: {
        ...process.env,
        SWITCHBOARD_AGENT_BACKOFF_BASE_MS: "200",
        SWITCHBOARD_AGENT_RECONNECT_SPREAD_MS: "200",
        SWITCHBOARD_AGENT_INIT_DIR: initDir,
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    proc.stderr?.on("data", (d: Buffer) => stderr.push(d.toString()));

    const device = await waitFor(
      "inventory from the executable",
      async () => {
        const d = (await api("GET", `/api/v1/devices/${deviceId}`)).json();
        return d.status === "online" && d.inventory ? d : undefined;
      },
      90_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; the agent said:\n${stderr.join("")}`);
    });
    expect(device.inventory.os.platform).toBe("linux");
    expect(device.inventory.software.length).toBeGreaterThan(0);

    const script = await api("POST", `/api/v1/devices/${deviceId}/commands`, {
      command: { kind: "script.run", interpreter: "bash", script: "echo from-sea; echo warn >&2; exit 7" },
    });
    const restart = await api("POST", `/api/v1/devices/${deviceId}/commands`, {
      command: { kind: "service.restart", name: "webapp" },
    });
    const result = (id: string) =>
      waitFor(`command ${id}`, async () => {
        const c = (await api("GET", `/api/v1/device-commands/${id}`)).json();
        return ["succeeded", "failed", "timed_out"].includes(c.status) ? c : undefined;
      });
    expect(await result(script.json().id)).toMatchObject({
      status: "failed",
      exitCode: 7,
      stdout: "from-sea\n",
      stderr: "warn\n",
    });
    expect(await result(restart.json().id)).toMatchObject({
      status: "succeeded",
      stdout: expect.stringMatching(/^webapp restarted pid \d+\n$/),
    });

    proc.kill("SIGKILL");
    await waitFor(
      "offline after kill",
      async () => (await api("GET", `/api/v1/devices/${deviceId}`)).json().status === "offline",
      5000,
    );
  }, 180_000);

  it("exits with code 3 once the device is retired", async () => {
    proc = spawn(binary, ["run", "--state-dir", stateDir], {
      env: {
        ...process.env,
        SWITCHBOARD_AGENT_BACKOFF_BASE_MS: "200",
        SWITCHBOARD_AGENT_RECONNECT_SPREAD_MS: "200",
      },
      stdio: "ignore",
    });
    const exited = new Promise<number | null>((resolve) => proc?.once("exit", (code) => resolve(code)));
    await waitFor(
      "online again",
      async () => (await api("GET", `/api/v1/devices/${deviceId}`)).json().status === "online",
      30_000,
    );
    expect((await api("POST", `/api/v1/devices/${deviceId}/retire`)).statusCode).toBe(200);
    expect(await exited).toBe(3);
    proc = null;
  });
});

function hasOpenssl() {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(!canRun || !hasOpenssl())("the agent executable over TLS", () => {
  let t: GatewayApp;
  let dir: string;

  beforeAll(async () => {
    await ensureBuilt();
    dir = await mkdtemp(path.join(os.tmpdir(), "sb-tls-"));
    // A self-signed certificate for 127.0.0.1 that the agent trusts through NODE_EXTRA_CA_CERTS.
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
        "-keyout",
        path.join(dir, "key.pem"),
        "-out",
        path.join(dir, "cert.pem"),
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
      ],
      { stdio: "ignore" },
    );
    t = await startGatewayApp({
      AGENT_TLS_CERT_FILE: path.join(dir, "cert.pem"),
      AGENT_TLS_KEY_FILE: path.join(dir, "key.pem"),
      AGENT_TLS_PORT: "0",
    });
  }, 180_000);
  afterAll(() => t?.close());

  it("enrolls over https and connects over wss", async () => {
    const setup = await enrollmentSetup(t);
    const stateDir = path.join(dir, "state");
    const env = {
      NODE_EXTRA_CA_CERTS: path.join(dir, "cert.pem"),
      SWITCHBOARD_AGENT_BACKOFF_BASE_MS: "200",
      SWITCHBOARD_AGENT_RECONNECT_SPREAD_MS: "200",
    };
    const enrolled = await run(
      binary,
      ["enroll", "--server", t.tlsUrl!, "--token", setup.token.token, "--state-dir", stateDir],
      env,
    );
    expect(enrolled.code, enrolled.stderr).toBe(0);
    const deviceId = enrolled.stdout.match(/enrolled as device (\S+)/)?.[1] ?? "";
    const proc = spawn(binary, ["run", "--state-dir", stateDir], {
      env: { ...process.env, ...env },
      stdio: "ignore",
    });
    try {
      const device = await waitFor(
        "online over TLS",
        async () => {
          const d = (
            await t.app.inject({
              method: "GET",
              url: `/api/v1/devices/${deviceId}`,
              headers: setup.admin.auth,
            })
          ).json();
          return d.status === "online" ? d : undefined;
        },
        30_000,
      );
      expect(device.lastAddress).toBe("127.0.0.1");
    } finally {
      proc.kill("SIGKILL");
    }
  }, 120_000);
});
