import { execFileSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { createTransport } from "nodemailer";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, rand, type TestApp } from "../../../test/helpers.ts";
import { loadConfig } from "../../config.ts";
import { startSmtpListener } from "./smtp-listener.ts";
import { startEmailStack, waitFor } from "./test-support.ts";

describe("SMTP listener with a certificate", () => {
  let t: TestApp;
  let stack: Awaited<ReturnType<typeof startEmailStack>>;
  let dir: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "switchboard-tls-"));
    // A throwaway self-signed certificate, as an operator's real one would be configured.
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=mx.test",
        "-keyout",
        path.join(dir, "key.pem"),
        "-out",
        path.join(dir, "cert.pem"),
      ],
      { stdio: "ignore" },
    );
    t = await createTestApp();
    stack = await startEmailStack({ db: t.db, blobs: t.deps.blobs, config: t.deps.config }, t.url, {
      listener: false,
      workers: false,
    });
  });

  afterAll(async () => {
    await stack?.stop();
    await t?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("offers STARTTLS and accepts mail over it; without a certificate it offers none", async () => {
    const config = loadConfig({
      SWITCHBOARD_DATA_DIR: t.deps.config.dataDir,
      SWITCHBOARD_SMTP_TLS_CERT: path.join(dir, "cert.pem"),
      SWITCHBOARD_SMTP_TLS_KEY: path.join(dir, "key.pem"),
    });
    const listener = await startSmtpListener({ ...stack.deps, config }, { port: 0, host: "127.0.0.1" });
    const plain = await startSmtpListener(stack.deps, { port: 0, host: "127.0.0.1" });
    try {
      const id = `${rand("tls")}@mail.example`;
      const sender = `${rand("s")}@mail.example`;
      const secure = createTransport({
        host: "127.0.0.1",
        port: listener.port,
        requireTLS: true,
        tls: { rejectUnauthorized: false },
      });
      const info = await secure.sendMail({
        envelope: { from: sender, to: ["help@desk.example"] },
        raw: `From: a@mail.example\r\nSubject: over TLS\r\nMessage-ID: <${id}>\r\n\r\nencrypted\r\n`,
      });
      secure.close();
      expect(info.response).toMatch(/^250/);
      const row = await waitFor(() =>
        t.db
          .selectFrom("email_messages")
          .select(["status", "source"])
          .where("envelope_from", "=", sender)
          .executeTakeFirst(),
      );
      expect(row).toEqual({ status: "received", source: "smtp" });

      const insist = createTransport({ host: "127.0.0.1", port: plain.port, requireTLS: true });
      await expect(
        insist.sendMail({
          envelope: { from: "a@mail.example", to: ["x@desk.example"] },
          raw: "Subject: x\r\n\r\nx\r\n",
        }),
      ).rejects.toThrow(/STARTTLS/i);
      insist.close();
    } finally {
      await listener.close();
      await plain.close();
    }
  });
});
