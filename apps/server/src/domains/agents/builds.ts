import { existsSync } from "node:fs";
import path from "node:path";

/** Where `npm run build:agent` leaves the executables. */
export const AGENT_DIST = path.resolve(import.meta.dirname, "../../../../agent/dist");

/** What `npm run build:agent` leaves in apps/agent/dist, by download name. */
export const AGENT_FILES = {
  "linux-x64": "switchboard-agent-linux-x64",
  "linux-arm64": "switchboard-agent-linux-arm64",
  "win-x64": "switchboard-agent-win-x64.exe",
  // WinSW, the wrapper that makes the agent a Windows service; it goes beside switchboard-agent.exe.
  "windows-service": "switchboard-agent-service.exe",
  "darwin-x64": "switchboard-agent-darwin-x64",
  "darwin-arm64": "switchboard-agent-darwin-arm64",
} as const;
export type AgentTarget = keyof typeof AGENT_FILES;

/** The downloads this server can serve right now (a fresh `npm start` has none until `npm run build:agent`). */
export function availableBuilds(dist = AGENT_DIST): Set<AgentTarget> {
  return new Set(
    (Object.keys(AGENT_FILES) as AgentTarget[]).filter((t) => existsSync(path.join(dist, AGENT_FILES[t]))),
  );
}

export interface PlatformInstall {
  key: "linux" | "macos" | "windows";
  /** The command works on this server: every file it downloads is here. */
  available: boolean;
  command: string | null;
  /** What the technician is told: what is missing and how to get it, or a caveat. */
  note: string | null;
}

const BUILD_HINT = "run `npm run build:agent` on the server (apps/agent/README.md)";

/**
 * One shell line downloading the build for the machine's architecture (`uname -m`), among the builds
 * there are: a Unix command picks at run time, so the same line serves Intel and Apple Silicon Macs.
 */
function unixDownload(
  baseUrl: string,
  byArch: Array<[pattern: string, target: AgentTarget]>,
  fallback?: AgentTarget,
) {
  const dest = "/usr/local/bin/switchboard-agent";
  const cases = byArch.map(([p, t]) => `${p}) T=${t};;`).join(" ");
  const otherwise = fallback
    ? `*) T=${fallback};;`
    : `*) echo "no Switchboard agent for $(uname -m)" >&2; exit 1;;`;
  return `case "$(uname -m)" in ${cases} ${otherwise} esac && curl -fsSL ${baseUrl}/agent/download/$T -o ${dest} && chmod 755 ${dest}`;
}

/**
 * The install command per OS for what this server has built, or why there is none. Rosetta 2 runs the
 * Intel build on Apple Silicon, so with only darwin-x64 built both kinds of Mac are served (said so).
 */
export function platformInstalls(
  baseUrl: string,
  token: string,
  fingerprint: string,
  have: Set<AgentTarget>,
): PlatformInstall[] {
  const args = `--server ${baseUrl} --token ${token} --fingerprint ${fingerprint}`;
  const install = `sudo /usr/local/bin/switchboard-agent install ${args}`;
  const out: PlatformInstall[] = [];

  const linux: Array<[string, AgentTarget]> = [];
  if (have.has("linux-x64")) linux.push(["x86_64|amd64", "linux-x64"]);
  if (have.has("linux-arm64")) linux.push(["aarch64|arm64", "linux-arm64"]);
  out.push(
    linux.length
      ? {
          key: "linux",
          available: true,
          command: `sh -c '${unixDownload(baseUrl, linux)} && ${install}'`,
          note: linux.length === 1 ? `Only the ${linux[0]?.[1]} build is on this server.` : null,
        }
      : {
          key: "linux",
          available: false,
          command: null,
          note: `No Linux build on this server: ${BUILD_HINT}.`,
        },
  );

  const armMac = have.has("darwin-arm64");
  const intelMac = have.has("darwin-x64");
  out.push(
    armMac || intelMac
      ? {
          key: "macos",
          available: true,
          command: `sh -c '${unixDownload(
            baseUrl,
            [
              ...(armMac ? ([["arm64", "darwin-arm64"]] as Array<[string, AgentTarget]>) : []),
              ...(intelMac ? ([["x86_64", "darwin-x64"]] as Array<[string, AgentTarget]>) : []),
            ],
            // Apple Silicon runs the Intel build through Rosetta 2 when there is no native one.
            !armMac && intelMac ? "darwin-x64" : undefined,
          )} && ${install}'`,
          note: armMac
            ? intelMac
              ? null
              : "Only the Apple Silicon build is on this server: Intel Macs are not served."
            : "Apple Silicon Macs run the Intel build through Rosetta 2 (softwareupdate --install-rosetta).",
        }
      : {
          key: "macos",
          available: false,
          command: null,
          note: `No macOS build on this server: ${BUILD_HINT}.`,
        },
  );

  const win = have.has("win-x64") && have.has("windows-service");
  out.push(
    win
      ? {
          key: "windows",
          available: true,
          // For an elevated Command Prompt. The agent and WinSW (which makes it a Windows service) go in
          // one folder; a running service is stopped first so its files can be replaced.
          command:
            `powershell -NoProfile -Command "$ProgressPreference='SilentlyContinue'; ` +
            `Stop-Service SwitchboardAgent -ErrorAction SilentlyContinue; ` +
            `Set-Location (New-Item -ItemType Directory -Force ($env:ProgramFiles+'\\Switchboard')); ` +
            `Invoke-WebRequest -UseBasicParsing ${baseUrl}/agent/download/win-x64 -OutFile switchboard-agent.exe; ` +
            `Invoke-WebRequest -UseBasicParsing ${baseUrl}/agent/download/windows-service -OutFile switchboard-agent-service.exe; ` +
            `.\\switchboard-agent.exe install ${args}"`,
          note: null,
        }
      : {
          key: "windows",
          available: false,
          command: null,
          note: `No Windows build on this server (${[
            ...(have.has("win-x64") ? [] : ["switchboard-agent-win-x64.exe"]),
            ...(have.has("windows-service") ? [] : ["switchboard-agent-service.exe"]),
          ].join(" and ")} missing): ${BUILD_HINT}.`,
        },
  );
  return out;
}
