import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { RETIRED_MARKER } from "./service-files.ts";

/** What enrollment leaves on disk; the private key never leaves the machine. */
export interface AgentState {
  serverUrl: string;
  gatewayPath: string;
  deviceId: string;
  /** PKCS#8 PEM of the device's Ed25519 key. */
  privateKeyPem: string;
  publicKey: string;
  /** The pinned server key (base64 SPKI DER): welcomes and commands signed by anything else are refused. */
  serverPublicKey: string;
}

export function defaultStateDir(): string {
  if (process.env.SWITCHBOARD_AGENT_STATE_DIR) return process.env.SWITCHBOARD_AGENT_STATE_DIR;
  if (process.platform === "win32")
    return path.join(process.env.ProgramData ?? "C:\\ProgramData", "Switchboard");
  if (process.platform === "darwin") return "/Library/Application Support/Switchboard";
  return "/var/lib/switchboard-agent";
}

/** Writes via a temp file and rename, readable only by the agent's user (the key is in it). */
export function writePrivateJson(file: string, value: unknown) {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.tmp`;
  writeFileSync(tmp, JSON.stringify(value, null, 2), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
}

export const stateFile = (dir: string) => path.join(dir, "agent.json");

export function loadState(dir: string): AgentState | null {
  const file = stateFile(dir);
  if (!existsSync(file)) return null;
  return JSON.parse(readFileSync(file, "utf8")) as AgentState;
}

export function saveState(dir: string, state: AgentState) {
  writePrivateJson(stateFile(dir), state);
}

/** The device was retired: set by the agent when the server says so, cleared by a new enrollment. */
export const retiredFile = (dir: string) => path.join(dir, RETIRED_MARKER);

export function isRetired(dir: string) {
  return existsSync(retiredFile(dir));
}
