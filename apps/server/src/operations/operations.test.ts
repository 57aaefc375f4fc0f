import { existsSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm, stat } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../../test/net.ts";
import { DEFAULT_EMBEDDED_PORT } from "../db/embedded.ts";
import { alive } from "../lib/process.ts";
import {
  postmasterOf,
  type Spawned,
  serverPid,
  spawnServer,
  stopSpawned,
  waitGone,
  waitReady,
} from "./test-support.ts";

/**
 * The server as an operator runs it: real processes, the embedded PostgreSQL, data dirs as root makes
 * them (mode 700). Each server's first start initialises its cluster, so the tests share two data dirs.
 */
describe("starting and stopping like a service", () => {
  let work: string;
  let dirA: string;
  let dirB: string;
  let blocker: net.Server | null = null;
  const started: Spawned[] = [];
  const start = (env: Record<string, string>, opts: { viaNpm?: boolean } = {}) => {
    const s = spawnServer(env, opts);
    started.push(s);
    return s;
  };

  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "switchboard-ops-"));
    await chmod(work, 0o755); // the operator's directory above the data dirs
    // The default port is taken (by "another program"), so both servers must find their own.
    blocker = net.createServer();
    await new Promise<void>((resolve) => {
      blocker?.once("error", () => {
        blocker = null; // something already listens there: taken all the same
        resolve();
      });
      blocker?.listen(DEFAULT_EMBEDDED_PORT, "127.0.0.1", () => resolve());
    });
    dirA = path.join(work, "a");
    dirB = path.join(work, "b");
    // As root `mkdir -m 700` makes a directory the embedded PostgreSQL's OS user cannot enter.
    await mkdir(dirA, { mode: 0o700 });
    await mkdir(dirB, { mode: 0o700 });
  });
  afterAll(async () => {
    for (const s of started) await stopSpawned(s);
    await new Promise<void>((r) => (blocker ? blocker.close(() => r()) : r()));
    await rm(work, { recursive: true, force: true });
  });

  it("runs two servers with two data dirs side by side with no port setting, each on a port it found", async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    const a = start({ SWITCHBOARD_DATA_DIR: dirA, PORT: String(portA) });
    const b = start({ SWITCHBOARD_DATA_DIR: dirB, PORT: String(portB) });
    await Promise.all([waitReady(portA, 90_000, a.child), waitReady(portB, 90_000, b.child)]);
    const pgA = postmasterOf(path.join(dirA, "postgres"));
    const pgB = postmasterOf(path.join(dirB, "postgres"));
    expect(pgA && pgB).toBeTruthy();
    expect(pgA?.port).not.toBe(pgB?.port);
    expect(pgA?.port).not.toBe(DEFAULT_EMBEDDED_PORT);
    expect(pgB?.port).not.toBe(DEFAULT_EMBEDDED_PORT);
    // Each says which port it took instead.
    expect(a.output()).toContain(`port ${DEFAULT_EMBEDDED_PORT}`);
    expect(a.output()).toContain(`listening on ${pgA?.port}`);
    expect(b.output()).toContain(`listening on ${pgB?.port}`);
    if (process.getuid?.() === 0) {
      // Root's mode-700 data dir: only the postgres group may pass through; the cluster is postgres's.
      expect((await stat(dirA)).mode & 0o777).toBe(0o710);
      expect((await stat(dirA)).mode & 0o007).toBe(0);
    }
    await stopSpawned(a);
    await stopSpawned(b);
    expect(await a.exited).toBe(0);
    expect(await b.exited).toBe(0);
    expect(existsSync(path.join(dirA, "postgres", "postmaster.pid"))).toBe(false);
  }, 150_000);

  it("a start that cannot get its database says why in one line", async () => {
    // Port set by the operator and taken: no fallback, one line naming it.
    const taken = net.createServer();
    const port = await new Promise<number>((r) =>
      taken.listen(0, "127.0.0.1", () => r((taken.address() as net.AddressInfo).port)),
    );
    try {
      const s = start({
        SWITCHBOARD_DATA_DIR: dirA,
        PORT: String(await freePort()),
        SWITCHBOARD_EMBEDDED_PG_PORT: String(port),
      });
      expect(await s.exited).toBe(1);
      const errors = s
        .output()
        .split("\n")
        .filter((l) => l.startsWith("Switchboard could not start"));
      expect(errors).toEqual([
        `Switchboard could not start: the embedded PostgreSQL in ${path.join(dirA, "postgres")} did not start: port ${port} is taken`,
      ]);
      expect(s.output()).not.toMatch(/Cannot read properties|undefined/);
    } finally {
      taken.close();
    }

    // An external database that does not answer: the same, one line.
    const closed = await freePort();
    const external = start({
      SWITCHBOARD_DATA_DIR: dirA,
      PORT: String(await freePort()),
      DATABASE_URL: `postgres://sb:sb@127.0.0.1:${closed}/sb`,
    });
    expect(await external.exited).toBe(1);
    expect(external.output().trim()).toBe(
      "Switchboard could not start: cannot reach the database (DATABASE_URL): connection refused",
    );

    // The data dir of a running server: refused, naming that server, and the running one is untouched.
    const httpPort = await freePort();
    const running = start({ SWITCHBOARD_DATA_DIR: dirA, PORT: String(httpPort) });
    await waitReady(httpPort, 60_000, running.child);
    const second = start({ SWITCHBOARD_DATA_DIR: dirA, PORT: String(await freePort()) });
    expect(await second.exited).toBe(1);
    expect(second.output()).toContain(
      `Switchboard could not start: the embedded PostgreSQL in ${path.join(dirA, "postgres")} belongs to a running Switchboard (pid ${running.child.pid})`,
    );
    expect((await fetch(`http://127.0.0.1:${httpPort}/readyz`)).ok).toBe(true);
    await stopSpawned(running);
  }, 120_000);

  it("`npm start` stops cleanly on SIGTERM to npm's pid and leaves no process behind", async () => {
    const port = await freePort();
    const npm = start({ SWITCHBOARD_DATA_DIR: dirA, PORT: String(port) }, { viaNpm: true });
    await waitReady(port, 60_000, npm.child);
    const server = serverPid(npm.output());
    const postmaster = postmasterOf(path.join(dirA, "postgres"))?.pid;
    expect(server).toBeGreaterThan(0);
    expect(server).not.toBe(npm.child.pid); // npm runs it through a shell: the signal is not forwarded to it
    expect(postmaster).toBeGreaterThan(0);

    npm.child.kill("SIGTERM");
    const left = await waitGone([npm.child.pid as number, server as number, postmaster as number], 30_000);
    expect(left).toEqual([]);
    // A clean shutdown: PostgreSQL removed its pid file, and the next start needs no recovery.
    expect(existsSync(path.join(dirA, "postgres", "postmaster.pid"))).toBe(false);
  }, 120_000);

  it("after kill -9 the next start stops the orphaned PostgreSQL and is ready in seconds", async () => {
    const port = await freePort();
    const first = start({ SWITCHBOARD_DATA_DIR: dirB, PORT: String(port) });
    await waitReady(port, 60_000, first.child);
    const orphan = postmasterOf(path.join(dirB, "postgres"))?.pid as number;
    first.child.kill("SIGKILL");
    await first.exited;
    await new Promise((r) => setTimeout(r, 300));
    expect(alive(orphan)).toBe(true); // PostgreSQL outlives its parent

    const again = start({ SWITCHBOARD_DATA_DIR: dirB, PORT: String(port) });
    const readyMs = await waitReady(port, 30_000, again.child);
    expect(again.output()).toContain(`stopping the embedded PostgreSQL (pid ${orphan}) left running`);
    expect(alive(orphan)).toBe(false);
    expect(postmasterOf(path.join(dirB, "postgres"))?.pid).not.toBe(orphan);
    expect(readyMs).toBeLessThan(20_000);
    console.log(`ready ${readyMs} ms after a start that found an orphaned PostgreSQL`);
    await stopSpawned(again);
  }, 120_000);
});
