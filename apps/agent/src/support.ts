import { spawn } from "node:child_process";
import { mkdtempSync, rmdirSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { CloseCode } from "@switchboard/shared";
import { AgentClient } from "./client.ts";
import { EnrollError, enrollForSupport } from "./enroll.ts";
import type { Log } from "./log.ts";

export interface SupportOptions {
  server: string;
  code: string;
  fingerprint?: string;
  /** Leave the executable in place at the end (it is deleted by default when it is the built agent). */
  keepExecutable?: boolean;
  log: Log;
  say: (line: string) => void;
  /** Give up after this long without a connection (the server is gone, or the network). */
  offlineLimitMs?: number;
  /** Whether this process is the single executable (false when run from source with node). */
  isExecutable?: boolean;
}

const OFFLINE_LIMIT_MS = 5 * 60_000;

/**
 * `switchboard-agent support`: the one-time support agent of an attended session. It enrolls with the
 * caller's code as a temporary device, keeps its key and replay guard in a temporary folder (nothing is
 * installed, nothing is left in the system's state directory), serves shells and file transfers like any
 * agent, and when the server says the session is over (close code 4403), it exits and deletes the
 * folder and its own executable. Ctrl+C does the same from the caller's side.
 *
 * Exit codes: 0 the session ended or the caller stopped it, 1 refused or unreachable.
 */
export async function runSupport(opts: SupportOptions): Promise<number> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "switchboard-support-"));
  const cleanup = () => {
    rmSync(dir, { recursive: true, force: true });
    if (!opts.keepExecutable && (opts.isExecutable ?? isSingleExecutable())) removeExecutable(opts.log);
  };
  let enrolled: Awaited<ReturnType<typeof enrollForSupport>>;
  try {
    enrolled = await enrollForSupport({
      server: opts.server,
      code: opts.code,
      fingerprint: opts.fingerprint,
      stateDir: dir,
    });
  } catch (err) {
    cleanup();
    const msg =
      err instanceof EnrollError ? err.message : `Could not reach ${opts.server}: ${(err as Error).message}`;
    process.stderr.write(`${msg.replace("Enrollment refused", "The support code was refused")}\n`);
    return 1;
  }
  const { response, state } = enrolled;
  const client = new AgentClient({
    state,
    stateDir: dir,
    log: opts.log,
    inventory: false,
    // One machine, one session: come back fast after a blip, no fleet to spread out.
    backoff: { baseMs: 1000, maxMs: 10_000, spreadMs: 1000 },
  });
  return new Promise<number>((resolve) => {
    let offlineSince = Date.now();
    let everConnected = false;
    const finish = (code: number, line: string) => {
      clearInterval(watch);
      void client.stop().then(() => {
        cleanup();
        opts.say(line);
        resolve(code);
      });
    };
    const watch = setInterval(() => {
      if (!client.connected && Date.now() - offlineSince > (opts.offlineLimitMs ?? OFFLINE_LIMIT_MS))
        finish(
          1,
          "Lost the connection to the support session for too long: the support agent stopped and removed itself.",
        );
    }, 1000);
    client.on("connected", () => {
      if (!everConnected)
        opts.say(
          `Connected. ${response.technicianName} of ${response.mspName} can now open a shell and move files on this computer for ticket #${response.ticketNumber}, until the session ends. Press Ctrl+C to stop at any time.`,
        );
      everConnected = true;
    });
    client.on("disconnected", (code: number) => {
      offlineSince = Date.now();
      // Unknown device: the server no longer knows this agent (there is nothing to come back to).
      if (code === CloseCode.authFailed)
        finish(1, "The server no longer accepts this support agent: it stopped and removed itself.");
    });
    client.once("retired", () =>
      finish(0, "The support session ended: the support agent stopped and removed itself."),
    );
    const stop = () =>
      finish(
        0,
        "Stopped: the technician can no longer reach this computer; the support agent removed itself.",
      );
    process.once("SIGINT", stop);
    process.once("SIGTERM", stop);
    client.start();
  });
}

function isSingleExecutable() {
  try {
    // node:sea exists in the Node the agent is built with; from source this is plain node.
    const sea = process.getBuiltinModule?.("node:sea") as { isSea?: () => boolean } | undefined;
    return sea?.isSea?.() === true;
  } catch {
    return false;
  }
}

/**
 * Deletes the running executable, and the folder holding it when that is an empty folder of the temporary
 * directory (where the support page's command line puts it; never a folder like Downloads). Linux and
 * macOS let a running file be unlinked; Windows does not, so a detached cmd waits for this process to end
 * and deletes it then.
 */
function removeExecutable(log: Log) {
  const exe = process.execPath;
  const dir = path.dirname(exe);
  const tempFolder = path.dirname(dir) === path.resolve(os.tmpdir());
  try {
    if (process.platform === "win32") {
      const rmdir = tempFolder ? ` & rmdir "${dir}"` : "";
      spawn("cmd.exe", ["/d", "/c", `ping -n 3 127.0.0.1 >nul & del /f /q "${exe}"${rmdir}`], {
        detached: true,
        stdio: "ignore",
        windowsHide: true,
      }).unref();
    } else {
      rmSync(exe, { force: true });
      // rmdir refuses a folder that is not empty: only the command line's own folder goes.
      if (tempFolder) rmdirSync(dir);
    }
  } catch (err) {
    log("warn", "could not delete the support agent's executable", {
      path: exe,
      error: (err as Error).message,
    });
  }
}
