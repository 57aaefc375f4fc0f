import type { ContractLineKind, WorkType } from "../../db/schema.ts";

/**
 * What time costs, as pure functions (the billing run feeds them rows and writes their answer). Time in
 * integer minutes, money in integer minor units. The rules, in order, for each billable entry:
 *
 * 1. Rounding, once per entry, from the hourly line of its work type (else the block line): billed =
 *    max(minimum, raw rounded up to the increment). Raw minutes are kept on the entry.
 * 2. Block hours: if a block line covers the work type, billed minutes are drawn minute for minute from
 *    the client's blocks valid on the entry's day, first-expiring first (then oldest purchase).
 * 3. The rest is charged at the hourly line's rate, times the line's after-hours multiplier for time of
 *    work type `after_hours`; half a cent rounds away from zero, per entry.
 * 4. Time with no block and no rate is covered by the contract (managed services): billed at 0, shown.
 * 5. A reversal (negative minutes) credits exactly what its original was billed, back to the same blocks.
 */

export interface PricingLine {
  id: string;
  kind: ContractLineKind;
  description: string;
  workType: WorkType | null;
  unitPriceMinor: number;
  rateMinor: number;
  roundingMinimumMinutes: number;
  roundingIncrementMinutes: number;
  afterHoursMultiplierPct: number;
}

export interface PricingBlock {
  id: string;
  purchasedOn: string;
  expiresOn: string;
  remainingMinutes: number;
}

export interface PricingEntry {
  id: string;
  workType: WorkType;
  /** The entry's calendar day (YYYY-MM-DD) in the MSP's zone: which blocks were valid. */
  day: string;
  /** Raw minutes; negative on a reversal. */
  minutes: number;
  reversesEntryId: string | null;
}

/** What an already-billed original was charged: a reversal credits exactly this. */
export interface BilledOriginal {
  billedMinutes: number;
  amountMinor: number;
  lineKey: string;
  draws: Array<{ blockId: string; minutes: number }>;
}

export interface EntryPrice {
  billedMinutes: number;
  amountMinor: number;
  /** Minutes drawn from blocks (positive = drawn, negative = returned by a reversal). */
  draws: Array<{ blockId: string; minutes: number }>;
  /** Which invoice line the charged part goes to (see lineKeyOf). */
  lineKey: string;
}

export interface PricedLine {
  key: string;
  kind: "hourly" | "block";
  description: string;
  minutes: number;
  unitPriceMinor: number;
  amountMinor: number;
}

export function roundMinutes(raw: number, minimum: number, increment: number): number {
  if (raw <= 0) return raw;
  const up = Math.ceil(raw / increment) * increment;
  return Math.max(minimum, up);
}

/** minutes * rate / 60 * pct / 100, half away from zero, in integers (exact below 2^53). */
export function amountFor(minutes: number, rateMinor: number, pct = 100): number {
  const numerator = Math.abs(minutes) * rateMinor * pct;
  const denominator = 60 * 100;
  const amount = Math.floor((2 * numerator + denominator) / (2 * denominator));
  return minutes < 0 ? -amount : amount;
}

const findLine = (lines: PricingLine[], kind: "hourly" | "block", workType: WorkType) =>
  lines.find((l) => l.kind === kind && l.workType === workType) ??
  lines.find((l) => l.kind === kind && l.workType === null) ??
  null;

const pctOf = (line: PricingLine | null, workType: WorkType) =>
  line && workType === "after_hours" ? line.afterHoursMultiplierPct : 100;

function lineKeyOf(kind: "hourly" | "block" | "covered" | "over", line: PricingLine | null, pct: number) {
  return `${kind}:${line?.id ?? "-"}:${pct}`;
}

/**
 * Prices a client's entries of one run. `blocks` is mutated (remaining minutes drawn); pass a copy if
 * the caller needs the original balances. Originals come before their reversals.
 */
export function priceEntries(
  entries: PricingEntry[],
  lines: PricingLine[],
  blocks: PricingBlock[],
  billedOriginals: Map<string, BilledOriginal> = new Map(),
) {
  const byBlock = [...blocks].sort(
    (a, b) =>
      a.expiresOn.localeCompare(b.expiresOn) ||
      a.purchasedOn.localeCompare(b.purchasedOn) ||
      a.id.localeCompare(b.id),
  );
  const results = new Map<string, EntryPrice>();
  const ordered = [...entries].sort(
    (a, b) => Number(a.reversesEntryId !== null) - Number(b.reversesEntryId !== null),
  );
  for (const e of ordered) {
    if (e.reversesEntryId) {
      const original = results.get(e.reversesEntryId) ?? billedOriginals.get(e.reversesEntryId);
      if (!original) {
        // The original was never billed and is not in this run (it was not billable): nothing to credit.
        results.set(e.id, { billedMinutes: 0, amountMinor: 0, draws: [], lineKey: "covered:-:100" });
        continue;
      }
      for (const d of original.draws) {
        const block = byBlock.find((b) => b.id === d.blockId);
        if (block) block.remainingMinutes += d.minutes;
      }
      results.set(e.id, {
        billedMinutes: -original.billedMinutes,
        amountMinor: -original.amountMinor,
        draws: original.draws.map((d) => ({ blockId: d.blockId, minutes: -d.minutes })),
        lineKey: original.lineKey,
      });
      continue;
    }
    const hourly = findLine(lines, "hourly", e.workType);
    const blockLine = findLine(lines, "block", e.workType);
    const rounding = hourly ?? blockLine;
    const billed = rounding
      ? roundMinutes(e.minutes, rounding.roundingMinimumMinutes, rounding.roundingIncrementMinutes)
      : e.minutes;
    const draws: Array<{ blockId: string; minutes: number }> = [];
    let rest = billed;
    if (blockLine) {
      for (const b of byBlock) {
        if (rest === 0) break;
        if (b.remainingMinutes <= 0 || b.purchasedOn > e.day || b.expiresOn < e.day) continue;
        const take = Math.min(rest, b.remainingMinutes);
        b.remainingMinutes -= take;
        rest -= take;
        draws.push({ blockId: b.id, minutes: take });
      }
    }
    const pct = pctOf(hourly, e.workType);
    const drawn = billed - rest;
    let lineKey: string;
    let amountMinor = 0;
    if (rest === 0 && drawn > 0) lineKey = lineKeyOf("block", blockLine, 100);
    else if (hourly) {
      amountMinor = amountFor(rest, hourly.rateMinor, pct);
      lineKey = lineKeyOf("hourly", hourly, pct);
    } else lineKey = lineKeyOf(blockLine ? "over" : "covered", blockLine, 100);
    results.set(e.id, { billedMinutes: billed, amountMinor, draws, lineKey });
  }
  return results;
}

/**
 * The invoice's time lines: the charged part of each entry under its line key, the drawn part under its
 * block line. Quantities are minutes; the caller shows them as hours.
 */
export function timeLines(results: Map<string, EntryPrice>, lines: PricingLine[]): PricedLine[] {
  const out = new Map<string, PricedLine>();
  const byId = new Map(lines.map((l) => [l.id, l]));
  const add = (
    key: string,
    kind: "hourly" | "block",
    description: string,
    unit: number,
    minutes: number,
    amount: number,
  ) => {
    const line = out.get(key) ?? { key, kind, description, minutes: 0, unitPriceMinor: unit, amountMinor: 0 };
    line.minutes += minutes;
    line.amountMinor += amount;
    out.set(key, line);
  };
  for (const r of results.values()) {
    const drawn = r.draws.reduce((a, d) => a + d.minutes, 0);
    const [kind, lineId, pctText] = r.lineKey.split(":") as [string, string, string];
    const line = byId.get(lineId) ?? null;
    const pct = Number(pctText);
    if (drawn !== 0) {
      const blockLine =
        kind === "block" || kind === "over" ? line : (lines.find((l) => l.kind === "block") ?? null);
      add(
        `block:${blockLine?.id ?? "-"}`,
        "block",
        `${blockLine?.description ?? "Prepaid hours"} (drawn from prepaid hours)`,
        0,
        drawn,
        0,
      );
    }
    const charged = r.billedMinutes - drawn;
    if (charged === 0 && kind === "block") continue;
    if (kind === "hourly" && line) {
      const suffix = pct !== 100 ? ` (after hours, ${pct}%)` : "";
      add(
        r.lineKey,
        "hourly",
        `${line.description}${suffix}`,
        Math.round((line.rateMinor * pct) / 100),
        charged,
        r.amountMinor,
      );
    } else if (kind === "over") {
      add(
        r.lineKey,
        "hourly",
        "Time beyond the prepaid hours (no hourly rate on the contract)",
        0,
        charged,
        0,
      );
    } else if (kind === "credit") {
      add(r.lineKey, "hourly", "Credit for reversed time", 0, charged, r.amountMinor);
    } else if (kind === "covered" && charged !== 0) {
      add(r.lineKey, "hourly", "Time covered by the contract", 0, charged, 0);
    }
  }
  return [...out.values()].filter((l) => l.minutes !== 0 || l.amountMinor !== 0);
}
