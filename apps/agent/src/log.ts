export type LogLevel = "debug" | "info" | "warn" | "error";
export type Log = (level: LogLevel, msg: string, fields?: Record<string, unknown>) => void;

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** JSON lines on stderr: journald, launchd and the Windows event log wrapper all keep stderr. */
export function stderrLog(min: LogLevel = "info"): Log {
  return (level, msg, fields) => {
    if (ORDER[level] < ORDER[min]) return;
    process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })}\n`);
  };
}

export const silentLog: Log = () => {};
