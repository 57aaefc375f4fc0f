import type { CommandPayload, ServiceInfo, UpdateInstallResult } from "@switchboard/shared";
import { runDirectory } from "./directory.ts";
import type { Output } from "./process.ts";
import { scheduleReboot } from "./reboot.ts";
import { runScript } from "./script.ts";
import type { ServiceManager } from "./services.ts";
import { installUpdates } from "./updates.ts";

export interface Reporter {
  started(commandId: string): void;
  output(commandId: string, stream: "stdout" | "stderr", seq: number, data: string): void;
  result(r: {
    commandId: string;
    status: "succeeded" | "failed" | "timed_out";
    exitCode: number | null;
    truncated: boolean;
    error?: string;
    services?: ServiceInfo[];
    updates?: UpdateInstallResult[];
    rebootRequired?: boolean;
  }): void;
}

export interface CommandHooks {
  /** After an update install: scan again and report, so the patch status shows what is still missing. */
  rescanPatches?: () => Promise<void>;
}

const CHUNK_CHARS = 32 * 1024;
const FLUSH_MS = 100;

/** Coalesces output into frames of at most CHUNK_CHARS, sent at least every FLUSH_MS while it flows. */
function outputStreamer(commandId: string, reporter: Reporter) {
  let seq = 0;
  const pending: Record<"stdout" | "stderr", string> = { stdout: "", stderr: "" };
  let timer: NodeJS.Timeout | null = null;
  const flush = () => {
    timer = null;
    for (const stream of ["stdout", "stderr"] as const) {
      let text = pending[stream];
      pending[stream] = "";
      while (text.length) {
        reporter.output(commandId, stream, seq++, text.slice(0, CHUNK_CHARS));
        text = text.slice(CHUNK_CHARS);
      }
    }
  };
  return {
    push(o: Output) {
      pending[o.stream] += o.data;
      if (pending[o.stream].length >= CHUNK_CHARS) flush();
      else timer ??= setTimeout(flush, FLUSH_MS);
    },
    end() {
      if (timer) clearTimeout(timer);
      flush();
    },
  };
}

/** Runs a verified command and reports its start, output and result. */
export async function executeCommand(
  p: CommandPayload,
  reporter: Reporter,
  services: ServiceManager,
  key?: string,
  hooks: CommandHooks = {},
) {
  const id = p.id;
  const cmd = p.command;
  reporter.started(id);
  const out = outputStreamer(id, reporter);
  try {
    switch (cmd.kind) {
      case "script.run": {
        const r = await runScript(cmd, (o) => out.push(o));
        out.end();
        reporter.result({
          commandId: id,
          status: r.timedOut ? "timed_out" : r.exitCode === 0 ? "succeeded" : "failed",
          exitCode: r.exitCode,
          truncated: r.truncated,
          error: r.timedOut ? `timed out after ${cmd.timeoutSeconds} s` : r.error,
        });
        return;
      }
      case "service.list": {
        const list = await services.list();
        reporter.result({
          commandId: id,
          status: "succeeded",
          exitCode: 0,
          truncated: list.length > 5000,
          services: list.slice(0, 5000),
        });
        return;
      }
      case "service.restart": {
        const r = await services.restart(cmd.name, cmd.timeoutSeconds * 1000, (o) => out.push(o));
        out.end();
        reporter.result({
          commandId: id,
          status: r.timedOut ? "timed_out" : r.exitCode === 0 ? "succeeded" : "failed",
          exitCode: r.exitCode,
          truncated: false,
          error: r.error,
        });
        return;
      }
      case "directory.account": {
        const r = await runDirectory(cmd, id, key);
        if (r.stdout) out.push({ stream: "stdout", data: r.stdout });
        if (r.stderr) out.push({ stream: "stderr", data: r.stderr });
        out.end();
        reporter.result({
          commandId: id,
          status: r.timedOut ? "timed_out" : r.exitCode === 0 ? "succeeded" : "failed",
          exitCode: r.exitCode,
          truncated: false,
          error: r.exitCode === 0 ? undefined : r.error,
        });
        return;
      }
      case "updates.install": {
        const r = await installUpdates(cmd, (o) => out.push(o));
        out.end();
        const failed = r.results.filter((u) => u.status === "failed").length;
        reporter.result({
          commandId: id,
          status: r.error || failed ? (r.timedOut ? "timed_out" : "failed") : "succeeded",
          exitCode: r.error ? null : 0,
          truncated: false,
          error:
            r.error ??
            (failed
              ? `${failed} of ${r.results.length} updates failed${r.timedOut ? " (time limit)" : ""}`
              : undefined),
          updates: r.results,
          rebootRequired: r.rebootRequired,
        });
        if (!r.error) await hooks.rescanPatches?.();
        return;
      }
      case "reboot": {
        const r = await scheduleReboot(cmd.delaySeconds, cmd.message);
        reporter.result({
          commandId: id,
          status: r.exitCode === 0 ? "succeeded" : "failed",
          exitCode: r.exitCode,
          truncated: false,
          error: r.error,
        });
        return;
      }
    }
  } catch (err) {
    out.end();
    reporter.result({
      commandId: id,
      status: "failed",
      exitCode: null,
      truncated: false,
      error: String((err as Error).message).slice(0, 2000),
    });
  }
}
