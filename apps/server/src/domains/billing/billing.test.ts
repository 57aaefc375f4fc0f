import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApp, makeClient, makeUser, type TestApp, type TestUser } from "../../../test/helpers.ts";

// The money path end to end through the API on the real database: contract, time, the monthly run,
// approval, export. November 2026 in UTC (the test MSP's zone).

let t: TestApp;
let admin: TestUser;
let tech: TestUser;
let clientId: string;
let contractId: string;

const call = async (user: TestUser, method: string, url: string, payload?: unknown) => {
  const res = await t.app.inject({
    method: method as "GET",
    url,
    headers: user.auth,
    payload: payload as object,
  });
  return {
    status: res.statusCode,
    body: res.headers["content-type"]?.includes("json") ? res.json() : res.body,
    raw: res,
  };
};

async function device(id: string) {
  await t.db
    .insertInto("devices")
    .values({
      client_id: id,
      hostname: `pc-${randomBytes(3).toString("hex")}`,
      platform: "linux",
      arch: "x64",
      os_name: "Debian",
      os_version: "12",
      agent_version: "1.0.0",
      public_key: randomBytes(32).toString("base64"),
      enrolled_at: new Date("2026-10-01T00:00:00Z"),
    })
    .execute();
}

const log = (startedAt: string, minutes: number, workType = "remote") =>
  call(tech, "POST", "/api/v1/time-entries", { clientId, startedAt, minutes, workType, note: "work" });

beforeAll(async () => {
  t = await createTestApp();
  admin = await makeUser(t, { role: "admin" });
  tech = await makeUser(t);
  clientId = (await makeClient(t)).id;
  await device(clientId);
  await device(clientId);
  const contract = await call(admin, "POST", "/api/v1/contracts", {
    clientId,
    name: "Gold",
    startsOn: "2026-01-01",
    lines: [
      { kind: "managed_device", description: "Managed workstation", unitPriceMinor: 5000 },
      {
        kind: "block",
        description: "Remote support",
        workType: "remote",
        roundingMinimumMinutes: 15,
        roundingIncrementMinutes: 15,
      },
      {
        kind: "hourly",
        description: "Support",
        rateMinor: 12_000,
        roundingMinimumMinutes: 15,
        roundingIncrementMinutes: 15,
        afterHoursMultiplierPct: 150,
      },
    ],
  });
  expect(contract.status).toBe(201);
  contractId = contract.body.id;
  expect(
    (
      await call(admin, "POST", `/api/v1/contracts/${contractId}/blocks`, {
        purchasedMinutes: 120,
        purchasedOn: "2026-06-01",
        expiresOn: "2026-11-30",
      })
    ).status,
  ).toBe(201);
  const bought = await call(admin, "POST", `/api/v1/contracts/${contractId}/blocks`, {
    purchasedMinutes: 600,
    priceMinor: 100_000,
    purchasedOn: "2026-11-01",
    expiresOn: "2027-03-31",
  });
  expect(bought.status).toBe(201);
});
afterAll(() => t.close());

describe("contracts", () => {
  it("refuses a contract that makes no sense, naming the field", async () => {
    const bad = await call(admin, "POST", "/api/v1/contracts", {
      clientId,
      name: "Broken",
      startsOn: "2026-01-01",
      lines: [{ kind: "hourly", description: "No rate" }],
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.details.issues[0].path).toBe("body.lines.0.rateMinor");
    const dup = await call(admin, "POST", "/api/v1/contracts", {
      clientId,
      name: "Twice",
      startsOn: "2026-01-01",
      lines: [
        { kind: "hourly", description: "A", rateMinor: 1 },
        { kind: "hourly", description: "B", rateMinor: 2 },
      ],
    });
    expect(dup.body.error.details.issues[0].path).toBe("body.lines.1.workType");
    expect(
      (await call(tech, "POST", "/api/v1/contracts", { clientId, name: "x", startsOn: "2026-01-01" })).status,
    ).toBe(403);
  });
});

describe("the monthly billing run", () => {
  it("bills managed devices, prepaid hours first-expiring-first, after-hours time at 150%, and never an entry twice", async () => {
    expect((await log("2026-11-03T15:00:00Z", 50)).status).toBe(201); // 60 billed: the block expiring in November
    expect((await log("2026-11-04T15:00:00Z", 100)).status).toBe(201); // 105: 60 from November's, 45 from March's
    expect((await log("2026-11-05T23:00:00Z", 30, "after_hours")).status).toBe(201); // 30 min at 180.00/h
    const nonBillable = await call(tech, "POST", "/api/v1/time-entries", {
      clientId,
      startedAt: "2026-11-06T15:00:00Z",
      minutes: 45,
      billable: false,
    });
    expect(nonBillable.status).toBe(201);

    const run = await call(admin, "POST", "/api/v1/billing/runs", { month: "2026-11-15", clientId });
    expect(run.status).toBe(200);
    expect(run.body).toMatchObject({
      periodStart: "2026-11-01",
      periodEnd: "2026-11-30",
      invoices: 1,
      timeEntries: 3,
    });
    const [invoice] = (await call(admin, "GET", `/api/v1/invoices?period=2026-11-01&clientId=${clientId}`))
      .body;
    const byKind = Object.fromEntries(invoice.lines.map((l: { kind: string }) => [l.kind, l]));
    expect(byKind.managed_device).toMatchObject({ quantity: 2, unitPriceMinor: 5000, amountMinor: 10_000 });
    expect(byKind.block_purchase).toMatchObject({ amountMinor: 100_000 });
    expect(byKind.block).toMatchObject({ minutes: 165, quantity: 2.75, amountMinor: 0 });
    expect(byKind.hourly).toMatchObject({ minutes: 30, unitPriceMinor: 18_000, amountMinor: 9000 });
    expect(invoice.totalMinor).toBe(10_000 + 100_000 + 9000);

    const contract = (await call(admin, "GET", `/api/v1/contracts/${contractId}`)).body;
    expect(contract.blocks.map((b: { remainingMinutes: number }) => b.remainingMinutes)).toEqual([0, 555]);

    // Run it again: the draft is replaced, the blocks are drawn once, each entry is on one invoice.
    const again = await call(admin, "POST", "/api/v1/billing/runs", { month: "2026-11-01", clientId });
    expect(again.body.invoices).toBe(1);
    const after = (await call(admin, "GET", `/api/v1/contracts/${contractId}`)).body;
    expect(after.blocks.map((b: { remainingMinutes: number }) => b.remainingMinutes)).toEqual([0, 555]);
    const invoices = (await call(admin, "GET", `/api/v1/invoices?clientId=${clientId}`)).body;
    expect(invoices).toHaveLength(1);
    const entries = (await call(admin, "GET", `/api/v1/time-entries?clientId=${clientId}`)).body;
    expect(entries.filter((e: { invoiceId: string | null }) => e.invoiceId === invoices[0].id)).toHaveLength(
      3,
    );
    expect(entries.find((e: { billable: boolean }) => !e.billable).invoiceId).toBeNull();
  });

  it("keeps an approved invoice, locks its time, and credits a reversal in the next month", async () => {
    const [invoice] = (await call(admin, "GET", `/api/v1/invoices?period=2026-11-01&clientId=${clientId}`))
      .body;
    expect((await call(admin, "POST", `/api/v1/invoices/${invoice.id}/approve`)).body.status).toBe(
      "approved",
    );
    const rerun = await call(admin, "POST", "/api/v1/billing/runs", { month: "2026-11-01", clientId });
    expect(rerun.body).toMatchObject({ invoices: 0, skippedApproved: 1 });

    const entries = (await call(admin, "GET", `/api/v1/time-entries?clientId=${clientId}`)).body;
    const night = entries.find((e: { workType: string }) => e.workType === "after_hours");
    expect(night.locked).toBe(true);
    const edit = await call(tech, "PATCH", `/api/v1/time-entries/${night.id}`, {
      version: night.version,
      note: "changed",
    });
    expect(edit.status).toBe(409);
    expect(edit.body.error.message).toMatch(/reverse/);
    const reversal = await call(tech, "POST", `/api/v1/time-entries/${night.id}/reverse`, {
      reason: "was not after hours",
    });
    expect(reversal.status).toBe(201);
    expect(reversal.body).toMatchObject({ minutes: -30, reversesEntryId: night.id });
    expect(
      (await call(tech, "POST", `/api/v1/time-entries/${night.id}/reverse`, { reason: "again" })).status,
    ).toBe(409);

    // Late November time goes on December's invoice, with the credit.
    expect((await log("2026-11-28T15:00:00Z", 20)).status).toBe(201);
    const december = await call(admin, "POST", "/api/v1/billing/runs", { month: "2026-12-01", clientId });
    expect(december.body.invoices).toBe(1);
    const [dec] = (await call(admin, "GET", `/api/v1/invoices?period=2026-12-01&clientId=${clientId}`)).body;
    const credit = dec.lines.find(
      (l: { description: string }) => l.description === "Credit for reversed time",
    );
    expect(credit).toMatchObject({ minutes: -30, amountMinor: -9000 });
    const late = dec.lines.find((l: { kind: string }) => l.kind === "block");
    expect(late).toMatchObject({ minutes: 30 }); // 20 rounded to 30, drawn from March's block
  });

  it("exports approved invoices for QuickBooks and Xero, and a PDF", async () => {
    const qb = await call(admin, "GET", "/api/v1/invoices/export.csv?period=2026-11-01&format=quickbooks");
    expect(qb.status).toBe(200);
    const rows = String(qb.body).trim().split("\r\n");
    expect(rows[0]).toBe(
      "Invoice number,Customer,Invoice date,Due date,Terms,Memo,Item (Product/Service),Item Description,Item Quantity,Item Rate,Item Amount,Service Date",
    );
    const amounts = rows.slice(1).map((r) => Number(r.split(",").at(-2)));
    expect(amounts.reduce((a, b) => a + b, 0)).toBeCloseTo(1190, 2);
    const xero = await call(admin, "GET", "/api/v1/invoices/export.csv?period=2026-11-01&format=xero");
    expect(String(xero.body).split("\r\n")[0]).toMatch(/^\*ContactName,\*InvoiceNumber/);
    const [invoice] = (await call(admin, "GET", `/api/v1/invoices?period=2026-11-01&clientId=${clientId}`))
      .body;
    const pdf = await t.app.inject({
      method: "GET",
      url: `/api/v1/invoices/${invoice.id}/pdf`,
      headers: admin.auth,
    });
    expect(pdf.headers["content-type"]).toBe("application/pdf");
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe("%PDF-");
  });

  it("is for admins who see every client", async () => {
    const dispatcher = await makeUser(t, { role: "dispatcher" });
    const limited = await makeUser(t, { role: "admin", clientIds: [clientId] });
    for (const user of [dispatcher, limited, tech]) {
      expect((await call(user, "POST", "/api/v1/billing/runs", { month: "2026-11-01" })).status).toBe(403);
    }
  });
});
