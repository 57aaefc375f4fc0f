import type { Config } from "../config.ts";

/**
 * Text messages to phones: verification codes (identity), pages (on-call). One interface, one adapter
 * for Twilio's Messages API, which most SMS gateways also speak (SMS_API_URL points elsewhere). A
 * failure is thrown as SmsError with the provider's reason; callers record it on what they were doing
 * (a verification, a page) and retry or escalate: nothing is dropped silently.
 */
export interface SmsMessage {
  /** E.164, e.g. +15175550123. */
  to: string;
  body: string;
}

export interface SmsProvider {
  readonly name: string;
  send(message: SmsMessage): Promise<{ providerId: string }>;
}

export class SmsError extends Error {
  /** False when retrying cannot help (a refused number, bad credentials). */
  readonly retryable: boolean;
  constructor(message: string, retryable: boolean) {
    super(message);
    this.retryable = retryable;
  }
}

const E164 = /^\+[1-9]\d{6,14}$/;

/** Twilio-compatible: POST {base}/2010-04-01/Accounts/{sid}/Messages.json, form-encoded, Basic auth. */
export class TwilioSmsProvider implements SmsProvider {
  readonly name = "twilio";
  private readonly opts: {
    baseUrl: string;
    accountSid: string;
    authToken: string;
    from: string;
    timeoutMs: number;
  };

  constructor(opts: {
    baseUrl: string;
    accountSid: string;
    authToken: string;
    from: string;
    timeoutMs?: number;
  }) {
    this.opts = { ...opts, baseUrl: opts.baseUrl.replace(/\/$/, ""), timeoutMs: opts.timeoutMs ?? 10_000 };
  }

  async send(message: SmsMessage): Promise<{ providerId: string }> {
    if (!E164.test(message.to))
      throw new SmsError(`"${message.to}" is not a phone number in E.164 form`, false);
    const { baseUrl, accountSid, authToken, from, timeoutMs } = this.opts;
    let res: Response;
    try {
      res = await fetch(`${baseUrl}/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`, {
        method: "POST",
        headers: {
          authorization: `Basic ${Buffer.from(`${accountSid}:${authToken}`).toString("base64")}`,
          "content-type": "application/x-www-form-urlencoded",
        },
        body: new URLSearchParams({ To: message.to, From: from, Body: message.body }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new SmsError(`the SMS provider could not be reached: ${(err as Error).message}`, true);
    }
    const text = await res.text();
    let json: { sid?: string; message?: string; code?: number } = {};
    try {
      json = JSON.parse(text) as typeof json;
    } catch {
      // a proxy's HTML error page: the status says enough
    }
    if (!res.ok || !json.sid) {
      const reason = json.message ?? `HTTP ${res.status}`;
      // 4xx (but 429) will fail the same way again: a bad number, bad credentials.
      throw new SmsError(
        `the SMS provider refused the message: ${reason}`,
        res.status >= 500 || res.status === 429,
      );
    }
    return { providerId: json.sid };
  }
}

/** The configured provider, or null when SMS is not set up (callers then offer no SMS method). */
export function smsProviderFromConfig(
  config: Pick<Config, "SMS_API_URL" | "SMS_ACCOUNT_SID" | "SMS_AUTH_TOKEN" | "SMS_FROM">,
): SmsProvider | null {
  if (!config.SMS_ACCOUNT_SID || !config.SMS_AUTH_TOKEN || !config.SMS_FROM) return null;
  return new TwilioSmsProvider({
    baseUrl: config.SMS_API_URL,
    accountSid: config.SMS_ACCOUNT_SID,
    authToken: config.SMS_AUTH_TOKEN,
    from: config.SMS_FROM,
  });
}
