import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startSmsStub } from "../../test/sms-stub.ts";
import { SmsError, TwilioSmsProvider } from "./sms.ts";

describe("SMS through a Twilio-compatible API", () => {
  let stub: Awaited<ReturnType<typeof startSmsStub>>;
  beforeAll(async () => {
    stub = await startSmsStub();
  });
  afterAll(() => stub.close());

  const provider = (authToken = "test-token") =>
    new TwilioSmsProvider({
      baseUrl: stub.url,
      accountSid: stub.accountSid,
      authToken,
      from: "+15005550006",
    });

  it("delivers the text to the number and returns the provider's id", async () => {
    const sent = await provider().send({ to: "+15175550123", body: "Your code is 123456" });
    expect(sent.providerId).toMatch(/^SM/);
    expect(stub.messages.at(-1)).toMatchObject({
      to: "+15175550123",
      from: "+15005550006",
      body: "Your code is 123456",
    });
  });

  it("says why a message was refused, and whether a retry can help", async () => {
    await expect(provider("wrong").send({ to: "+15175550123", body: "x" })).rejects.toMatchObject({
      message: "the SMS provider refused the message: Authenticate",
      retryable: false,
    });
    stub.failNext(503, "Service unavailable");
    await expect(provider().send({ to: "+15175550123", body: "x" })).rejects.toMatchObject({
      retryable: true,
    });
    await expect(provider().send({ to: "555-0123", body: "x" })).rejects.toBeInstanceOf(SmsError);
  });
});
