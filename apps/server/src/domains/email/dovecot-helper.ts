import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { freePort } from "../../../test/net.ts";

/** Where Debian's dovecot-imapd puts the binary; DOVECOT_BIN overrides it. */
export const DOVECOT_BIN = process.env.DOVECOT_BIN ?? "/usr/sbin/dovecot";

export const dovecotAvailable = () => existsSync(DOVECOT_BIN);

function ids(user: string): { uid: number; gid: number } | null {
  try {
    return {
      uid: Number(execFileSync("id", ["-u", user]).toString().trim()),
      gid: Number(execFileSync("id", ["-g", user]).toString().trim()),
    };
  } catch {
    return null;
  }
}

export interface Dovecot {
  port: number;
  users: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * A private dovecot for tests: its own config, maildirs and sockets in a temp directory, IMAP without TLS
 * on a free high loopback port, users from a passwd-file. Runs in the foreground as our child and is
 * stopped by its pid. As root the mail is owned by the `dovecot` user (dovecot refuses uid 0 for mail);
 * otherwise everything runs as the current user.
 */
export async function startDovecot(users: Record<string, string>): Promise<Dovecot> {
  const dir = await mkdtemp(path.join(os.tmpdir(), "switchboard-dovecot-"));
  await chmod(dir, 0o755);
  const port = await freePort();
  const root = process.getuid?.() === 0;
  const me = os.userInfo().username;
  const mailOwner = root
    ? (ids("dovecot") ?? { uid: 65534, gid: 65534 })
    : { uid: os.userInfo().uid, gid: os.userInfo().gid };
  const loginUser = root ? (ids("dovenull") ? "dovenull" : "nobody") : me;
  const internalUser = root ? (ids("dovecot") ? "dovecot" : "nobody") : me;
  await mkdir(path.join(dir, "mail"), { recursive: true });
  if (root) await chown(path.join(dir, "mail"), mailOwner.uid, mailOwner.gid);
  await writeFile(
    path.join(dir, "users"),
    Object.entries(users)
      .map(([u, p]) => `${u}:{PLAIN}${p}::::::`)
      .join("\n"),
  );
  const conf = `
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_login_user = ${loginUser}
default_internal_user = ${internalUser}
first_valid_uid = ${Math.min(mailOwner.uid, 1)}
mail_location = maildir:${dir}/mail/%u
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/users
}
userdb {
  driver = static
  args = uid=${mailOwner.uid} gid=${mailOwner.gid} home=${dir}/mail/%u
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
  chroot =
}
service anvil {
  chroot =
}
`;
  await writeFile(path.join(dir, "dovecot.conf"), conf);
  const child: ChildProcess = spawn(DOVECOT_BIN, ["-F", "-c", path.join(dir, "dovecot.conf")], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr?.on("data", (c: Buffer) => {
    stderr += c.toString();
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  try {
    await waitForPort(port, child, 15_000);
  } catch (err) {
    child.kill("SIGKILL");
    const log = await readFile(path.join(dir, "dovecot.log"), "utf8").catch(() => "");
    await rm(dir, { recursive: true, force: true });
    throw new Error(`dovecot did not start: ${(err as Error).message}\n${stderr}\n${log}`);
  }
  return {
    port,
    users,
    async stop() {
      if (child.exitCode === null) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), 5000);
        await exited;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPort(port: number, child: ChildProcess, ms: number) {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`exited with ${child.exitCode}`);
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect(port, "127.0.0.1");
      s.once("data", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
      s.setTimeout(1000, () => {
        s.destroy();
        resolve(false);
      });
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`port ${port} not answering after ${ms} ms`);
}
