import { createHash, generateKeyPairSync, randomUUID, sign } from "node:crypto";
import { mkdtemp, readFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {
  type RemoteAgentFrame,
  type RemoteRequest,
  RemoteServerFrame,
  remoteFileMessage,
  remoteOpenMessage,
} from "@switchboard/shared";
import { beforeEach, describe, expect, it } from "vitest";
import { ReplayGuard } from "../commands/verify.ts";
import { silentLog } from "../log.ts";
import { RemoteSessions } from "./sessions.ts";

const server = generateKeyPairSync("ed25519");
const forger = generateKeyPairSync("ed25519");
const deviceId = randomUUID();

function openFrame(
  request: RemoteRequest,
  opts: { key?: typeof server.privateKey; device?: string; issued?: number; ttl?: number; id?: string } = {},
) {
  const issued = opts.issued ?? Date.now();
  const payload = JSON.stringify({
    v: 1,
    id: opts.id ?? randomUUID(),
    deviceId: opts.device ?? deviceId,
    issuedAt: new Date(issued).toISOString(),
    expiresAt: new Date(issued + (opts.ttl ?? 60_000)).toISOString(),
    request,
  });
  const signature = sign(
    null,
    Buffer.from(remoteOpenMessage(payload)),
    opts.key ?? server.privateKey,
  ).toString("base64");
  return { type: "remote.open", payload, signature };
}

const parse = (raw: unknown) => RemoteServerFrame.safeParse(raw).data ?? null;
const shell: RemoteRequest = { kind: "shell", cols: 80, rows: 24, idleTimeoutSeconds: 60 };

// The agent's side of remote sessions: nothing opens unless signed by the pinned key, fresh, addressed to
// this device and never seen before.
describe("remote sessions on the agent", () => {
  let sent: RemoteAgentFrame[];
  let sessions: RemoteSessions;
  let stateDir: string;

  beforeEach(async () => {
    sent = [];
    stateDir = await mkdtemp(path.join(os.tmpdir(), "sb-agent-remote-"));
    sessions = new RemoteSessions({
      serverKey: server.publicKey,
      deviceId,
      guard: new ReplayGuard(stateDir),
      serverNow: () => Date.now(),
      send: (f) => sent.push(f),
      log: silentLog,
    });
  });

  it("refuses forged, stale, misaddressed and replayed opens, and runs nothing", () => {
    sessions.onFrame(openFrame(shell, { key: forger.privateKey }), parse);
    sessions.onFrame(openFrame(shell, { issued: Date.now() - 120_000 }), parse);
    sessions.onFrame(openFrame(shell, { device: randomUUID() }), parse);
    sessions.onFrame(openFrame(shell, { ttl: 3600_000 }), parse);
    sessions.onFrame({ ...openFrame(shell), payload: "{}" }, parse);
    expect(sent.map((f) => f.type === "remote.rejected" && f.reason)).toEqual([
      "bad_signature",
      "expired",
      "wrong_device",
      "malformed",
      "bad_signature",
    ]);
    expect(sessions.count).toBe(0);
  });

  it.skipIf(process.platform !== "linux")(
    "opens a shell once; the same signed open again is a replay",
    async () => {
      const frame = openFrame(shell);
      sessions.onFrame(frame, parse);
      expect(sent[0]).toMatchObject({ type: "remote.opened" });
      sessions.onFrame(frame, parse);
      expect(sent[1]).toMatchObject({ type: "remote.rejected", reason: "replayed" });
      expect(sessions.count).toBe(1);
      // A malformed frame about the session ends it (and only it).
      const id = (sent[0] as { sessionId: string }).sessionId;
      sessions.onFrame({ type: "remote.resize", sessionId: id, cols: "wide" }, parse);
      expect(sent.at(-1)).toMatchObject({ type: "remote.closed", sessionId: id, failed: true });
      expect(sessions.count).toBe(0);
    },
  );

  it("keeps an upload only when the signed end matches what arrived", async () => {
    const data = Buffer.from("hello from the technician\n");
    const digest = createHash("sha256").update(data).digest("hex");
    const put = async (signedSha: string, key = server.privateKey) => {
      const target = path.join(stateDir, `${randomUUID()}.txt`);
      const frame = openFrame({ kind: "file.put", path: target, size: data.length });
      const id = JSON.parse(frame.payload).id as string;
      sessions.onFrame(frame, parse);
      sessions.onFrame({ type: "remote.data", sessionId: id, data: data.toString("base64") }, parse);
      const signature = sign(null, Buffer.from(remoteFileMessage(id, data.length, signedSha)), key).toString(
        "base64",
      );
      sessions.onFrame(
        { type: "remote.file.end", sessionId: id, size: data.length, sha256: signedSha, signature },
        parse,
      );
      for (let i = 0; i < 100 && !sent.some((f) => f.type === "remote.closed" && f.sessionId === id); i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      return { target, closed: sent.find((f) => f.type === "remote.closed" && f.sessionId === id) };
    };
    const good = await put(digest);
    expect(good.closed).toMatchObject({ reason: "done", failed: false });
    expect(await readFile(good.target, "utf8")).toBe(data.toString());
    const forged = await put(digest, forger.privateKey);
    expect(forged.closed).toMatchObject({
      failed: true,
      reason: "the end of the upload is not signed by the server",
    });
    await expect(readFile(forged.target)).rejects.toThrow();
    const wrong = await put("0".repeat(64));
    expect(wrong.closed).toMatchObject({ failed: true, reason: "size or SHA-256 differ" });
  });
});
