import type { SupportAgentDownload } from "@switchboard/shared";
import type { z } from "zod";
import type { AgentTarget } from "../../agents/builds.ts";

type Download = z.infer<typeof SupportAgentDownload>;
const BUILD_HINT = "this server has no build for it (an admin runs `npm run build:agent`)";

/**
 * How the caller runs the support agent, per OS: the same executable every agent gets (served by
 * /agent/download, nothing about the caller in it), into a fresh temporary folder, run as the caller's
 * own user with the code on its command line. Nothing is installed; the agent deletes itself at the end.
 */
export function supportDownloads(
  baseUrl: string,
  code: string,
  fingerprint: string,
  have: Set<AgentTarget>,
): Download[] {
  const args = `support --server ${baseUrl} --code ${code} --fingerprint ${fingerprint}`;
  const url = (t: AgentTarget) => `${baseUrl}/agent/download/${t}`;
  const unix = (byArch: Array<[string, AgentTarget]>) => {
    const cases = byArch.map(([p, t]) => `${p}) T=${t};;`).join(" ");
    return (
      `sh -c 'case "$(uname -m)" in ${cases} *) echo "no support agent for $(uname -m)" >&2; exit 1;; esac; ` +
      `D=$(mktemp -d) && curl -fsSL ${baseUrl}/agent/download/$T -o "$D/switchboard-support" && ` +
      `chmod 700 "$D/switchboard-support" && "$D/switchboard-support" ${args}'`
    );
  };
  const out: Download[] = [];

  const linux: Array<[string, AgentTarget]> = [];
  if (have.has("linux-x64")) linux.push(["x86_64|amd64", "linux-x64"]);
  if (have.has("linux-arm64")) linux.push(["aarch64|arm64", "linux-arm64"]);
  out.push({
    key: "linux",
    label: "Linux",
    available: linux.length > 0,
    url: linux[0] ? url(linux[0][1]) : null,
    command: linux.length ? unix(linux) : null,
    note: linux.length ? null : `No Linux support agent: ${BUILD_HINT}.`,
  });

  const macs: Array<[string, AgentTarget]> = [];
  if (have.has("darwin-arm64")) macs.push(["arm64", "darwin-arm64"]);
  // Apple Silicon runs the Intel build through Rosetta 2 when there is no native one.
  if (have.has("darwin-x64")) macs.push([have.has("darwin-arm64") ? "x86_64" : "x86_64|arm64", "darwin-x64"]);
  out.push({
    key: "macos",
    label: "macOS",
    available: macs.length > 0,
    url: macs[0] ? url(macs[0][1]) : null,
    command: macs.length ? unix(macs) : null,
    note: macs.length ? null : `No macOS support agent: ${BUILD_HINT}.`,
  });

  const win = have.has("win-x64");
  out.push({
    key: "windows",
    label: "Windows",
    available: win,
    url: win ? url("win-x64") : null,
    command: win
      ? `powershell -NoProfile -Command "$ProgressPreference='SilentlyContinue'; ` +
        `$d=New-Item -ItemType Directory -Force (Join-Path $env:TEMP ('switchboard-support-'+[guid]::NewGuid())); ` +
        `$f=Join-Path $d 'switchboard-support.exe'; ` +
        `Invoke-WebRequest -UseBasicParsing ${url("win-x64")} -OutFile $f; & $f ${args}"`
      : null,
    note: win
      ? "On Windows the technician gets file transfers only: the agent has no shell there yet."
      : `No Windows support agent: ${BUILD_HINT}.`,
  });
  return out;
}
