import { spawn } from "node:child_process";
import { StringDecoder } from "node:string_decoder";

export interface Output {
  stream: "stdout" | "stderr";
  data: string;
}

export interface RunResult {
  exitCode: number | null;
  timedOut: boolean;
  truncated: boolean;
  error?: string;
}

export interface RunOptions {
  timeoutMs: number;
  outputLimitBytes: number;
  onOutput: (o: Output) => void;
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to the program's stdin, which is then closed (a secret never goes on a command line). */
  input?: string;
}

/**
 * Runs a program with a time and output limit, streaming its output as it comes. On POSIX the child leads
 * its own process group so a timeout kills whatever the script started too.
 */
export function runProcess(cmd: string, args: string[], opts: RunOptions): Promise<RunResult> {
  return new Promise((resolve) => {
    const posix = process.platform !== "win32";
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(cmd, args, {
        cwd: opts.cwd,
        env: opts.env ?? process.env,
        stdio: [opts.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
        detached: posix,
        windowsHide: true,
      });
    } catch (err) {
      resolve({ exitCode: null, timedOut: false, truncated: false, error: (err as Error).message });
      return;
    }
    if (opts.input !== undefined && child.stdin) {
      child.stdin.on("error", () => {}); // a program that exits without reading: its result says why
      child.stdin.end(opts.input);
    }
    let used = 0;
    let truncated = false;
    let timedOut = false;
    const take = (stream: "stdout" | "stderr", decoder: StringDecoder) => (chunk: Buffer) => {
      if (used >= opts.outputLimitBytes) {
        truncated = true;
        return;
      }
      const room = opts.outputLimitBytes - used;
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      if (part.length < chunk.length) truncated = true;
      used += part.length;
      const data = decoder.write(part);
      if (data) opts.onOutput({ stream, data });
    };
    const outDec = new StringDecoder("utf8");
    const errDec = new StringDecoder("utf8");
    child.stdout?.on("data", take("stdout", outDec));
    child.stderr?.on("data", take("stderr", errDec));
    const kill = () => {
      try {
        if (posix && child.pid) process.kill(-child.pid, "SIGKILL");
        else child.kill("SIGKILL");
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, opts.timeoutMs);
    let spawnError: string | undefined;
    child.on("error", (err) => {
      spawnError = err.message;
    });
    child.on("close", (code) => {
      clearTimeout(timer);
      const tailOut = outDec.end();
      const tailErr = errDec.end();
      if (tailOut) opts.onOutput({ stream: "stdout", data: tailOut });
      if (tailErr) opts.onOutput({ stream: "stderr", data: tailErr });
      // Anything the script left running in its group goes with it.
      if (posix && child.pid) {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {
          // none left
        }
      }
      resolve({ exitCode: code, timedOut, truncated, error: spawnError });
    });
  });
}
