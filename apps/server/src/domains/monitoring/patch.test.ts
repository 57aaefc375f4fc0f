import type { PatchReport } from "@switchboard/shared";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeUser } from "../../../test/helpers.ts";
import { runInScope } from "../../db/scope.ts";
import {
  enrollmentSetup,
  enrollRaw,
  type GatewayApp,
  rawAgent,
  startGatewayApp,
  waitFor,
} from "../../gateway/test-support.ts";

// Patch status end to end on the real server, gateway and database: simulated agents send their scans on
// the periodic summary; the device's Patch section, the client's rollup, and who may see them.

let t: GatewayApp;
let setup: Awaited<ReturnType<typeof enrollmentSetup>>;
let other: Awaited<ReturnType<typeof enrollmentSetup>>;
const api = (url: string, headers = setup.admin.auth) => t.app.inject({ method: "GET", url, headers });

beforeAll(async () => {
  t = await startGatewayApp({ AGENT_HEARTBEAT_SECONDS: "60" });
  setup = await enrollmentSetup(t, { maxUses: 10 });
  other = await enrollmentSetup(t, { maxUses: 10 });
});
afterAll(() => t?.close());

const DAY = 86_400_000;
const ago = (days: number) => new Date(Date.now() - days * DAY).toISOString();
const report = (over: Partial<PatchReport> = {}): PatchReport => ({
  source: "apt",
  updates: [],
  rebootPending: false,
  rebootSince: null,
  lastInstallAt: null,
  collectedAt: new Date().toISOString(),
  ...over,
});

/** A device whose agent sends one summary carrying `patch`; resolves once the server stored it. */
async function deviceReporting(token: string, patch: PatchReport) {
  const e = await enrollRaw(t, token);
  const agent = await rawAgent(t.wsUrl, { deviceId: e.deviceId, key: e.key, features: ["checks"] });
  // Authenticated once its checks arrive (none here): frames before that are not the device's.
  await waitFor("the checks frame", async () =>
    agent.frames.some((f) => (f as { type: string }).type === "checks"),
  );
  agent.send({ type: "check.results", summary: true, results: [], patch });
  await waitFor("the patch status", async () =>
    t.db
      .selectFrom("patch_status")
      .select("collected_at")
      .where("device_id", "=", e.deviceId)
      .where("collected_at", "=", new Date(patch.collectedAt))
      .executeTakeFirst(),
  );
  return { deviceId: e.deviceId, agent };
}

describe("patch status", () => {
  it("stores each device's report and rolls the client up: severities, oldest, installs, reboots", async () => {
    const a = await deviceReporting(
      setup.token.token,
      report({
        updates: [
          { name: "openssl", current: "3.0.11", available: "3.0.15", security: true },
          { name: "tzdata", current: "2024a", available: "2025b", security: false },
        ],
        rebootPending: true,
        rebootSince: ago(2),
        lastInstallAt: ago(40),
      }),
    );
    const win = await deviceReporting(
      setup.token.token,
      report({
        source: "windows_update",
        updates: [
          { name: "KB5040000", security: true, severity: "Critical", releasedAt: ago(45) },
          { name: "KB5040001", security: true, severity: "Important", releasedAt: ago(10) },
          { name: "Defender definitions", security: false, releasedAt: ago(1) },
        ],
        lastInstallAt: ago(3),
      }),
    );
    // A device without a scan yet counts as not reporting; another client's device counts nowhere.
    await enrollRaw(t, setup.token.token);
    await deviceReporting(
      other.token.token,
      report({ updates: [{ name: "bash", security: true, severity: "critical" }] }),
    );

    const dev = (await api(`/api/v1/devices/${win.deviceId}/patch-status`)).json();
    expect(dev.status).toMatchObject({
      source: "windows_update",
      missing: 3,
      security: 2,
      bySeverity: { critical: 1, important: 1, moderate: 0, low: 0, unrated: 0 },
      rebootPending: false,
      scanError: null,
    });
    // Security first, worst first.
    expect(dev.status.updates.map((u: { name: string }) => u.name)).toEqual([
      "KB5040000",
      "KB5040001",
      "Defender definitions",
    ]);
    expect(Date.parse(dev.status.oldestSecurityAt)).toBeCloseTo(Date.parse(ago(45)), -4);

    const health = (await api(`/api/v1/clients/${setup.client.id}/health`)).json();
    expect(health.patch).toMatchObject({
      devices: 3,
      reporting: 2,
      devicesMissingSecurity: 2,
      missing: 5,
      security: 3,
      bySeverity: { critical: 1, important: 1, moderate: 0, low: 0, unrated: 1 },
      rebootPending: 1,
      scanErrors: 0,
    });
    expect(Date.parse(health.patch.oldestLastInstallAt)).toBeCloseTo(Date.parse(ago(40)), -4);
    expect(Date.parse(health.patch.lastInstallAt)).toBeCloseTo(Date.parse(ago(3)), -4);
    expect(health.openAlerts).toEqual({ critical: 0, high: 0, medium: 0, low: 0 });

    // The next report: openssl installed, a new one missing; tzdata keeps the time it was first seen.
    const before = (await api(`/api/v1/devices/${a.deviceId}/patch-status`)).json().status;
    const tzFirst = before.updates.find((u: { name: string }) => u.name === "tzdata").firstSeenAt;
    const next = report({
      updates: [
        { name: "tzdata", current: "2024a", available: "2025b", security: false },
        { name: "curl", current: "7.88", available: "7.88.1", security: true },
      ],
    });
    a.agent.send({ type: "check.results", summary: true, results: [], patch: next });
    const after = await waitFor("the second report", async () => {
      const s = (await api(`/api/v1/devices/${a.deviceId}/patch-status`)).json().status;
      return s.collectedAt === next.collectedAt ? s : undefined;
    });
    expect(after.updates.map((u: { name: string }) => u.name)).toEqual(["curl", "tzdata"]);
    expect(after.updates.find((u: { name: string }) => u.name === "tzdata").firstSeenAt).toBe(tzFirst);
    expect(after).toMatchObject({ rebootPending: false, security: 1 });
    // An agent that could not read the install history this time does not erase it.
    expect(Date.parse(after.lastInstallAt)).toBeCloseTo(Date.parse(ago(40)), -4);

    // A failed scan shows its reason and keeps the list.
    const failed = report({ source: null, error: "no package manager answered (apt-get: exit 100)" });
    a.agent.send({ type: "check.results", summary: true, results: [], patch: failed });
    const kept = await waitFor("the failed scan", async () => {
      const s = (await api(`/api/v1/devices/${a.deviceId}/patch-status`)).json().status;
      return s.collectedAt === failed.collectedAt ? s : undefined;
    });
    expect(kept).toMatchObject({ scanError: failed.error, missing: 2, source: "apt" });
    expect((await api(`/api/v1/clients/${setup.client.id}/health`)).json().patch.scanErrors).toBe(1);
    a.agent.ws.close();
    win.agent.ws.close();
  });

  it("hides other clients' devices and rollups: 404 through the API, no rows under RLS", async () => {
    const stranger = await makeUser(t, { role: "technician", clientIds: [other.client.id] });
    const mine = await t.db
      .selectFrom("patch_status")
      .select("device_id")
      .where("client_id", "=", setup.client.id)
      .executeTakeFirstOrThrow();
    expect((await api(`/api/v1/devices/${mine.device_id}/patch-status`, stranger.auth)).statusCode).toBe(404);
    expect((await api(`/api/v1/clients/${setup.client.id}/health`, stranger.auth)).statusCode).toBe(404);
    expect(
      (await api(`/api/v1/clients/${other.client.id}/health`, stranger.auth)).json().patch,
    ).toMatchObject({
      reporting: 1,
      security: 1,
      bySeverity: { critical: 1 },
    });
    const rows = await runInScope({ kind: "clients", clientIds: [other.client.id] }, () =>
      t.db.selectFrom("patch_status").select("client_id").execute(),
    );
    expect(rows.length).toBeGreaterThan(0);
    expect(new Set(rows.map((r) => r.client_id))).toEqual(new Set([other.client.id]));
    await expect(
      runInScope({ kind: "clients", clientIds: [other.client.id] }, () =>
        t.db
          .insertInto("patch_status")
          .values({
            device_id: mine.device_id,
            client_id: setup.client.id,
            updates: "[]",
            missing_count: 0,
            security_count: 0,
            critical_count: 0,
            important_count: 0,
            moderate_count: 0,
            low_count: 0,
            reboot_pending: false,
            collected_at: new Date().toISOString(),
          })
          .execute(),
      ),
    ).rejects.toThrow(/row-level security/);
  });
});
