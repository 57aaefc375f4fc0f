import { describe, expect, it } from "vitest";
import { amountFor, type PricingLine, priceEntries, roundMinutes, timeLines } from "./pricing.ts";

const line = (over: Partial<PricingLine>): PricingLine => ({
  id: over.id ?? "hourly-any",
  kind: "hourly",
  description: "Remote support",
  workType: null,
  unitPriceMinor: 0,
  rateMinor: 12_000,
  roundingMinimumMinutes: 0,
  roundingIncrementMinutes: 1,
  afterHoursMultiplierPct: 100,
  ...over,
});

/** A seeded PRNG (mulberry32): the same cases on every run. */
function rng(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("rounding", () => {
  it("never bills less than worked, nor more than one increment above it (per entry, 10,000 cases)", () => {
    const rand = rng(20261205);
    for (let i = 0; i < 10_000; i++) {
      const raw = 1 + Math.floor(rand() * 600);
      const increment = 1 + Math.floor(rand() * 60);
      const minimum = Math.floor(rand() * increment);
      const billed = roundMinutes(raw, minimum, increment);
      expect(billed).toBeGreaterThanOrEqual(raw);
      expect(billed).toBeLessThanOrEqual(raw + increment);
      expect(billed % increment === 0 || billed === minimum).toBe(true);
    }
  });

  it("applies the minimum to short entries, and rounds each entry once: 52 × 61 minutes is not 59 hours", () => {
    expect(roundMinutes(5, 15, 15)).toBe(15);
    expect(roundMinutes(16, 30, 15)).toBe(30);
    // Alga PSA's bug: 52.67 hours worked billed as 59. Per-entry rounding up to 6 minutes stays close.
    const entries = Array.from({ length: 52 }, (_, i) => ({
      id: `e${i}`,
      workType: "remote" as const,
      day: "2026-11-02",
      minutes: 61,
      reversesEntryId: null,
    }));
    const priced = priceEntries(entries, [line({ roundingIncrementMinutes: 6 })], []);
    const billed = [...priced.values()].reduce((a, r) => a + r.billedMinutes, 0);
    expect(billed).toBe(52 * 66);
    expect(billed / 60).toBeLessThan(58);
  });
});

describe("money", () => {
  it("charges minutes at an hourly rate in whole cents, half a cent away from zero", () => {
    expect(amountFor(60, 12_000)).toBe(12_000);
    expect(amountFor(1, 100)).toBe(2); // 1.666… cents
    expect(amountFor(1, 90)).toBe(2); // 1.5 cents
    expect(amountFor(-1, 90)).toBe(-2);
    expect(amountFor(90, 12_000, 150)).toBe(27_000);
  });
});

describe("block hours", () => {
  const blockLine = line({ id: "block", kind: "block", rateMinor: 0, roundingIncrementMinutes: 15 });
  const hourly = line({
    id: "hourly",
    rateMinor: 15_000,
    roundingIncrementMinutes: 15,
    afterHoursMultiplierPct: 150,
  });

  it("draws first from the block that expires first, then charges the rest at the rate", () => {
    const blocks = [
      { id: "late", purchasedOn: "2026-01-01", expiresOn: "2026-12-31", remainingMinutes: 600 },
      { id: "soon", purchasedOn: "2026-06-01", expiresOn: "2026-11-30", remainingMinutes: 60 },
      { id: "expired", purchasedOn: "2026-01-01", expiresOn: "2026-10-31", remainingMinutes: 600 },
    ];
    const priced = priceEntries(
      [
        { id: "a", workType: "remote", day: "2026-11-10", minutes: 50, reversesEntryId: null },
        { id: "b", workType: "remote", day: "2026-11-11", minutes: 600, reversesEntryId: null },
      ],
      [blockLine, hourly],
      blocks,
    );
    expect(priced.get("a")!.draws).toEqual([{ blockId: "soon", minutes: 60 }]);
    expect(priced.get("b")!.draws).toEqual([{ blockId: "late", minutes: 600 }]);
    expect(priced.get("b")!.amountMinor).toBe(0);
    expect(blocks.find((b) => b.id === "expired")!.remainingMinutes).toBe(600);
    const more = priceEntries(
      [{ id: "c", workType: "remote", day: "2026-11-12", minutes: 90, reversesEntryId: null }],
      [blockLine, hourly],
      blocks,
    );
    expect(more.get("c")).toMatchObject({ draws: [], amountMinor: amountFor(90, 15_000) });
  });

  it("charges after-hours time at the rate times the multiplier, and a reversal credits exactly what was billed", () => {
    const priced = priceEntries(
      [
        { id: "night", workType: "after_hours", day: "2026-11-10", minutes: 50, reversesEntryId: null },
        { id: "undo", workType: "after_hours", day: "2026-11-10", minutes: -50, reversesEntryId: "night" },
      ],
      [hourly],
      [],
    );
    expect(priced.get("night")).toMatchObject({ billedMinutes: 60, amountMinor: 22_500 });
    expect(priced.get("undo")).toMatchObject({ billedMinutes: -60, amountMinor: -22_500 });
    const lines = timeLines(priced, [hourly]);
    expect(lines).toEqual([]);
  });
});
