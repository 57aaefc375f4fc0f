import { simpleParser } from "mailparser";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createTestApp,
  isolatedDatabase,
  makeClient,
  makeContact,
  makeUser,
  rand,
  type TestApp,
  type TestUser,
} from "../../../test/helpers.ts";
import { startEmailStack, startReceiver, waitFor } from "../email/test-support.ts";

let t: TestApp;
let stack: Awaited<ReturnType<typeof startEmailStack>>;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
let dispatcher: TestUser;
let tech: TestUser;

beforeAll(async () => {
  receiver = await startReceiver();
  const url = await isolatedDatabase();
  t = await createTestApp(
    {
      SWITCHBOARD_SMTP_RELAY_URL: `smtp://127.0.0.1:${receiver.port}`,
      SWITCHBOARD_EMAIL_FROM: "desk@msp.example",
    },
    url,
  );
  stack = await startEmailStack({ db: t.db, blobs: t.deps.blobs, config: t.deps.config }, url);
  t.deps.boss = stack.deps.boss;
  dispatcher = await makeUser(t, { role: "dispatcher" });
  tech = await makeUser(t);
});
afterAll(async () => {
  await stack?.stop();
  await receiver?.close();
  await t?.close();
});

const call = async (user: TestUser | null, method: string, url: string, payload?: unknown) => {
  const res = await t.app.inject({
    method: method as "GET",
    url,
    headers: user?.auth ?? {},
    payload: payload as object,
  });
  return { status: res.statusCode, body: res.json() };
};

describe("projects", () => {
  it("tracks estimate against actual per task, and the client approves the quote once by its link", async () => {
    const client = await makeClient(t);
    const email = `${rand("owner")}@client.example`;
    const contact = await makeContact(t, client.id, { firstName: "Riley", email });
    const created = await call(dispatcher, "POST", "/api/v1/projects", {
      clientId: client.id,
      name: "CRM rollout",
      contactId: contact.id,
      phases: ["Install", "Training"],
    });
    expect(created.status).toBe(201);
    const project = created.body;
    expect(project.ticketNumber).toBeGreaterThan(0);
    const [install, training] = project.phases;
    await call(dispatcher, "POST", `/api/v1/projects/${project.id}/tasks`, {
      phaseId: install.id,
      title: "Install and configure the CRM",
      estimateMinutes: 60,
    });
    const withTasks = (
      await call(dispatcher, "POST", `/api/v1/projects/${project.id}/tasks`, {
        phaseId: training.id,
        title: "Train the front desk",
        estimateMinutes: 90,
      })
    ).body;
    const task = withTasks.tasks[0];
    expect(
      (
        await call(tech, "POST", "/api/v1/time-entries", {
          projectTaskId: task.id,
          startedAt: "2026-11-10T15:00:00Z",
          minutes: 75,
          workType: "project",
        })
      ).status,
    ).toBe(201);
    const now = (await call(tech, "GET", `/api/v1/projects/${project.id}`)).body;
    expect(now.tasks[0]).toMatchObject({ estimateMinutes: 60, actualMinutes: 75 });
    expect(now).toMatchObject({ estimateMinutes: 150, actualMinutes: 75 });

    const priced = await call(dispatcher, "PATCH", `/api/v1/projects/${project.id}`, {
      version: now.version,
      quoteMinor: 180_000,
    });
    expect(priced.body.quoteMinor).toBe(180_000);
    const sent = await call(dispatcher, "POST", `/api/v1/projects/${project.id}/quote`, {
      contactId: contact.id,
    });
    expect(sent.body.quoteStatus).toBe("sent");
    const mail = await waitFor(async () => {
      for (const m of receiver.mails.filter((x) => x.to.includes(email))) {
        const parsed = await simpleParser(m.raw);
        if (parsed.text?.includes("/quote/")) return parsed;
      }
      return null;
    });
    const token = /\/quote\/(sbq_[\w-]+)/.exec(mail.text ?? "")![1]!;
    const view = await call(null, "GET", `/api/v1/public/quotes/${token}`);
    expect(view.body).toMatchObject({ projectName: "CRM rollout", quoteMinor: 180_000, status: "sent" });
    expect(view.body.phases.map((p: { name: string }) => p.name)).toEqual(["Install", "Training"]);
    expect((await call(null, "GET", `/api/v1/public/quotes/${token.slice(0, -1)}`)).status).toBe(404);
    const approved = await call(null, "POST", `/api/v1/public/quotes/${token}`, {
      decision: "approve",
      name: "Riley Owner",
    });
    expect(approved.body.status).toBe("approved");
    expect(
      (await call(null, "POST", `/api/v1/public/quotes/${token}`, { decision: "decline", name: "Someone" }))
        .status,
    ).toBe(409);
    const after = (await call(dispatcher, "GET", `/api/v1/projects/${project.id}`)).body;
    expect(after).toMatchObject({
      quoteStatus: "approved",
      status: "active",
      quoteDecisionNote: "Riley Owner",
    });
    // Approved means final: the amount no longer changes.
    expect(
      (
        await call(dispatcher, "PATCH", `/api/v1/projects/${project.id}`, {
          version: after.version,
          quoteMinor: 1,
        })
      ).status,
    ).toBe(409);
  });
});
