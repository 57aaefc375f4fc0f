import { type ChildProcess, execFile, execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, readFileSync, readlinkSync } from "node:fs";
import os from "node:os";
import path from "node:path";

/**
 * A pseudo-terminal without native code: script(1) allocates the PTY pair and runs the shell on its slave
 * side, relaying between our pipes and the master. util-linux's script on Linux, BSD script on macOS.
 * The size is set inside the PTY before the shell starts (`stty rows R cols C`), and changed later with
 * `stty` on the slave device from outside, which makes the kernel send SIGWINCH to the shell.
 *
 * Windows has no script(1): its pseudo console (ConPTY) needs native calls, which a Node single
 * executable cannot bring, so `openPty` refuses there (see apps/agent/README.md).
 */
export interface Pty {
  readonly pid: number;
  readonly description: string;
  /** Raw output as it comes; pause()/resume() hold the shell back through the pipe. */
  readonly output: NodeJS.ReadableStream;
  write(data: string, done: () => void): void;
  /** Resolves once the new size is set (or could not be). */
  resize(cols: number, rows: number): Promise<void>;
  /** Hang up the shell and everything it started. */
  kill(): void;
  onExit(cb: (code: number | null) => void): void;
}

export class PtyUnsupported extends Error {}

const SHELLS = ["/bin/bash", "/bin/zsh", "/bin/sh"];

/** SWITCHBOARD_AGENT_SHELL (an absolute path) if it exists, else the platform's usual login shell. */
function pickShell(): string {
  const chosen = process.env.SWITCHBOARD_AGENT_SHELL;
  if (chosen && path.isAbsolute(chosen) && !/[\s;'"$`\\]/.test(chosen) && existsSync(chosen)) return chosen;
  if (process.platform === "darwin" && existsSync("/bin/zsh")) return "/bin/zsh";
  return SHELLS.find((s) => existsSync(s)) ?? "/bin/sh";
}

function home(): string {
  try {
    return os.userInfo().homedir || "/";
  } catch {
    return "/";
  }
}

export function openPty(cols: number, rows: number): Pty {
  if (process.platform !== "linux" && process.platform !== "darwin") {
    throw new PtyUnsupported(`no pseudo-terminal on ${process.platform} (ConPTY needs native code)`);
  }
  const shell = pickShell();
  // Integers only reach the command line; the shell is a fixed path from SHELLS.
  const inner = `stty rows ${rows | 0} cols ${cols | 0} 2>/dev/null; exec ${shell} -l`;
  const args =
    process.platform === "linux"
      ? ["-q", "-f", "-e", "-c", inner, "/dev/null"]
      : ["-q", "/dev/null", "/bin/sh", "-c", inner];
  const { SWITCHBOARD_AGENT_STATE_DIR: _, ...env } = process.env;
  const child = spawn("script", args, {
    cwd: home(),
    env: { ...env, TERM: "xterm-256color", HOME: env.HOME ?? home(), LANG: env.LANG ?? "C.UTF-8" },
    stdio: ["pipe", "pipe", "pipe"],
    // Its own process group: a hang-up reaches the shell and whatever it started.
    detached: true,
  });
  if (!child.pid || !child.stdout || !child.stdin) throw new Error("could not start script(1)");
  // script(1) itself only writes errors to stderr; they are part of what the technician should see.
  child.stderr?.on("data", () => {});
  child.stdin.on("error", () => {});
  // The shell outlives a killed agent otherwise (script(1) waits for it, and nothing writes to it any
  // more): a watchdog ends script(1) once the agent's process is gone (see kill()). Integers only.
  const watchdog = spawn(
    "/bin/sh",
    [
      "-c",
      `while kill -0 ${process.pid} 2>/dev/null && kill -0 ${child.pid} 2>/dev/null; do sleep 2; done; ` +
        `kill -TERM ${child.pid} 2>/dev/null; sleep 2; kill -KILL -${child.pid} 2>/dev/null`,
    ],
    { detached: true, stdio: "ignore" },
  );
  watchdog.unref();
  child.once("exit", () => {
    try {
      watchdog.kill("SIGKILL");
    } catch {
      // already gone
    }
  });
  return new ScriptPty(child, `${shell} via script(1)`);
}

class ScriptPty implements Pty {
  readonly pid: number;
  readonly description: string;
  readonly output: NodeJS.ReadableStream;
  private readonly child: ChildProcess;
  private tty: string | null = null;
  private exited = false;

  constructor(child: ChildProcess, description: string) {
    this.child = child;
    this.pid = child.pid!;
    this.description = description;
    this.output = child.stdout!;
    child.once("exit", () => {
      this.exited = true;
    });
  }

  write(data: string, done: () => void) {
    if (this.exited || !this.child.stdin?.writable) return done();
    this.child.stdin.write(data, () => done());
  }

  resize(cols: number, rows: number) {
    const tty = this.findTty();
    if (!tty) return Promise.resolve();
    const flag = process.platform === "darwin" ? "-f" : "-F";
    return new Promise<void>((resolve) =>
      execFile("stty", [flag, tty, "rows", String(rows | 0), "cols", String(cols | 0)], () => resolve()),
    );
  }

  /**
   * Ends script(1) (SIGTERM; it ignores SIGHUP): the PTY's master closes, so the kernel hangs up the
   * shell's session (the shell leads its own session, apart from script's process group) and everything
   * in it. SIGKILL to script's group if it is still there after 2 s.
   */
  kill() {
    if (this.exited) return;
    try {
      process.kill(this.pid, "SIGTERM");
    } catch {
      // already gone
    }
    setTimeout(() => {
      if (!this.exited) signalGroup(this.pid, "SIGKILL");
    }, 2000).unref();
  }

  onExit(cb: (code: number | null) => void) {
    // "close": after the output pipe has been read to its end.
    this.child.once("close", (code) => cb(code));
  }

  /** The slave side of the PTY: the terminal the shell (script's child) has as its standard input. */
  private findTty(): string | null {
    if (this.tty) return this.tty;
    for (const pid of childrenOf(this.pid)) {
      try {
        const link = process.platform === "linux" ? readlinkSync(`/proc/${pid}/fd/0`) : darwinTty(pid);
        if (link?.startsWith("/dev/")) {
          this.tty = link;
          return link;
        }
      } catch {
        // gone, or not ours
      }
    }
    return null;
  }
}

function signalGroup(pid: number, signal: NodeJS.Signals) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

function childrenOf(pid: number): number[] {
  if (process.platform === "linux") {
    try {
      return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).map(Number);
    } catch {
      // kernels without CONFIG_PROC_CHILDREN: scan the process table for our parent id
      return readdirSync("/proc")
        .filter((d) => /^\d+$/.test(d))
        .filter((d) => {
          try {
            const stat = readFileSync(`/proc/${d}/stat`, "utf8");
            return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]) === pid;
          } catch {
            return false;
          }
        })
        .map(Number);
    }
  }
  return psLines(["-o", "pid=", "-ax", "-o", "ppid="])
    .map((l) => l.trim().split(/\s+/).map(Number))
    .filter(([, ppid]) => ppid === pid)
    .map(([p]) => p!);
}

function darwinTty(pid: number): string | null {
  const t = psLines(["-o", "tty=", "-p", String(pid)])[0]?.trim();
  return t && t !== "??" ? `/dev/${t}` : null;
}

function psLines(args: string[]): string[] {
  try {
    return execFileSync("ps", args, { encoding: "utf8" }).split("\n").filter(Boolean);
  } catch {
    return [];
  }
}
