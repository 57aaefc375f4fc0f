// The directory the agent's reset tests act on (not collected as a test itself): a real Samba AD DC
// provisioned in a temp dir, answering LDAPS on loopback, when this machine has Samba and runs as root;
// otherwise fake-ldb.mjs standing in for ldbsearch/ldbmodify on a JSON file. Either way the agent runs
// the same commands; `bind` is a real LDAPS simple bind against Samba, a hash check against the fake.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";

const FAKE = path.join(import.meta.dirname, "fixtures", "fake-ldb.mjs");
const REALM = "sb.test";
const BASE = "DC=sb,DC=test";

const run = (file: string, args: string[], input?: string) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(file, args, { timeout: 120_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (typeof err.code === "number" ? err.code : 1) : 0, stdout, stderr }),
    );
    if (input !== undefined) child.stdin?.end(input);
  });

const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(port, "127.0.0.1", () => s.close(() => resolve(true)));
  });

export const sambaAvailable = async () =>
  process.platform === "linux" &&
  process.getuid?.() === 0 &&
  existsSync("/usr/bin/samba-tool") &&
  existsSync("/usr/sbin/samba") &&
  existsSync("/usr/bin/ldbmodify") &&
  existsSync("/usr/share/samba/setup/ad-schema") &&
  (await portFree(636)) &&
  (await portFree(389));

interface FakeUser {
  dn: string;
  sAMAccountName: string;
  userPrincipalName: string;
  mail: string;
  pwHash: string;
  history: string[];
  pwdLastSet: number;
  lockoutTime: number;
}

export interface TestDirectory {
  kind: "samba" | "fake";
  /** PATH entries and variables the agent process needs. */
  agentEnv: Record<string, string>;
  /** Where the recording PowerShell host keeps what it ran. */
  recordingFile: string;
  addUser(sam: string, mail: string, password: string): Promise<void>;
  bind(sam: string, password: string): Promise<boolean>;
  attrs(sam: string): Promise<{ pwdLastSet: string; lockoutTime: string }>;
  lock(sam: string): Promise<void>;
  close(): Promise<void>;
}

export async function startTestDirectory(useSamba: boolean): Promise<TestDirectory> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "sb-directory-"));
  const bin = path.join(dir, "bin");
  await run("mkdir", ["-p", bin]);
  const recordingFile = path.join(dir, "pwsh.json");
  await writeFile(recordingFile, JSON.stringify({ users: [], policy: { minLength: 7, history: 24 } }));
  const wrapper = async (name: string, tool: string, extra: string) => {
    const file = path.join(bin, name);
    await writeFile(file, `#!/bin/sh\nexec "${process.execPath}" "${FAKE}" ${tool} ${extra} "$@"\n`);
    await chmod(file, 0o755);
  };
  // PowerShell is never on this machine: the recording host stands in for it in both modes.
  await wrapper("pwsh", "pwsh", `-H "${recordingFile}"`);
  const PATH = `${bin}:${process.env.PATH}`;
  return useSamba ? samba(dir, PATH, recordingFile) : fake(dir, PATH, recordingFile, wrapper);
}

async function fake(
  dir: string,
  PATH: string,
  recordingFile: string,
  wrapper: (name: string, tool: string, extra: string) => Promise<void>,
): Promise<TestDirectory> {
  const file = path.join(dir, "sam.json");
  await writeFile(file, JSON.stringify({ users: [], policy: { minLength: 7, history: 24 } }));
  await wrapper("ldbsearch", "ldbsearch", "");
  await wrapper("ldbmodify", "ldbmodify", "");
  const sha = (s: string) => createHash("sha256").update(s).digest("hex");
  const load = async () => JSON.parse(await readFile(file, "utf8")) as { users: FakeUser[]; policy: unknown };
  const save = (db: unknown) => writeFile(file, JSON.stringify(db));
  return {
    kind: "fake",
    agentEnv: { PATH, SWITCHBOARD_AGENT_SAM_LDB: file },
    recordingFile,
    async addUser(sam, mail, password) {
      const db = await load();
      db.users.push({
        dn: `CN=${sam},CN=Users,${BASE}`,
        sAMAccountName: sam,
        userPrincipalName: `${sam}@${REALM}`,
        mail,
        pwHash: sha(password),
        history: [],
        pwdLastSet: Date.now(),
        lockoutTime: 0,
      });
      await save(db);
    },
    async bind(sam, password) {
      const u = (await load()).users.find((x) => x.sAMAccountName === sam);
      return !!u && u.pwHash === sha(password) && Number(u.lockoutTime) === 0;
    },
    async attrs(sam) {
      const u = (await load()).users.find((x) => x.sAMAccountName === sam)!;
      return { pwdLastSet: String(u.pwdLastSet), lockoutTime: String(u.lockoutTime) };
    },
    async lock(sam) {
      const db = await load();
      db.users.find((x) => x.sAMAccountName === sam)!.lockoutTime = 1;
      await save(db);
    },
    async close() {
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function samba(dir: string, PATH: string, recordingFile: string): Promise<TestDirectory> {
  const target = path.join(dir, "dc");
  const provisioned = await run("samba-tool", [
    "domain",
    "provision",
    `--targetdir=${target}`,
    `--realm=${REALM.toUpperCase()}`,
    "--domain=SB",
    "--server-role=dc",
    "--dns-backend=NONE",
    "--adminpass=Adm1n-Passw0rd!",
    "--host-name=dc01",
    "--option=interfaces=lo",
    "--option=bind interfaces only=yes",
    "--option=server services=ldap",
    `--option=pid directory=${target}/run`,
  ]);
  if (provisioned.code !== 0)
    throw new Error(`samba-tool domain provision: ${provisioned.stderr.slice(-2000)}`);
  const conf = path.join(target, "etc", "smb.conf");
  // The old password must fail at once (the default lets it bind for an hour after a reset). Written
  // here: provision drops this option from the smb.conf it writes.
  const text = await readFile(conf, "utf8");
  await writeFile(conf, text.replace("[global]\n", "[global]\n\told password allowed period = 0\n"));
  const sam = path.join(target, "private", "sam.ldb");
  await run("mkdir", ["-p", `${target}/run`]);
  const daemon: ChildProcess = spawn("samba", ["-s", conf, "-i", "-M", "single", "--debuglevel=0"], {
    stdio: "ignore",
  });
  const deadline = Date.now() + 30_000;
  while ((await portFree(636)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
  const search = (filter: string, attrs: string[]) => run("ldbsearch", ["-H", sam, filter, ...attrs]);
  const modify = (sam_: string, change: string) =>
    run("ldbmodify", ["-H", sam], `dn: CN=${sam_},CN=Users,${BASE}\nchangetype: modify\n${change}\n-\n`);
  return {
    kind: "samba",
    agentEnv: { PATH, SWITCHBOARD_AGENT_SAM_LDB: sam },
    recordingFile,
    async addUser(name, mail, password) {
      const r = await run("samba-tool", [
        "user",
        "create",
        name,
        password,
        `--mail-address=${mail}`,
        "-s",
        conf,
        "-H",
        sam,
      ]);
      if (r.code !== 0) throw new Error(`samba-tool user create: ${r.stderr}`);
    },
    async bind(name, password) {
      const r = await run("ldbsearch", [
        "-H",
        "ldaps://127.0.0.1",
        `--simple-bind-dn=${name}@${REALM}`,
        `--password=${password}`,
        "--option=tls verify peer = no_check",
        "-b",
        BASE,
        `(sAMAccountName=${name})`,
        "sAMAccountName",
      ]);
      return r.code === 0 && r.stdout.includes(`sAMAccountName: ${name}`);
    },
    async attrs(name) {
      const r = await search(`(sAMAccountName=${name})`, ["pwdLastSet", "lockoutTime"]);
      const get = (a: string) => new RegExp(`^${a}: (.*)$`, "m").exec(r.stdout)?.[1] ?? "0";
      return { pwdLastSet: get("pwdLastSet"), lockoutTime: get("lockoutTime") };
    },
    async lock(name) {
      // Now, as a FILETIME (100 ns since 1601).
      const now = (BigInt(Date.now()) + 11_644_473_600_000n) * 10_000n;
      const r = await modify(name, `replace: lockoutTime\nlockoutTime: ${now}`);
      if (r.code !== 0) throw new Error(`lock: ${r.stderr}`);
    },
    async close() {
      daemon.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 300));
      await rm(dir, { recursive: true, force: true });
    },
  };
}
