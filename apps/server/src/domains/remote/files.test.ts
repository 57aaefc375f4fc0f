import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readFile, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { AgentClient } from "../../../../agent/src/client.ts";
import { type GatewayApp, startGatewayApp } from "../../gateway/test-support.ts";
import { CALM, connectedAgent, makeTicket } from "./test-support.ts";

const sha = (b: Buffer) => createHash("sha256").update(b).digest("hex");

function multipart(filename: string, data: Buffer) {
  const boundary = `----sb${randomBytes(8).toString("hex")}`;
  const body = Buffer.concat([
    Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${filename}"\r\nContent-Type: application/octet-stream\r\n\r\n`,
    ),
    data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  ]);
  return { body, headers: { "content-type": `multipart/form-data; boundary=${boundary}` } };
}

// Files moved to and from a device through the agent's connection, hashed at both ends.
describe("remote files", () => {
  let t: GatewayApp;
  let agent: AgentClient;
  let deviceId: string;
  let auth: Record<string, string>;
  let clientId: string;
  let dir: string;
  const LIMIT = 3 * 1024 * 1024;

  beforeAll(async () => {
    t = await startGatewayApp({ ...CALM, REMOTE_FILE_MAX_BYTES: String(LIMIT) });
    const a = await connectedAgent(t);
    agent = a.agent;
    deviceId = a.deviceId;
    auth = a.admin.auth;
    clientId = a.client.id;
    dir = await mkdtemp(path.join(os.tmpdir(), "sb-files-"));
  });
  afterAll(async () => {
    await agent?.stop();
    await t?.close();
  });

  const upload = (target: string, data: Buffer, query = "") => {
    const m = multipart(path.basename(target), data);
    return t.app.inject({
      method: "POST",
      url: `/api/v1/devices/${deviceId}/files?path=${encodeURIComponent(target)}${query}`,
      headers: { ...auth, ...m.headers },
      payload: m.body,
    });
  };
  const download = (p: string, ticketId?: string) =>
    t.app.inject({
      method: "POST",
      url: `/api/v1/devices/${deviceId}/file-downloads`,
      headers: auth,
      payload: { path: p, ticketId },
    });

  it("round-trips a file with the same SHA-256, recorded on the ticket", async () => {
    const ticket = await makeTicket(t, auth, clientId);
    const data = randomBytes(1_500_000);
    const target = path.join(dir, "report.bin");
    const up = await upload(target, data, `&ticketId=${ticket.id}`);
    expect(up.statusCode, up.body).toBe(200);
    expect(up.json()).toMatchObject({ kind: "file_upload", status: "closed", path: target });
    expect(up.json().file.sha256).toBe(sha(data));
    expect(sha(await readFile(target))).toBe(sha(data));

    const down = await download(target, ticket.id);
    expect(down.statusCode, down.body).toBe(200);
    expect(down.json()).toMatchObject({ kind: "file_download", status: "closed" });
    expect(down.json().file).toMatchObject({ name: "report.bin", sizeBytes: data.length, sha256: sha(data) });
    const file = await t.app.inject({
      method: "GET",
      url: `/api/v1/remote/sessions/${down.json().id}/file`,
      headers: auth,
    });
    expect(sha(file.rawPayload)).toBe(sha(data));
    // Both files are attachments of the ticket, and the timeline says what moved where.
    const attached = await t.db
      .selectFrom("attachments")
      .select("sha256")
      .where("ticket_id", "=", ticket.id)
      .execute();
    expect(attached.map((a) => a.sha256)).toEqual([sha(data), sha(data)]);
    const timeline = JSON.stringify(
      (
        await t.app.inject({ method: "GET", url: `/api/v1/tickets/${ticket.id}/timeline`, headers: auth })
      ).json(),
    );
    expect(timeline).toContain(`Remote file upload to ${target}`);
    expect(timeline).toContain(`Remote file download from ${target}`);
  });

  it("refuses files over the limit in both directions, and reports what went wrong on the device", async () => {
    const big = await upload(path.join(dir, "big.bin"), randomBytes(LIMIT + 1));
    expect(big.statusCode).toBe(413);
    const bigOnDevice = path.join(dir, "big-on-device.bin");
    await writeFile(bigOnDevice, randomBytes(LIMIT + 1));
    const refused = await download(bigOnDevice);
    expect(refused.json()).toMatchObject({ status: "failed" });
    expect(refused.json().lastError).toContain("over the limit");
    const missing = await download(path.join(dir, "nothing-here"));
    expect(missing.json()).toMatchObject({ status: "failed" });
    expect(missing.json().lastError).toContain("ENOENT");
    const noDir = await upload(path.join(dir, "no", "such", "dir.txt"), Buffer.from("x"));
    expect(noDir.json()).toMatchObject({ status: "failed" });
    const relative = await download("etc/passwd");
    expect(relative.statusCode).toBe(400);
  });
});
