import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface StubSms {
  to: string;
  from: string;
  body: string;
  accountSid: string;
}

/**
 * A loopback stand-in for Twilio's Messages API (the only thing outside the machine that SMS tests
 * need): records what was sent, and can be told to fail (`failNext(status, message)`).
 */
export async function startSmsStub(opts: { accountSid?: string; authToken?: string } = {}) {
  const accountSid = opts.accountSid ?? "ACtest";
  const authToken = opts.authToken ?? "test-token";
  const messages: StubSms[] = [];
  const failures: Array<{ status: number; message: string }> = [];
  let seq = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const reply = (status: number, body: unknown) => {
        res.writeHead(status, { "content-type": "application/json" });
        res.end(JSON.stringify(body));
      };
      const expected = `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString("base64")}`;
      const match = req.url?.match(/^\/2010-04-01\/Accounts\/([^/]+)\/Messages\.json$/);
      if (req.method !== "POST" || !match) return reply(404, { code: 20404, message: "not found" });
      if (req.headers.authorization !== expected || decodeURIComponent(match[1]!) !== accountSid) {
        return reply(401, { code: 20003, message: "Authenticate" });
      }
      const failure = failures.shift();
      if (failure) return reply(failure.status, { code: 30000, message: failure.message });
      const form = new URLSearchParams(Buffer.concat(chunks).toString("utf8"));
      const msg = {
        to: form.get("To") ?? "",
        from: form.get("From") ?? "",
        body: form.get("Body") ?? "",
        accountSid,
      };
      messages.push(msg);
      reply(201, { sid: `SM${String(++seq).padStart(32, "0")}`, status: "queued", to: msg.to });
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    accountSid,
    authToken,
    messages,
    /** Config for the server under test. */
    env: {
      SMS_API_URL: `http://127.0.0.1:${port}`,
      SMS_ACCOUNT_SID: accountSid,
      SMS_AUTH_TOKEN: authToken,
      SMS_FROM: "+15005550006",
    },
    failNext(status: number, message: string) {
      failures.push({ status, message });
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
