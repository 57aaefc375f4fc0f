// The agent's linux-x64 single executable for the tests that run it (not collected as a test itself).
import { execFile } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import path from "node:path";

const agentDir = path.resolve(import.meta.dirname, "../../../agent");
export const binary = path.join(agentDir, "dist", "switchboard-agent-linux-x64");
export const canRun = process.platform === "linux" && process.arch === "x64";

/** True when the executable is missing or older than any source it is built from. */
function stale(): boolean {
  if (!existsSync(binary)) return true;
  const built = statSync(binary).mtimeMs;
  const dirs = [path.join(agentDir, "src"), path.resolve(agentDir, "../../packages/shared/src")];
  return dirs.some((dir) =>
    readdirSync(dir, { recursive: true, withFileTypes: true }).some(
      (e) =>
        e.isFile() && e.name.endsWith(".ts") && statSync(path.join(e.parentPath, e.name)).mtimeMs > built,
    ),
  );
}

/**
 * CI builds first (`npm run build:agent`); a stale or missing executable is built here. Several test files
 * may ask at once: one builds (a lock directory beside the executable), the others wait and then find it
 * fresh, so none runs the file while another rewrites it.
 */
export async function ensureBuilt() {
  if (!stale()) return;
  const lock = `${binary}.building`;
  mkdirSync(path.dirname(binary), { recursive: true });
  const deadline = Date.now() + 300_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch {
      let age = 0;
      try {
        age = Date.now() - statSync(lock).mtimeMs;
      } catch {
        continue; // released meanwhile: try again
      }
      // A lock left by a build that died more than 5 minutes ago is taken over.
      if (Date.now() > deadline || age > 300_000) {
        rmSync(lock, { recursive: true, force: true });
        continue;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  try {
    if (!stale()) return;
    const built = await run(process.execPath, [
      path.join(agentDir, "scripts", "build.ts"),
      "--targets",
      "linux-x64",
    ]);
    if (built.code !== 0) throw new Error(`npm run build:agent failed:\n${built.stdout}${built.stderr}`);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

export function run(file: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(file, args, { env: { ...process.env, ...env }, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}
