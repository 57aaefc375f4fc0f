import { spawn } from "node:child_process";

/**
 * Schedules the reboot with the OS's own `shutdown`, so the agent can report success before the machine
 * goes down (and a logged-in user gets the OS's warning).
 */
export function scheduleReboot(
  delaySeconds: number,
  message?: string,
): Promise<{ exitCode: number | null; error?: string }> {
  const msg = message ?? "Restart requested by your IT provider";
  const [cmd, args] =
    process.platform === "win32"
      ? ["shutdown.exe", ["/r", "/t", String(delaySeconds), "/c", msg]]
      : [
          "shutdown",
          ["-r", delaySeconds === 0 ? "now" : `+${Math.max(1, Math.ceil(delaySeconds / 60))}`, msg],
        ];
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: "ignore", windowsHide: true });
    child.on("error", (err) => resolve({ exitCode: null, error: err.message }));
    child.on("close", (code) => resolve({ exitCode: code }));
  });
}
