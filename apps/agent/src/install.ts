import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";

/** The unit that keeps the agent running; exit code 3 (device retired) is final. */
export function systemdUnit(exe: string, stateDir: string) {
  return `[Unit]
Description=Switchboard agent
After=network-online.target
Wants=network-online.target

[Service]
ExecStart=${exe} run --state-dir ${stateDir}
Restart=always
RestartSec=10
RestartPreventExitStatus=3

[Install]
WantedBy=multi-user.target
`;
}

export function launchdPlist(exe: string, stateDir: string) {
  return `<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key><string>com.switchboard.agent</string>
  <key>ProgramArguments</key>
  <array><string>${exe}</string><string>run</string><string>--state-dir</string><string>${stateDir}</string></array>
  <key>RunAtLoad</key><true/>
  <key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>
  <key>StandardErrorPath</key><string>/Library/Logs/switchboard-agent.log</string>
</dict>
</plist>
`;
}

/** Registers the agent with the OS service manager and starts it. */
export function installService(exe: string, stateDir: string, log: (msg: string) => void) {
  if (process.platform === "linux") {
    const unit = "/etc/systemd/system/switchboard-agent.service";
    writeFileSync(unit, systemdUnit(exe, stateDir), { mode: 0o644 });
    execFileSync("systemctl", ["daemon-reload"]);
    execFileSync("systemctl", ["enable", "--now", "switchboard-agent.service"]);
    log(`installed ${unit} and started it`);
  } else if (process.platform === "darwin") {
    const plist = "/Library/LaunchDaemons/com.switchboard.agent.plist";
    mkdirSync(path.dirname(plist), { recursive: true });
    writeFileSync(plist, launchdPlist(exe, stateDir), { mode: 0o644 });
    execFileSync("launchctl", ["bootstrap", "system", plist]);
    log(`installed ${plist} and loaded it`);
  } else if (process.platform === "win32") {
    // A Node single executable cannot answer the Service Control Manager, so on Windows the agent runs
    // as a startup task under SYSTEM. Unlike systemd and launchd, nothing restarts it after a crash
    // until the next boot (see apps/agent/README.md).
    execFileSync("schtasks.exe", [
      "/Create",
      "/F",
      "/TN",
      "Switchboard Agent",
      "/SC",
      "ONSTART",
      "/RU",
      "SYSTEM",
      "/RL",
      "HIGHEST",
      "/TR",
      `"${exe}" run --state-dir "${stateDir}"`,
    ]);
    execFileSync("schtasks.exe", ["/Run", "/TN", "Switchboard Agent"]);
    log("registered and started the 'Switchboard Agent' startup task");
  } else {
    throw new Error(`no service manager support for ${process.platform}`);
  }
}
