import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { sql } from "kysely";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { binary, canRun, ensureBuilt, run } from "../../gateway/agent-build.ts";
import { enrollmentSetup, type GatewayApp, startGatewayApp, waitFor } from "../../gateway/test-support.ts";
import { judgeFinishedRuns, scheduleDueRuns } from "./task-scheduler.ts";

// The real linux-x64 agent executable runs a scheduled task: the scheduler signs a script.run for the due
// time and hands it to the gateway holding the agent; the script exits 3, the run fails and opens an
// alert with its ticket; the script fixed, the next due time's run succeeds and resolves both.

describe.skipIf(!canRun)("scheduled tasks run by the agent executable", () => {
  let t: GatewayApp;
  let agent: ChildProcess | null = null;
  const stderr: string[] = [];

  beforeAll(async () => {
    await ensureBuilt();
    // Heartbeats every 5 s, not the harness's 1 s: on a busy 2-core machine a 1 s miss dropped the agent
    // between the run's creation and its delivery.
    t = await startGatewayApp({ AGENT_HEARTBEAT_SECONDS: "5" });
  }, 180_000);
  afterAll(async () => {
    agent?.kill("SIGKILL");
    await t?.close();
  });

  it("fails, alerts, then succeeds and resolves", async () => {
    const setup = await enrollmentSetup(t, { maxUses: 1 });
    const api = (method: "GET" | "POST" | "PUT", url: string, payload?: object) =>
      t.app.inject({ method, url, headers: setup.admin.auth, payload });
    const stateDir = await mkdtemp(path.join(os.tmpdir(), "sb-task-agent-"));
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
      env: { ...process.env, SWITCHBOARD_AGENT_BACKOFF_BASE_MS: "200" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    agent.stderr?.on("data", (d: Buffer) => stderr.push(d.toString()));
    const said = (err: Error) => {
      throw new Error(`${err.message}; the agent said:\n${stderr.join("")}`);
    };
    await waitFor(
      "the agent online",
      async () =>
        (await t.db.selectFrom("devices").select("online").where("id", "=", deviceId).executeTakeFirst())
          ?.online,
      30_000,
    ).catch(said);

    const policy = (
      await api("POST", "/api/v1/monitoring/policies", { name: "Backups", clientId: setup.client.id })
    ).json();
    const created = await api("POST", `/api/v1/monitoring/policies/${policy.id}/tasks`, {
      name: "Nightly backup",
      interpreter: "sh",
      script: "echo 'backup target unreachable' >&2; exit 3",
      cron: "* * * * *",
      severity: "critical",
    });
    expect(created.statusCode, created.body).toBe(201);
    const task = created.json();
    // Enrolled and saved a moment ago: both count as before the current minute's due time.
    await sql`update monitoring_tasks set schedule_from = now() - interval '2 minutes' where id = ${task.id}`.execute(
      t.db,
    );
    await sql`update devices set enrolled_at = now() - interval '2 minutes' where id = ${deviceId}`.execute(
      t.db,
    );
    const deps = { db: t.db, hub: t.app.agents.hub, serverKey: t.app.agents.serverKey };
    const settings = { reopenSeconds: 900, groupSeconds: 0 };
    const runs = async () => (await api("GET", `/api/v1/devices/${deviceId}/task-runs`)).json().items;

    expect(await scheduleDueRuns(deps)).toMatchObject({ created: 1, delivered: 1 });
    const failed = await waitFor(
      "the failing run judged",
      async () => {
        await judgeFinishedRuns(t.db, settings);
        const [r] = await runs();
        return r?.status === "failed" ? r : undefined;
      },
      // Two cores running the whole suite beside the agent: minutes of margin, not seconds.
      90_000,
    ).catch(said);
    expect(failed).toMatchObject({ taskName: "Nightly backup", exitCode: 3 });
    expect(failed.output).toContain("backup target unreachable");
    const alerts = async () =>
      (await api("GET", `/api/v1/alerts?deviceId=${deviceId}&state=all`)).json().items as Array<{
        id: string;
        kind: string;
        state: string;
        ticket: { id: string; priority: number } | null;
      }>;
    const [alert] = await alerts();
    expect(alert).toMatchObject({ kind: "task", state: "firing", ticket: { priority: 1 } });

    const fixed = await api("PUT", `/api/v1/monitoring/tasks/${task.id}`, {
      version: task.version,
      name: "Nightly backup",
      interpreter: "sh",
      script: "echo backed up",
      cron: "* * * * *",
      severity: "critical",
    });
    expect(fixed.statusCode, fixed.body).toBe(200);
    await sql`update monitoring_tasks set schedule_from = now() - interval '2 minutes' where id = ${task.id}`.execute(
      t.db,
    );
    // The next minute's due time.
    expect(await scheduleDueRuns(deps, new Date(Date.now() + 60_000))).toMatchObject({ delivered: 1 });
    await waitFor(
      "the alert resolved",
      async () => {
        await judgeFinishedRuns(t.db, settings);
        const [a] = await alerts();
        return a?.state === "resolved" ? a : undefined;
      },
      90_000,
    ).catch(said);
    const [latest] = await runs();
    expect(latest).toMatchObject({ status: "succeeded", exitCode: 0 });
    expect(latest.output).toContain("backed up");
    const ticket = (await api("GET", `/api/v1/tickets/${alert!.ticket!.id}`)).json();
    expect(ticket.status.category).toBe("resolved");
  }, 240_000);
});
