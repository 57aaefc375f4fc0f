import { type ChildProcess, spawn } from "node:child_process";
import { chmod, mkdtemp, readFile, symlink, writeFile } from "node:fs/promises";
import net, { type AddressInfo } from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { rand } from "../../../test/helpers.ts";
import { binary, canRun, ensureBuilt, run } from "../../gateway/agent-build.ts";
import { enrollmentSetup, type GatewayApp, startGatewayApp, waitFor } from "../../gateway/test-support.ts";

// The real linux-x64 agent executable runs the checks the server assigned: a process check and a TCP check
// on a daemon the test starts. The test kills the daemon; the alert fires after two failures, a P1 ticket
// carries the check's output, the check's remediation restarts the daemon through the agent (an init script
// here), the checks pass again, and the alert and its ticket resolve, the timeline recording each step.

describe.skipIf(!canRun)("checks run by the agent executable", () => {
  let t: GatewayApp;
  let agent: ChildProcess | null = null;
  let dir: string;
  let port: number;
  let daemonName: string;
  const stderr: string[] = [];

  async function freePort() {
    const s = net.createServer();
    await new Promise<void>((r) => s.listen(0, "127.0.0.1", () => r()));
    const p = (s.address() as AddressInfo).port;
    await new Promise<void>((r) => s.close(() => r()));
    return p;
  }

  beforeAll(async () => {
    await ensureBuilt();
    t = await startGatewayApp({ MONITORING_SUMMARY_SECONDS: "10" });
    dir = await mkdtemp(path.join(os.tmpdir(), "sb-mon-"));
    port = await freePort();
    // The daemon: node under its own name (what a process check sees), listening on the port.
    daemonName = rand("sbw").slice(0, 11);
    await symlink(process.execPath, path.join(dir, daemonName));
    const pidFile = path.join(dir, "webapp.pid");
    const listen = `require('net').createServer((s)=>s.end()).listen(${port},'127.0.0.1')`;
    // The init script the agent's service manager drives; setsid keeps the daemon out of the process
    // group the agent cleans up after a command.
    await mkdtemp(path.join(dir, "init-")).then(async (initDir) => {
      await writeFile(
        path.join(initDir, "webapp"),
        `#!/bin/sh
case "$1" in
  status) [ -f ${pidFile} ] && kill -0 "$(cat ${pidFile})" 2>/dev/null ;;
  restart|start)
    [ -f ${pidFile} ] && kill "$(cat ${pidFile})" 2>/dev/null
    setsid ${path.join(dir, daemonName)} -e "${listen}" </dev/null >/dev/null 2>&1 &
    pid=$!
    echo $pid > ${pidFile}
    # The agent ends the command's process group when this script exits: wait (10 s at most) until the
    # daemon leads its own session, as a real init script returns only once its daemon is detached.
    i=0
    while [ $i -lt 100 ] && [ "$(ps -o sid= -p $pid | tr -d ' ')" != "$pid" ]; do sleep 0.1; i=$((i+1)); done
    echo "webapp restarted" ;;
esac
`,
      );
      await chmod(path.join(initDir, "webapp"), 0o755);
      process.env.SB_TEST_INIT_DIR = initDir;
    });
  }, 180_000);

  afterAll(async () => {
    agent?.kill("SIGKILL");
    try {
      process.kill(Number(await readFile(path.join(dir, "webapp.pid"), "utf8")), "SIGKILL");
    } catch {
      // already gone
    }
    await t?.close();
  });

  it("fires on the killed daemon, opens a P1 ticket, restarts it, and resolves", async () => {
    const setup = await enrollmentSetup(t, { maxUses: 1 });
    const auth = setup.admin.auth;
    const api = (method: "GET" | "POST", url: string, payload?: object) =>
      t.app.inject({ method, url, headers: auth, payload });
    const initDir = process.env.SB_TEST_INIT_DIR!;

    // The daemon runs before the agent starts watching it.
    const started = await run(path.join(initDir, "webapp"), ["start"]);
    expect(started.code).toBe(0);
    await waitFor("the daemon listening", async () => (await probe(port)) || undefined, 10_000);

    const policy = await api("POST", "/api/v1/monitoring/policies", {
      name: "Reservation server",
      clientId: setup.client.id,
      checks: [
        {
          name: "Reservation service port",
          config: { kind: "tcp", host: "127.0.0.1", port, timeoutMs: 1000 },
          intervalSeconds: 5,
          severity: "critical",
          failAfter: 2,
          remediation: { kind: "service.restart", name: "webapp" },
        },
        {
          name: "Reservation process",
          config: { kind: "process", process: daemonName },
          intervalSeconds: 5,
          severity: "medium",
          failAfter: 2,
        },
      ],
    });
    expect(policy.statusCode, policy.body).toBe(201);

    const stateDir = await mkdtemp(path.join(os.tmpdir(), "sb-mon-agent-"));
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
    const deviceId = enrolled.stdout.match(/enrolled as device (\S+)/)?.[1] ?? "";
    agent = spawn(binary, ["run", "--state-dir", stateDir], {
      env: {
        ...process.env,
        SWITCHBOARD_AGENT_BACKOFF_BASE_MS: "200",
        SWITCHBOARD_AGENT_RECONNECT_SPREAD_MS: "200",
        SWITCHBOARD_AGENT_INIT_DIR: initDir,
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    agent.stderr?.on("data", (d: Buffer) => stderr.push(d.toString()));
    const said = (err: Error) => {
      throw new Error(`${err.message}; the agent said:\n${stderr.join("")}`);
    };

    // Both checks report ok on the device's Monitoring tab.
    const monitoring = async () => (await api("GET", `/api/v1/devices/${deviceId}/monitoring`)).json();
    await waitFor(
      "both checks passing",
      async () => {
        const m = await monitoring();
        return m.checks?.length === 2 && m.checks.every((c: { state: string }) => c.state === "ok")
          ? m
          : undefined;
      },
      60_000,
    ).catch(said);

    // The daemon dies.
    process.kill(Number(await readFile(path.join(dir, "webapp.pid"), "utf8")), "SIGKILL");

    const fired = await waitFor(
      "the port alert firing with its ticket",
      async () => {
        const { items } = (await api("GET", `/api/v1/alerts?deviceId=${deviceId}&state=all`)).json();
        const a = items.find((x: { kind: string }) => x.kind === "tcp");
        return a?.ticket ? a : undefined;
      },
      60_000,
    ).catch(said);
    expect(fired).toMatchObject({ severity: "critical", ticket: { priority: 1 } });
    expect(fired.failCount).toBeGreaterThanOrEqual(2);
    expect(fired.output).toMatch(new RegExp(`127\\.0\\.0\\.1:${port}: connect ECONNREFUSED`));
    const ticket = (await api("GET", `/api/v1/tickets/${fired.ticket.id}`)).json();
    expect(ticket).toMatchObject({ type: "alert", source: "monitoring", priority: 1 });
    expect(ticket.description).toContain("ECONNREFUSED");

    // The remediation restarted it; the checks pass; the alert and its ticket resolve.
    const resolved = await waitFor(
      "the alert resolved",
      async () => {
        const a = (await api("GET", `/api/v1/alerts/${fired.id}`)).json();
        return a.state === "resolved" ? a : undefined;
      },
      // Restart, a fresh node daemon, then two passing runs 5 s apart: slow when CI runs every test file
      // beside this one on two cores.
      120_000,
    ).catch(said);
    expect(resolved.remediation).toMatchObject({ status: "succeeded", exitCode: 0 });
    expect(await probe(port)).toBe(true);
    const after = (await api("GET", `/api/v1/tickets/${fired.ticket.id}`)).json();
    expect(after.status.category).toBe("resolved");
    const timeline = (await api("GET", `/api/v1/tickets/${fired.ticket.id}/timeline`)).json();
    const text = JSON.stringify(timeline);
    expect(text).toContain("Trying the check's remediation once: restart service webapp.");
    expect(text).toContain("device_command_finished");
    expect(text).toContain("is passing again");

    // Linked both ways: the ticket lists its alert.
    const onTicket = (await api("GET", `/api/v1/tickets/${fired.ticket.id}/alerts`)).json();
    expect(onTicket.items.map((a: { id: string }) => a.id)).toEqual([fired.id]);
    // The process check recovered too (its medium alert, if it fired, resolved).
    await waitFor(
      "no open alerts on the device",
      async () =>
        (await api("GET", `/api/v1/alerts?deviceId=${deviceId}`)).json().items.length === 0 || undefined,
      30_000,
    );
  }, 360_000);
});

function probe(port: number) {
  return new Promise<boolean>((resolve) => {
    const s = net.connect({ host: "127.0.0.1", port });
    s.setTimeout(1000, () => {
      s.destroy();
      resolve(false);
    });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}
