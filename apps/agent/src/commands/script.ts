import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import type { AgentCommand } from "@switchboard/shared";
import { type Output, type RunResult, runProcess } from "./process.ts";

type ScriptCommand = Extract<AgentCommand, { kind: "script.run" }>;

const EXT = { bash: ".sh", sh: ".sh", powershell: ".ps1", cmd: ".cmd" } as const;

function interpreter(kind: ScriptCommand["interpreter"], file: string): [string, string[]] {
  switch (kind) {
    case "bash":
      return ["bash", [file]];
    case "sh":
      return ["sh", [file]];
    case "powershell":
      return [
        process.platform === "win32" ? "powershell.exe" : "pwsh",
        ["-NoProfile", "-NonInteractive", "-ExecutionPolicy", "Bypass", "-File", file],
      ];
    case "cmd":
      return ["cmd.exe", ["/d", "/c", file]];
  }
}

/** The script goes to a private temp file (never a command line: no quoting, no length limit). */
export async function runScript(cmd: ScriptCommand, onOutput: (o: Output) => void): Promise<RunResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), "switchboard-"));
  try {
    const file = path.join(dir, `script${EXT[cmd.interpreter]}`);
    writeFileSync(file, cmd.script, { mode: 0o700 });
    const [bin, args] = interpreter(cmd.interpreter, file);
    return await runProcess(bin, args, {
      timeoutMs: cmd.timeoutSeconds * 1000,
      outputLimitBytes: cmd.outputLimitBytes,
      onOutput,
      cwd: dir,
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
