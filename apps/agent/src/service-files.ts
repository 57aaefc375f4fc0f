import path from "node:path";

// What the agent writes for each OS's service manager. Pure functions of the executable and state
// directory paths, so each can be checked without the OS it is for.

export const SYSTEMD_UNIT = "/etc/systemd/system/switchboard-agent.service";
export const LAUNCHD_LABEL = "com.switchboard.agent";
export const LAUNCHD_PLIST = `/Library/LaunchDaemons/${LAUNCHD_LABEL}.plist`;
/** The Windows service's name in the Service Control Manager. */
export const WINDOWS_SERVICE_ID = "SwitchboardAgent";
/** WinSW, shipped beside the agent under this name; it reads the same-named .xml beside itself. */
export const WRAPPER_EXE = "switchboard-agent-service.exe";
/** Set in the Windows service's environment: tells the agent it runs under the wrapper. */
export const SERVICE_ENV = "SWITCHBOARD_AGENT_WINDOWS_SERVICE";
/** Written to the state directory when the server retires the device; see `stayStopped`. */
export const RETIRED_MARKER = "retired";

/**
 * WinSW 1.17 is built for .NET 2.0; without this file beside it, a Windows without .NET 3.5 (the
 * default since Windows 8) refuses to run it instead of using the .NET 4 that every Windows has.
 * The same two lines as the winsw.exe.config that node-windows ships with it.
 */
export const WRAPPER_RUNTIME_CONFIG = `<configuration>
  <startup>
    <supportedRuntime version="v2.0.50727" />
    <supportedRuntime version="v4.0" />
  </startup>
</configuration>
`;

export function escapeXml(s: string) {
  return s
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/** One ExecStart word: quoted, with systemd's specifier (%) and variable ($) expansion turned off. */
export function systemdQuote(s: string) {
  if (/[\n\r]/.test(s))
    throw new Error(`a path for the systemd unit contains a line break: ${JSON.stringify(s)}`);
  return `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/%/g, "%%").replace(/\$/g, "$$$$")}"`;
}

/** The unit that keeps the agent running; exit code 3 (device retired) is final. */
export function systemdUnit(exe: string, stateDir: string) {
  return `[Unit]
Description=Switchboard agent
After=network-online.target
Wants=network-online.target

[Service]
ExecStart=${systemdQuote(exe)} run --state-dir ${systemdQuote(stateDir)}
Restart=always
RestartSec=10
RestartPreventExitStatus=3

[Install]
WantedBy=multi-user.target
`;
}

/**
 * launchd restarts the agent whenever it exits, until the retired marker exists: KeepAlive's
 * SuccessfulExit=false would restart it after exit code 3 too, since 3 is not a successful exit.
 */
export function launchdPlist(exe: string, stateDir: string) {
  const s = (v: string) => `<string>${escapeXml(v)}</string>`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key>${s(LAUNCHD_LABEL)}
  <key>ProgramArguments</key>
  <array>${s(exe)}${s("run")}${s("--state-dir")}${s(stateDir)}</array>
  <key>RunAtLoad</key><true/>
  <key>KeepAlive</key>
  <dict><key>PathState</key><dict><key>${escapeXml(path.posix.join(stateDir, RETIRED_MARKER))}</key><false/></dict></dict>
  <key>StandardErrorPath</key>${s("/Library/Logs/switchboard-agent.log")}
</dict>
</plist>
`;
}

/**
 * WinSW 1.17's configuration. It has no XML declaration on purpose: WinSW 1.17 reads resetfailure and
 * stoptimeout from the document's first node, which would then be the declaration, and it would
 * silently use its defaults. Each <argument> is quoted by WinSW when it holds a space; a trailing
 * backslash would then escape the closing quote, so the state directory is trimmed of them.
 */
export function winswXml(exe: string, stateDir: string) {
  const dir = trimSeparators(stateDir);
  const x = escapeXml;
  return `<service>
  <id>${WINDOWS_SERVICE_ID}</id>
  <name>Switchboard Agent</name>
  <description>Keeps this machine connected to Switchboard: inventory and remote commands.</description>
  <executable>${x(exe)}</executable>
  <argument>run</argument>
  <argument>--state-dir</argument>
  <argument>${x(dir)}</argument>
  <env name="${SERVICE_ENV}" value="${WINDOWS_SERVICE_ID}"/>
  <startmode>Automatic</startmode>
  <onfailure action="restart" delay="10 sec"/>
  <onfailure action="restart" delay="30 sec"/>
  <onfailure action="restart" delay="60 sec"/>
  <resetfailure>1 hour</resetfailure>
  <stoptimeout>15 sec</stoptimeout>
  <logpath>${x(path.win32.join(dir, "logs"))}</logpath>
  <log mode="roll-by-size">
    <sizeThreshold>10240</sizeThreshold>
    <keepFiles>8</keepFiles>
  </log>
</service>
`;
}

function trimSeparators(p: string) {
  const trimmed = p.replace(/[\\/]+$/, "");
  return /^[A-Za-z]:$/.test(trimmed) || trimmed === "" ? p : trimmed;
}
