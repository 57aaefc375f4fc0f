import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EmbeddedStartError, portFree, prepareClusterAccess } from "./embedded-host.ts";

const root = process.getuid?.() === 0;
// A user and group that own nothing here, standing in for `postgres`.
const pgUser = { name: "postgres", uid: 54_321, gid: 54_322, groups: [54_322] };

describe.skipIf(!root)("running the embedded PostgreSQL as root", () => {
  let work: string;
  beforeAll(async () => {
    work = await mkdtemp(path.join(os.tmpdir(), "switchboard-access-"));
    await chmod(work, 0o755);
  });
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it("lets the PostgreSQL user through a root-only data dir (traverse only) and gives it the cluster", async () => {
    const data = path.join(work, "data");
    await mkdir(path.join(data, "postgres", "base"), { recursive: true, mode: 0o700 });
    await chmod(data, 0o700);
    await writeFile(path.join(data, "vault.key"), "secret", { mode: 0o600 });
    const changed = await prepareClusterAccess(path.join(data, "postgres"), pgUser);
    expect(changed).toHaveLength(2);
    const d = await stat(data);
    expect(d.mode & 0o777).toBe(0o710); // the group may pass, not list; others nothing
    expect(d.uid).toBe(0);
    expect(d.gid).toBe(pgUser.gid);
    const c = await stat(path.join(data, "postgres", "base"));
    expect(c.uid).toBe(pgUser.uid);
    // The key beside the cluster stays root's and private.
    const k = await stat(path.join(data, "vault.key"));
    expect([k.uid, k.mode & 0o777]).toEqual([0, 0o600]);
    // Nothing to do the second time.
    expect(await prepareClusterAccess(path.join(data, "postgres"), pgUser)).toEqual([]);
  });

  it("says which directory above the data dir blocks the way, and changes nothing", async () => {
    const closed = path.join(work, "closed");
    const data = path.join(closed, "data");
    await mkdir(data, { recursive: true, mode: 0o700 });
    await chmod(closed, 0o700);
    const attempt = prepareClusterAccess(path.join(data, "postgres"), pgUser);
    await expect(attempt).rejects.toBeInstanceOf(EmbeddedStartError);
    await expect(attempt).rejects.toThrow(
      `cannot pass through ${closed} (mode 700); run \`chmod o+x ${closed}\``,
    );
    expect((await stat(data)).mode & 0o777).toBe(0o700);
  });
});

describe("ports", () => {
  it("tells a taken loopback port from a free one", async () => {
    const srv = net.createServer();
    const port = await new Promise<number>((r) =>
      srv.listen(0, "127.0.0.1", () => r((srv.address() as net.AddressInfo).port)),
    );
    expect(await portFree(port)).toBe(false);
    await new Promise<void>((r) => srv.close(() => r()));
    expect(await portFree(port)).toBe(true);
  });
});
