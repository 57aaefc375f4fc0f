import { parseArgs } from "node:util";
import { AgentClient, DEFAULT_BACKOFF } from "./client.ts";
import { EnrollError, enroll } from "./enroll.ts";
import { installService, stayStopped, systemHost, uninstallService } from "./install.ts";
import { type LogLevel, stderrLog } from "./log.ts";
import { defaultStateDir, isRetired, loadState } from "./state.ts";
import { runSupport } from "./support.ts";
import { AGENT_VERSION } from "./version.ts";

const USAGE = `switchboard-agent ${AGENT_VERSION}

  switchboard-agent enroll  --server URL --token TOKEN [--fingerprint SHA256] [--state-dir DIR]
  switchboard-agent install --server URL --token TOKEN [--fingerprint SHA256]   enroll, then run as a service
  switchboard-agent run     [--state-dir DIR]                                     connect and serve (foreground)
  switchboard-agent uninstall [--state-dir DIR]                                   stop, and remove the service
  switchboard-agent support --server URL --code XXXXX-XXXXX [--fingerprint SHA256] [--keep-executable]
        the one-time support agent of an attended session: connects for that session only (nothing is
        installed), and when it ends exits and deletes its temporary folder and this executable
  switchboard-agent version

Environment: SWITCHBOARD_AGENT_STATE_DIR, SWITCHBOARD_AGENT_LOG_LEVEL (debug|info|warn|error),
SWITCHBOARD_AGENT_BACKOFF_BASE_MS, SWITCHBOARD_AGENT_BACKOFF_MAX_MS, SWITCHBOARD_AGENT_RECONNECT_SPREAD_MS,
SWITCHBOARD_AGENT_INIT_DIR, SWITCHBOARD_AGENT_PATCH_FIRST_SECONDS (the first patch scan after connecting).
`;

/** A service manager step: its failure is one clear line, not a stack trace. */
function manage(step: () => void) {
  try {
    step();
    return 0;
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n`);
    return 1;
  }
}

/** Exit codes: 0 ok, 1 failure, 2 usage, 3 device retired (the service manager must not restart it). */
export async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      server: { type: "string" },
      token: { type: "string" },
      fingerprint: { type: "string" },
      "state-dir": { type: "string" },
      code: { type: "string" },
      "keep-executable": { type: "boolean" },
      help: { type: "boolean", short: "h" },
    },
  });
  const command = positionals[0];
  const stateDir = values["state-dir"] ?? defaultStateDir();
  const log = stderrLog((process.env.SWITCHBOARD_AGENT_LOG_LEVEL as LogLevel | undefined) ?? "info");
  const say = (msg: string) => process.stdout.write(`${msg}\n`);
  if (values.help || !command) {
    process.stdout.write(USAGE);
    return command ? 0 : 2;
  }
  if (command === "version") {
    process.stdout.write(`${AGENT_VERSION}\n`);
    return 0;
  }
  if (command === "enroll" || command === "install") {
    if (!values.server || !values.token) {
      process.stderr.write("enroll needs --server and --token\n");
      return 2;
    }
    try {
      const state = await enroll({
        server: values.server,
        token: values.token,
        fingerprint: values.fingerprint,
        stateDir,
      });
      process.stdout.write(`enrolled as device ${state.deviceId}\n`);
    } catch (err) {
      process.stderr.write(
        `${err instanceof EnrollError ? err.message : `Enrollment failed: ${(err as Error).message}`}\n`,
      );
      return 1;
    }
    return command === "install"
      ? manage(() => installService(process.execPath, stateDir, systemHost(say)))
      : 0;
  }
  if (command === "support") {
    if (!values.server || !values.code) {
      process.stderr.write("support needs --server and --code (shown on the support page)\n");
      return 2;
    }
    return runSupport({
      server: values.server,
      code: values.code,
      fingerprint: values.fingerprint,
      keepExecutable: values["keep-executable"],
      log,
      say,
    });
  }
  if (command === "uninstall")
    return manage(() => uninstallService(process.execPath, stateDir, systemHost(say)));
  if (command === "run") {
    const state = loadState(stateDir);
    if (!state) {
      process.stderr.write(`not enrolled: no ${stateDir}/agent.json (run switchboard-agent enroll first)\n`);
      return 1;
    }
    // Exit code 3 is final: the service manager must not bring a retired device back.
    const retire = () => {
      try {
        stayStopped(
          stateDir,
          systemHost((msg) => log("info", msg)),
        );
      } catch (err) {
        log("error", "could not keep the agent stopped", { error: (err as Error).message });
      }
      return 3;
    };
    if (isRetired(stateDir)) {
      log("error", "this device was retired; enroll again to use this machine", { stateDir });
      return retire();
    }
    const num = (v: string | undefined, d: number) => (v && Number.isFinite(Number(v)) ? Number(v) : d);
    const client = new AgentClient({
      state,
      stateDir,
      log,
      backoff: {
        baseMs: num(process.env.SWITCHBOARD_AGENT_BACKOFF_BASE_MS, DEFAULT_BACKOFF.baseMs),
        maxMs: num(process.env.SWITCHBOARD_AGENT_BACKOFF_MAX_MS, DEFAULT_BACKOFF.maxMs),
        spreadMs: num(process.env.SWITCHBOARD_AGENT_RECONNECT_SPREAD_MS, DEFAULT_BACKOFF.spreadMs),
      },
      patchFirstMs: num(process.env.SWITCHBOARD_AGENT_PATCH_FIRST_SECONDS, 30) * 1000,
    });
    return new Promise<number>((resolve) => {
      client.once("retired", () => resolve(retire()));
      const stop = () => void client.stop().then(() => resolve(0));
      process.once("SIGINT", stop);
      process.once("SIGTERM", stop);
      client.start();
    });
  }
  process.stderr.write(USAGE);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err) => {
    process.stderr.write(`${(err as Error).stack ?? err}\n`);
    process.exit(1);
  },
);
