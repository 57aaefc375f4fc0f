import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { launchdPlist, systemdQuote, systemdUnit, WINDOWS_SERVICE_ID, winswXml } from "./service-files.ts";

// The files are read back by real parsers (Python's expat-based ElementTree and plistlib, which every
// machine of this project has), not by string matching: a missing escape makes them fail or misread.
interface El {
  tag: string;
  attrib: Record<string, string>;
  text: string;
  children: El[];
}

function parseXml(xml: string): El {
  const script = `
import json, sys, xml.etree.ElementTree as ET
def el(e): return {"tag": e.tag, "attrib": e.attrib, "text": (e.text or "").strip(), "children": [el(c) for c in e]}
print(json.dumps(el(ET.fromstring(sys.stdin.buffer.read()))))`;
  return JSON.parse(execFileSync("python3", ["-c", script], { input: xml, encoding: "utf8" }));
}

function parsePlist(xml: string) {
  const script = `
import json, plistlib, sys
print(json.dumps(plistlib.loads(sys.stdin.buffer.read(), fmt=plistlib.FMT_XML)))`;
  return JSON.parse(execFileSync("python3", ["-c", script], { input: xml, encoding: "utf8" }));
}

const all = (root: El, tag: string) => root.children.filter((c) => c.tag === tag);
const one = (root: El, tag: string) => {
  const found = all(root, tag);
  expect(found, `<${tag}>`).toHaveLength(1);
  return found[0]!;
};

describe("the WinSW service configuration", () => {
  const exe = "C:\\Program Files\\R&D <Tools>\\switchboard-agent.exe";
  const stateDir = "C:\\ProgramData\\Switch & <Board>\\";

  it("names the agent and its arguments exactly, whatever the paths hold", () => {
    const svc = parseXml(winswXml(exe, stateDir));
    expect(svc.tag).toBe("service");
    expect(one(svc, "id").text).toBe(WINDOWS_SERVICE_ID);
    expect(one(svc, "executable").text).toBe(exe);
    // The trailing backslash is gone: WinSW quotes an argument with a space, and "...\" would escape it.
    expect(all(svc, "argument").map((a) => a.text)).toEqual([
      "run",
      "--state-dir",
      "C:\\ProgramData\\Switch & <Board>",
    ]);
    expect(all(svc, "arguments")).toEqual([]);
    expect(one(svc, "env").attrib).toEqual({
      name: "SWITCHBOARD_AGENT_WINDOWS_SERVICE",
      value: WINDOWS_SERVICE_ID,
    });
    expect(one(svc, "logpath").text).toBe("C:\\ProgramData\\Switch & <Board>\\logs");
  });

  it("starts at boot, restarts after a crash with a delay, and keeps bounded logs", () => {
    const svc = parseXml(winswXml(exe, stateDir));
    expect(one(svc, "startmode").text).toBe("Automatic");
    const failures = all(svc, "onfailure").map((f) => f.attrib);
    expect(failures.length).toBeGreaterThan(0);
    for (const f of failures)
      expect(f).toMatchObject({ action: "restart", delay: expect.stringMatching(/^[1-9]\d* sec$/) });
    expect(one(svc, "resetfailure").text).toBe("1 hour");
    expect(one(svc, "stoptimeout").text).toBe("15 sec");
    const log = one(svc, "log");
    expect(log.attrib.mode).toBe("roll-by-size");
    expect(Number(one(log, "sizeThreshold").text)).toBeGreaterThan(0);
    expect(Number(one(log, "keepFiles").text)).toBeGreaterThan(0);
  });

  it("has <service> as its first node, where WinSW 1.17 looks for stoptimeout and resetfailure", () => {
    expect(winswXml(exe, stateDir).startsWith("<service>")).toBe(true);
  });

  it("keeps a drive root as it is", () => {
    expect(all(parseXml(winswXml(exe, "D:\\")), "argument").map((a) => a.text)).toEqual([
      "run",
      "--state-dir",
      "D:\\",
    ]);
  });
});

describe("the launchd daemon", () => {
  const exe = "/Applications/R&D <x>/switchboard-agent";
  const stateDir = "/Library/Application Support/Switch & <Board>";

  it("runs the agent with its arguments and stops restarting it once the device is retired", () => {
    const plist = parsePlist(launchdPlist(exe, stateDir));
    expect(plist).toEqual({
      Label: "com.switchboard.agent",
      ProgramArguments: [exe, "run", "--state-dir", stateDir],
      RunAtLoad: true,
      KeepAlive: { PathState: { [`${stateDir}/retired`]: false } },
      StandardErrorPath: "/Library/Logs/switchboard-agent.log",
    });
  });
});

describe("the systemd unit", () => {
  it("restarts the agent except after exit code 3", () => {
    const unit = systemdUnit("/usr/local/bin/switchboard-agent", "/var/lib/switchboard-agent");
    const service = unit.slice(unit.indexOf("[Service]"), unit.indexOf("[Install]"));
    expect(service).toMatch(/^Restart=always$/m);
    expect(service).toMatch(/^RestartPreventExitStatus=3$/m);
    expect(service).toMatch(/^RestartSec=[1-9]\d*$/m);
    expect(service).toMatch(
      /^ExecStart="\/usr\/local\/bin\/switchboard-agent" run --state-dir "\/var\/lib\/switchboard-agent"$/m,
    );
  });

  it("quotes paths so spaces, quotes, % and $ reach the agent unchanged", () => {
    expect(systemdQuote('/opt/my agent/50%/$HOME/"x"\\y')).toBe('"/opt/my agent/50%%/$$HOME/\\"x\\"\\\\y"');
    expect(() => systemdQuote("/opt/a\nb")).toThrow(/line break/);
  });
});
