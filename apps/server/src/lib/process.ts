import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";

/** Process facts from /proc (Linux) or `ps` (macOS): the embedded PostgreSQL's pid file and npm's launch. */

/** True while `pid` runs. An exited process its parent has not reaped yet (a zombie) counts as gone. */
export function alive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
  } catch (err) {
    // EPERM: it exists but belongs to another user (a postmaster run as `postgres`, seen by a non-root).
    if ((err as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return !existsSync("/proc/self");
  }
}

/** `ps` where /proc is missing (macOS); bounded, and null when it cannot say. */
function ps(field: "ppid" | "command", pid: number): string | null {
  try {
    return execFileSync("ps", ["-o", `${field}=`, "-p", String(pid)], {
      timeout: 2000,
      encoding: "utf8",
    }).trim();
  } catch {
    return null;
  }
}

/** The command line of a process (arguments joined by spaces), or null when it is gone or unreadable. */
export function processCommand(pid: number): string | null {
  const file = `/proc/${pid}/cmdline`;
  if (existsSync("/proc/self")) {
    try {
      return readFileSync(file, "utf8").split("\0").join(" ").trim();
    } catch {
      return null;
    }
  }
  return ps("command", pid);
}

/** The parent of a process, or null when it is gone or unreadable. */
export function parentPid(pid: number): number | null {
  let text: string | null = null;
  if (existsSync("/proc/self")) {
    try {
      // Field 4 of stat; the command (field 2) may hold spaces and parentheses, so count from the last ')'.
      const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
      text = stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1] ?? null;
    } catch {
      return null;
    }
  } else {
    text = ps("ppid", pid);
  }
  const n = Number.parseInt(text ?? "", 10);
  return Number.isFinite(n) ? n : null;
}

/** Waits until `pid` has exited, polling, for at most `ms`. True when it is gone. */
export async function waitForExit(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 50));
  }
  return true;
}
