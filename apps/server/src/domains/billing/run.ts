import { sql, type Transaction } from "kysely";
import type { Database } from "../../db/database.ts";
import type { DB } from "../../db/schema.ts";
import { AppError } from "../../http/errors.ts";
import { addDays, localDate, startOfDay } from "../../lib/zoned.ts";
import { writeAudit } from "../audit/audit.ts";
import { type Actor, requireRole } from "../auth/actor.ts";
import {
  type BilledOriginal,
  type PricingBlock,
  type PricingLine,
  priceEntries,
  timeLines,
} from "./pricing.ts";

type Trx = Transaction<DB>;

export interface Period {
  start: string;
  end: string;
  /** Instants: [from, to) in the MSP's time zone. */
  from: Date;
  to: Date;
}

export function monthOf(day: string, timeZone: string): Period {
  const start = `${day.slice(0, 7)}-01`;
  const next = addDays(start, 32).slice(0, 7);
  const end = addDays(`${next}-01`, -1);
  return { start, end, from: startOfDay(start, timeZone), to: startOfDay(`${next}-01`, timeZone) };
}

/** Clients billed at once by a run. */
const RUN_CONCURRENCY = 4;

/** Quantity shown for a number of minutes: hours with two decimals. */
const hours = (minutes: number) => Math.round((minutes / 60) * 100) / 100;

interface ClientOutcome {
  invoiceId: string | null;
  skipped: "approved" | "nothing" | null;
  entries: number;
  totalMinor: number;
}

export interface ClientTerms {
  currency: string;
  lines: PricingLine[];
  /** Active devices and contacts: what managed lines count. */
  devices: number;
  users: number;
}

/**
 * What the clients' contracts say for the month, read for many clients at once (the run reads them
 * in three statements, not three per client): the lines of their active contracts, their currency, and
 * the counts the managed lines charge. A client with contracts in two currencies is refused.
 */
export async function loadTerms(db: Database | Trx, clientIds: string[], period: Period) {
  const terms = new Map<string, ClientTerms>();
  for (const id of clientIds) terms.set(id, { currency: "USD", lines: [], devices: 0, users: 0 });
  if (!clientIds.length) return terms;
  const rows = await sql<{
    client_id: string;
    currency: string;
    id: string | null;
    kind: PricingLine["kind"] | null;
    description: string | null;
    work_type: PricingLine["workType"];
    unit_price_minor: number | null;
    rate_minor: number | null;
    rounding_minimum_minutes: number | null;
    rounding_increment_minutes: number | null;
    after_hours_multiplier_pct: number | null;
  }>`select k.client_id, k.currency, l.id, l.kind, l.description, l.work_type, l.unit_price_minor, l.rate_minor,
      l.rounding_minimum_minutes, l.rounding_increment_minutes, l.after_hours_multiplier_pct
    from contracts k left join contract_lines l on l.contract_id = k.id
    where k.client_id = any(${clientIds}::uuid[]) and k.active and k.starts_on <= ${period.end}::date
      and (k.ends_on is null or k.ends_on >= ${period.start}::date)
    order by k.client_id, k.created_at, l.position`.execute(db);
  const currencies = new Map<string, Set<string>>();
  for (const r of rows.rows) {
    const t = terms.get(r.client_id)!;
    currencies.set(r.client_id, (currencies.get(r.client_id) ?? new Set()).add(r.currency));
    t.currency = r.currency;
    if (!r.id || !r.kind) continue;
    t.lines.push({
      id: r.id,
      kind: r.kind,
      description: r.description ?? "",
      workType: r.work_type,
      unitPriceMinor: Number(r.unit_price_minor),
      rateMinor: Number(r.rate_minor),
      roundingMinimumMinutes: r.rounding_minimum_minutes ?? 0,
      roundingIncrementMinutes: r.rounding_increment_minutes ?? 1,
      afterHoursMultiplierPct: r.after_hours_multiplier_pct ?? 100,
    });
  }
  for (const [id, set] of currencies) {
    if (set.size > 1) terms.get(id)!.currency = `conflict:${[...set].join(" and ")}`;
  }
  const counts = await sql<{ client_id: string; devices: number; users: number }>`
    select c.id as client_id,
      (select count(*)::int from devices d where d.client_id = c.id and d.retired_at is null and d.enrolled_at < ${period.to}) as devices,
      (select count(*)::int from contacts p where p.client_id = c.id and p.active and p.created_at < ${period.to}) as users
    from clients c where c.id = any(${clientIds}::uuid[])`.execute(db);
  for (const r of counts.rows) {
    const t = terms.get(r.client_id)!;
    t.devices = Number(r.devices);
    t.users = Number(r.users);
  }
  return terms;
}

/**
 * Bills one client for one month, in one transaction: an approved invoice for the month stays as it is;
 * a draft is replaced (its entries and block draws are released first). Every billable, finished entry
 * up to the month's end that is on no invoice yet is priced (pricing.ts) and pointed at the new draft,
 * so no entry is ever billed twice. Managed services are counted now: active devices and contacts.
 */
export async function billClient(
  trx: Trx,
  actor: Actor,
  clientId: string,
  period: Period,
  mspZone: string,
  terms?: ClientTerms,
): Promise<ClientOutcome> {
  const existing = await trx
    .selectFrom("invoices")
    .select(["id", "status"])
    .where("client_id", "=", clientId)
    .where("period_start", "=", period.start)
    .forUpdate()
    .executeTakeFirst();
  if (existing?.status === "approved")
    return { invoiceId: existing.id, skipped: "approved", entries: 0, totalMinor: 0 };
  if (existing) {
    await trx
      .updateTable("time_entries")
      .set({ invoice_id: null, billed_minutes: null, billed_amount_minor: null })
      .where("invoice_id", "=", existing.id)
      .execute();
    await trx.deleteFrom("invoices").where("id", "=", existing.id).execute();
  }

  const { currency, lines, devices, users } =
    terms ?? (await loadTerms(trx, [clientId], period)).get(clientId)!;
  if (currency.startsWith("conflict:")) {
    throw new AppError(
      "conflict",
      409,
      `The client has active contracts in ${currency.slice(9)}: one currency per invoice`,
    );
  }
  const blocks = (
    await sql<PricingBlock & { price_minor: number; purchased_minutes: number }>`
      select b.id, b.purchased_on::text as "purchasedOn", b.expires_on::text as "expiresOn",
        b.purchased_minutes + coalesce((select sum(l.minutes) from block_ledger l where l.block_id = b.id), 0)::int
          as "remainingMinutes",
        b.price_minor, b.purchased_minutes
      from block_hours b where b.client_id = ${clientId} for update of b`.execute(trx)
  ).rows;
  const entries = await trx
    .selectFrom("time_entries")
    .select(["id", "work_type", "started_at", "minutes", "reverses_entry_id"])
    .where("client_id", "=", clientId)
    .where("invoice_id", "is", null)
    .where("billable", "=", true)
    .where("ended_at", "is not", null)
    .where("started_at", "<", period.to)
    .forUpdate()
    .execute();

  // Originals billed on an earlier invoice whose reversals are in this run: credit what they cost.
  const reversed = entries.flatMap((e) => (e.reverses_entry_id ? [e.reverses_entry_id] : []));
  const billedOriginals = new Map<string, BilledOriginal>();
  if (reversed.length) {
    const rows = await sql<{
      id: string;
      billed_minutes: number;
      billed_amount_minor: number;
      draws: Array<{ blockId: string; minutes: number }> | null;
    }>`
      select e.id, e.billed_minutes, e.billed_amount_minor,
        (select json_agg(json_build_object('blockId', l.block_id, 'minutes', -l.minutes)) from block_ledger l
          where l.time_entry_id = e.id and l.minutes < 0) as draws
      from time_entries e where e.id = any(${reversed}::uuid[]) and e.invoice_id is not null`.execute(trx);
    for (const r of rows.rows) {
      // The credit is exactly what the original cost, on a line of its own.
      billedOriginals.set(r.id, {
        billedMinutes: Number(r.billed_minutes),
        amountMinor: Number(r.billed_amount_minor),
        draws: r.draws ?? [],
        lineKey: "credit:-:100",
      });
    }
  }

  const results = priceEntries(
    entries.map((e) => ({
      id: e.id,
      workType: e.work_type,
      day: localDate(e.started_at, mspZone),
      minutes: e.minutes ?? 0,
      reversesEntryId: e.reverses_entry_id,
    })),
    lines,
    blocks,
    billedOriginals,
  );

  type Row = {
    kind: string;
    description: string;
    quantity: number;
    unit: string;
    unit_price_minor: number;
    amount_minor: number;
    minutes: number | null;
  };
  const rows: Row[] = [];
  for (const l of lines) {
    if (l.kind === "managed_device" && devices > 0) {
      rows.push({
        kind: l.kind,
        description: `${l.description}, ${period.start} to ${period.end}`,
        quantity: devices,
        unit: "devices",
        unit_price_minor: l.unitPriceMinor,
        amount_minor: devices * l.unitPriceMinor,
        minutes: null,
      });
    } else if (l.kind === "managed_user" && users > 0) {
      rows.push({
        kind: l.kind,
        description: `${l.description}, ${period.start} to ${period.end}`,
        quantity: users,
        unit: "users",
        unit_price_minor: l.unitPriceMinor,
        amount_minor: users * l.unitPriceMinor,
        minutes: null,
      });
    } else if (l.kind === "fixed") {
      rows.push({
        kind: l.kind,
        description: `${l.description}, ${period.start} to ${period.end}`,
        quantity: 1,
        unit: "months",
        unit_price_minor: l.unitPriceMinor,
        amount_minor: l.unitPriceMinor,
        minutes: null,
      });
    }
  }
  for (const b of blocks as Array<PricingBlock & { price_minor: number; purchased_minutes: number }>) {
    if (b.purchasedOn >= period.start && b.purchasedOn <= period.end && Number(b.price_minor) > 0) {
      rows.push({
        kind: "block_purchase",
        description: `Prepaid hours: ${hours(b.purchased_minutes)} h, valid until ${b.expiresOn}`,
        quantity: 1,
        unit: "blocks",
        unit_price_minor: Number(b.price_minor),
        amount_minor: Number(b.price_minor),
        minutes: null,
      });
    }
  }
  for (const t of timeLines(results, lines)) {
    rows.push({
      kind: t.kind,
      description: t.description,
      quantity: hours(t.minutes),
      unit: "hours",
      unit_price_minor: t.unitPriceMinor,
      amount_minor: t.amountMinor,
      minutes: t.minutes,
    });
  }
  if (rows.length === 0 && entries.length === 0)
    return { invoiceId: null, skipped: "nothing", entries: 0, totalMinor: 0 };

  const totalMinor = rows.reduce((a, r) => a + r.amount_minor, 0);
  const invoice = await trx
    .insertInto("invoices")
    .values({
      client_id: clientId,
      period_start: period.start,
      period_end: period.end,
      currency,
      total_minor: totalMinor,
    })
    .returning("id")
    .executeTakeFirstOrThrow();
  if (rows.length) {
    await trx
      .insertInto("invoice_lines")
      .values(
        rows.map((r, i) => ({ ...r, client_id: clientId, invoice_id: invoice.id, position: i + 1 })) as never,
      )
      .execute();
  }
  if (entries.length) {
    const values = entries.map((e) => {
      const r = results.get(e.id)!;
      return sql`(${e.id}::uuid, ${r.billedMinutes}::int, ${r.amountMinor}::bigint)`;
    });
    // One statement for all the run's entries of this client.
    await sql`update time_entries t set invoice_id = ${invoice.id}, billed_minutes = v.m, billed_amount_minor = v.a
      from (values ${sql.join(values)}) as v(id, m, a) where t.id = v.id`.execute(trx);
    const draws = entries.flatMap((e) =>
      results.get(e.id)!.draws.map((d) => ({
        client_id: clientId,
        block_id: d.blockId,
        invoice_id: invoice.id,
        time_entry_id: e.id,
        minutes: -d.minutes,
      })),
    );
    if (draws.length) await trx.insertInto("block_ledger").values(draws).execute();
  }
  await writeAudit(trx, actor, {
    action: "invoice.draft",
    entityType: "invoice",
    entityId: invoice.id,
    clientId,
    after: { period: period.start, totalMinor, lines: rows.length, timeEntries: entries.length },
  });
  return { invoiceId: invoice.id, skipped: null, entries: entries.length, totalMinor };
}

/**
 * The monthly billing run: every client with an active contract or unbilled time, each in its own
 * transaction (a client that fails is reported, the others go on).
 */
export async function runBilling(db: Database, actor: Actor, input: { month: string; clientId?: string }) {
  requireRole(actor, "admin");
  const started = performance.now();
  const msp = await db.selectFrom("msp").select("timezone").executeTakeFirst();
  const zone = msp?.timezone ?? "UTC";
  const period = monthOf(input.month, zone);
  let q = db
    .selectFrom("clients as c")
    .select("c.id")
    .where((eb) =>
      eb.or([
        eb.exists(
          eb
            .selectFrom("contracts as k")
            .select("k.id")
            .whereRef("k.client_id", "=", "c.id")
            .where("k.active", "=", true),
        ),
        eb.exists(
          eb
            .selectFrom("time_entries as e")
            .select("e.id")
            .whereRef("e.client_id", "=", "c.id")
            .where("e.invoice_id", "is", null)
            .where("e.billable", "=", true)
            .where("e.started_at", "<", period.to),
        ),
      ]),
    );
  if (input.clientId) q = q.where("c.id", "=", input.clientId);
  const clients = await q.orderBy("c.name").execute();
  const terms = await loadTerms(
    db,
    clients.map((c) => c.id),
    period,
  );
  const outcome = { invoices: 0, skippedApproved: 0, timeEntries: 0, totalMinor: 0 };
  const failures: Array<{ clientId: string; reason: string }> = [];
  // Clients are independent (their own rows, their own transaction): a few at a time keep the database
  // busy while each waits on its round trips. One client's failure is reported; the others go on.
  let next = 0;
  const worker = async () => {
    while (next < clients.length) {
      const c = clients[next++]!;
      try {
        const r = await db
          .transaction()
          .execute((trx) => billClient(trx, actor, c.id, period, zone, terms.get(c.id)));
        if (r.skipped === "approved") outcome.skippedApproved++;
        if (r.invoiceId && !r.skipped) outcome.invoices++;
        outcome.timeEntries += r.entries;
        outcome.totalMinor += r.totalMinor;
      } catch (err) {
        failures.push({ clientId: c.id, reason: (err as Error).message });
      }
    }
  };
  await Promise.all(Array.from({ length: RUN_CONCURRENCY }, worker));
  return {
    periodStart: period.start,
    periodEnd: period.end,
    ...outcome,
    failures,
    tookMs: Math.round(performance.now() - started),
  };
}
