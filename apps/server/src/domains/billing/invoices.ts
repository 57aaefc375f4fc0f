import type { InvoiceDto, InvoiceListQuery } from "@switchboard/shared";
import { sql } from "kysely";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import { AppError, notFound } from "../../http/errors.ts";
import { writeAudit } from "../audit/audit.ts";
import { type Actor, assertClientVisible, requireRole } from "../auth/actor.ts";

interface InvoiceRow {
  id: string;
  number: number;
  client_id: string;
  client_name: string;
  period_start: string;
  period_end: string;
  status: "draft" | "approved";
  currency: string;
  total_minor: number;
  issued_on: string | null;
  approved_at: Date | null;
  version: number;
  entries: number;
}

function selectInvoices(db: Database) {
  return db
    .selectFrom("invoices as i")
    .innerJoin("clients as c", "c.id", "i.client_id")
    .select([
      "i.id",
      "i.number",
      "i.client_id",
      "c.name as client_name",
      "i.period_start",
      "i.period_end",
      "i.status",
      "i.currency",
      "i.total_minor",
      "i.issued_on",
      "i.approved_at",
      "i.version",
      sql<number>`(select count(*)::int from time_entries e where e.invoice_id = i.id)`.as("entries"),
    ]);
}

async function withLines(db: Database, rows: InvoiceRow[]): Promise<InvoiceDto[]> {
  if (!rows.length) return [];
  const lines = await db
    .selectFrom("invoice_lines")
    .selectAll()
    .where(
      "invoice_id",
      "in",
      rows.map((r) => r.id),
    )
    .orderBy("invoice_id")
    .orderBy("position")
    .execute();
  return rows.map((r) => ({
    id: r.id,
    number: Number(r.number),
    clientId: r.client_id,
    clientName: r.client_name,
    periodStart: r.period_start,
    periodEnd: r.period_end,
    status: r.status,
    currency: r.currency,
    totalMinor: Number(r.total_minor),
    issuedOn: r.issued_on,
    approvedAt: r.approved_at?.toISOString() ?? null,
    timeEntryCount: Number(r.entries),
    version: r.version,
    lines: lines
      .filter((l) => l.invoice_id === r.id)
      .map((l) => ({
        id: l.id,
        kind: l.kind,
        description: l.description,
        quantity: Number(l.quantity),
        unit: l.unit,
        unitPriceMinor: Number(l.unit_price_minor),
        amountMinor: Number(l.amount_minor),
        minutes: l.minutes,
      })),
  }));
}

export async function listInvoices(db: Database, actor: Actor, q: z.output<typeof InvoiceListQuery>) {
  requireRole(actor, "admin", "dispatcher");
  let query = selectInvoices(db).orderBy("c.name").orderBy("i.period_start", "desc");
  if (q.period) query = query.where("i.period_start", "=", `${q.period.slice(0, 7)}-01`);
  if (q.clientId) query = query.where("i.client_id", "=", q.clientId);
  if (q.status) query = query.where("i.status", "=", q.status);
  if (actor.clientIds) {
    if (!actor.clientIds.length) return [];
    query = query.where("i.client_id", "in", [...actor.clientIds]);
  }
  return withLines(db, (await query.limit(2000).execute()) as InvoiceRow[]);
}

export async function getInvoice(db: Database, actor: Actor, id: string) {
  requireRole(actor, "admin", "dispatcher");
  const row = (await selectInvoices(db).where("i.id", "=", id).executeTakeFirst()) as InvoiceRow | undefined;
  if (!row) throw notFound("Invoice");
  assertClientVisible(actor, row.client_id, "Invoice");
  return (await withLines(db, [row]))[0]!;
}

/** An approved invoice is final: its entries can no longer be re-billed or changed (only reversed). */
export async function approveInvoice(db: Database, actor: Actor, id: string) {
  requireRole(actor, "admin");
  await db.transaction().execute(async (trx) => {
    const inv = await trx
      .selectFrom("invoices")
      .selectAll()
      .where("id", "=", id)
      .forUpdate()
      .executeTakeFirst();
    if (!inv) throw notFound("Invoice");
    assertClientVisible(actor, inv.client_id, "Invoice");
    if (inv.status !== "draft")
      throw new AppError("invalid_transition", 409, "The invoice is already approved");
    const today = new Date().toISOString().slice(0, 10);
    await trx
      .updateTable("invoices")
      .set((eb) => ({
        status: "approved",
        approved_by_user_id: actor.userId,
        approved_at: new Date(),
        issued_on: today,
        version: eb("version", "+", 1),
      }))
      .where("id", "=", id)
      .execute();
    await writeAudit(trx, actor, {
      action: "invoice.approve",
      entityType: "invoice",
      entityId: id,
      clientId: inv.client_id,
      after: { number: inv.number, totalMinor: inv.total_minor },
    });
  });
  return getInvoice(db, actor, id);
}

/** A draft is thrown away: its entries and block draws are free for the next run. */
export async function discardDraft(db: Database, actor: Actor, id: string) {
  requireRole(actor, "admin");
  await db.transaction().execute(async (trx) => {
    const inv = await trx
      .selectFrom("invoices")
      .selectAll()
      .where("id", "=", id)
      .forUpdate()
      .executeTakeFirst();
    if (!inv) throw notFound("Invoice");
    assertClientVisible(actor, inv.client_id, "Invoice");
    if (inv.status !== "draft")
      throw new AppError("invalid_transition", 409, "An approved invoice cannot be discarded");
    await trx
      .updateTable("time_entries")
      .set({ invoice_id: null, billed_minutes: null, billed_amount_minor: null })
      .where("invoice_id", "=", id)
      .execute();
    await trx.deleteFrom("invoices").where("id", "=", id).execute();
    await writeAudit(trx, actor, {
      action: "invoice.discard",
      entityType: "invoice",
      entityId: id,
      clientId: inv.client_id,
      before: { number: inv.number, totalMinor: inv.total_minor },
    });
  });
}
