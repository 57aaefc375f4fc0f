import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { binary, canRun, ensureBuilt, run } from "../../gateway/agent-build.ts";
import { enrollmentSetup, type GatewayApp, startGatewayApp, waitFor } from "../../gateway/test-support.ts";
import { type FakeApt, fakeApt } from "./fake-apt.ts";

// The real linux-x64 agent executable installs approved updates. The package manager is a stand-in:
// `apt-get` and `dpkg-query` scripts put first on the agent's PATH, keeping "installed" and "available"
// versions in files and recording every argv they get. Nothing on this machine is installed or upgraded.
// The agent scans (three security updates missing), a technician approves them, the agent installs one
// package at a time: two install, one fails with apt's error; the run is partial with a result per update,
// the agent rescans so the missing list shrinks, and a retry of the failed one (now fixed) completes it.

describe.skipIf(!canRun)("update installs by the agent executable", () => {
  let t: GatewayApp;
  let agent: ChildProcess | null = null;
  let apt: FakeApt | undefined;
  const stderr: string[] = [];

  beforeAll(async () => {
    await ensureBuilt();
    t = await startGatewayApp({ MONITORING_SUMMARY_SECONDS: "10" });
    apt = await fakeApt(
      {
        openssl: ["3.0.11-1~deb12u2", "3.0.15-1~deb12u1"],
        "libstdc++6": ["12.2.0-14", "12.2.0-14+deb12u1"],
        curl: ["7.88.1-10+deb12u5", "7.88.1-10+deb12u8"],
      },
      ["curl"],
    );
  }, 180_000);

  afterAll(async () => {
    agent?.kill("SIGKILL");
    await t?.close();
    await apt?.close();
  });

  it("installs one by one, reports each result and the failure's reason, rescans, and retries", async () => {
    const setup = await enrollmentSetup(t, { maxUses: 1 });
    const api = (method: "GET" | "POST", url: string, payload?: object) =>
      t.app.inject({ method, url, headers: setup.admin.auth, payload });
    const stateDir = await mkdtemp(path.join(os.tmpdir(), "sb-apt-agent-"));
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
        PATH: `${apt!.binDir}:${process.env.PATH}`,
        SWITCHBOARD_AGENT_BACKOFF_BASE_MS: "200",
        SWITCHBOARD_AGENT_PATCH_FIRST_SECONDS: "1",
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    agent.stderr?.on("data", (d: Buffer) => stderr.push(d.toString()));
    const said = (err: Error) => {
      throw new Error(`${err.message}; the agent said:\n${stderr.join("")}`);
    };
    type Status = { missing: number; updates: Array<{ name: string }>; lastInstallAt: string | null };
    const status = async () =>
      (await api("GET", `/api/v1/devices/${deviceId}/patch-status`)).json().status as Status | null;

    const first = await waitFor(
      "the first scan",
      async () => ((await status())?.missing === 3 ? status() : undefined),
      60_000,
    ).catch(said);
    expect(first!.updates.map((u) => u.name).sort()).toEqual(["curl", "libstdc++6", "openssl"]);

    const created = await api("POST", `/api/v1/devices/${deviceId}/patch-installs`, { select: "security" });
    expect(created.statusCode, created.body).toBe(201);
    const runId = created.json().id as string;
    type Run = {
      id: string;
      status: string;
      error: string | null;
      items: Array<{
        target: string;
        status: string;
        versionFrom: string | null;
        versionTo: string | null;
        error: string | null;
      }>;
    };
    const runOf = async (id: string) =>
      ((await api("GET", `/api/v1/devices/${deviceId}/patch-installs`)).json().items as Run[]).find(
        (r) => r.id === id,
      );
    const partial = await waitFor(
      "the install's results",
      async () => {
        const r = await runOf(runId);
        return r && r.status !== "queued" && r.status !== "running" ? r : undefined;
      },
      60_000,
    ).catch(said);
    expect(partial.status).toBe("partial");
    const byTarget = Object.fromEntries(partial.items.map((i) => [i.target, i]));
    expect(byTarget.openssl).toMatchObject({
      status: "installed",
      versionFrom: "3.0.11-1~deb12u2",
      versionTo: "3.0.15-1~deb12u1",
      error: null,
    });
    expect(byTarget["libstdc++6"]).toMatchObject({ status: "installed", versionTo: "12.2.0-14+deb12u1" });
    expect(byTarget.curl).toMatchObject({ status: "failed", versionFrom: "7.88.1-10+deb12u5" });
    expect(byTarget.curl!.error).toContain("exit code 100");
    expect(byTarget.curl!.error).toContain("E: Unable to fetch some archives");

    // The rescan after the install: only the failed one is still missing, and an install is recorded.
    const rescanned = await waitFor(
      "the rescan",
      async () => {
        const s = await status();
        return s?.missing === 1 ? s : undefined;
      },
      30_000,
    ).catch(said);
    expect(rescanned.updates.map((u) => u.name)).toEqual(["curl"]);
    expect(Date.now() - Date.parse(rescanned.lastInstallAt!)).toBeLessThan(120_000);

    // Every program got its argv as separate words, never a command line through a shell: dpkg-query's
    // own ${Version} format reached it literally (a shell would have expanded it to nothing).
    const calls = await apt!.calls();
    const installs = calls.filter((c) => c[0] === "apt-get" && c[1] === "install");
    // One at a time, in the order approved.
    const approved = created.json().items.map((i: { target: string }) => i.target);
    expect(approved.sort()).toEqual(["curl", "libstdc++6", "openssl"]);
    expect(installs.map((c) => c.at(-1))).toEqual(
      created.json().items.map((i: { target: string }) => i.target),
    );
    expect(installs.find((c) => c.at(-1) === "openssl")).toEqual([
      "apt-get",
      "install",
      "--only-upgrade",
      "-y",
      "-q",
      "-o",
      "Dpkg::Options::=--force-confdef",
      "-o",
      "Dpkg::Options::=--force-confold",
      "-o",
      "DPkg::Lock::Timeout=120",
      "openssl",
    ]);
    const queries = calls.filter((c) => c[0] === "dpkg-query");
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's own format fields, sent literally
    const format = "--showformat=${Version} ${Status}";
    expect(queries).toContainEqual(["dpkg-query", "-W", format, "openssl"]);
    expect(queries).toContainEqual(["dpkg-query", "-W", format, "libstdc++6"]);
    expect(await apt!.frontends()).toEqual(["noninteractive", "noninteractive", "noninteractive"]);

    // The mirror fixed: Retry installs the failed update only, and the device is up to date.
    await apt!.heal("curl");
    const retried = await api("POST", `/api/v1/patch-installs/${runId}/retry`);
    expect(retried.statusCode, retried.body).toBe(201);
    const done = await waitFor(
      "the retry's result",
      async () => {
        const r = await runOf(retried.json().id);
        return r && r.status !== "queued" && r.status !== "running" ? r : undefined;
      },
      60_000,
    ).catch(said);
    expect(done).toMatchObject({ status: "done", error: null });
    expect(done.items).toMatchObject([
      {
        target: "curl",
        status: "installed",
        versionFrom: "7.88.1-10+deb12u5",
        versionTo: "7.88.1-10+deb12u8",
      },
    ]);
    await waitFor("nothing missing", async () => (await status())?.missing === 0, 30_000).catch(said);
  }, 240_000);
});
