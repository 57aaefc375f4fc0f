import type { InvoiceDto } from "@switchboard/shared";
import PDFDocument from "pdfkit";
import { addDays } from "../../lib/zoned.ts";

/** Minor units to "1234.56" (two decimals: the currencies an MSP bills in). */
export function money(minor: number): string {
  const sign = minor < 0 ? "-" : "";
  const abs = Math.abs(minor);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/**
 * One CSV cell (RFC 4180). Text that a spreadsheet would run as a formula (=, +, -, @ first) is
 * prefixed with an apostrophe: a client named "=HYPERLINK(...)" must not become a link in accounting.
 */
function cell(v: string | number, text = true): string {
  let s = String(v);
  if (text && /^[=+\-@\t\r]/.test(s)) s = `'${s}`;
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

const NET_DAYS = 30;

/**
 * Quantity and unit price for an accounting package, which multiplies them: when per-entry rounding
 * makes a time line's amount differ from hours x rate, the line goes as 1 x its exact amount, with the
 * hours in the description, so the invoice total never changes on import.
 */
function priced(l: InvoiceDto["lines"][number]) {
  if (Math.round(l.quantity * l.unitPriceMinor) === l.amountMinor) {
    return { description: l.description, quantity: l.quantity, unitPrice: l.unitPriceMinor };
  }
  return { description: `${l.description}: ${l.quantity} ${l.unit}`, quantity: 1, unitPrice: l.amountMinor };
}
const dueOf = (inv: InvoiceDto) => addDays(inv.issuedOn ?? inv.periodEnd, NET_DAYS);
const invoiceDate = (inv: InvoiceDto) => inv.issuedOn ?? inv.periodEnd;

/**
 * Invoices as the accounting packages import them, one row per line:
 * - QuickBooks Online: the column names its invoice import maps by itself;
 * - Xero: its sales invoice template (account code 200 "Sales", no tax: set both in Xero as needed).
 */
export function invoicesCsv(invoices: InvoiceDto[], format: "quickbooks" | "xero"): string {
  const rows: string[] = [];
  if (format === "quickbooks") {
    rows.push(
      "Invoice number,Customer,Invoice date,Due date,Terms,Memo,Item (Product/Service),Item Description,Item Quantity,Item Rate,Item Amount,Service Date",
    );
    for (const inv of invoices) {
      for (const line of inv.lines) {
        const l = { ...line, ...priced(line) };
        rows.push(
          [
            cell(inv.number, false),
            cell(inv.clientName),
            cell(invoiceDate(inv), false),
            cell(dueOf(inv), false),
            cell(`Net ${NET_DAYS}`),
            cell(`Switchboard ${inv.periodStart} to ${inv.periodEnd}`),
            cell(l.kind === "hourly" || l.kind === "block" ? "Services" : "Managed services"),
            cell(l.description),
            cell(l.quantity, false),
            cell(money(l.unitPrice), false),
            cell(money(l.amountMinor), false),
            cell(inv.periodEnd, false),
          ].join(","),
        );
      }
    }
  } else {
    rows.push(
      "*ContactName,*InvoiceNumber,Reference,*InvoiceDate,*DueDate,*Description,*Quantity,*UnitAmount,*AccountCode,*TaxType,Currency",
    );
    for (const inv of invoices) {
      for (const line of inv.lines) {
        const l = { ...line, ...priced(line) };
        rows.push(
          [
            cell(inv.clientName),
            cell(`INV-${inv.number}`, false),
            cell(`${inv.periodStart} to ${inv.periodEnd}`),
            cell(invoiceDate(inv), false),
            cell(dueOf(inv), false),
            cell(l.description),
            cell(l.quantity, false),
            cell(money(l.unitPrice), false),
            cell("200", false),
            cell("Tax Exempt"),
            cell(inv.currency, false),
          ].join(","),
        );
      }
    }
  }
  return `${rows.join("\r\n")}\r\n`;
}

/** The invoice as a PDF for the client: the MSP, the client, the lines and the total. */
export function invoicePdf(inv: InvoiceDto, msp: { name: string }): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const doc = new PDFDocument({
      size: "A4",
      margin: 50,
      info: { Title: `Invoice ${inv.number}`, Author: msp.name },
    });
    const chunks: Buffer[] = [];
    doc.on("data", (c: Buffer) => chunks.push(c));
    doc.on("end", () => resolve(Buffer.concat(chunks)));
    doc.on("error", reject);
    doc.fontSize(18).text(msp.name);
    doc
      .moveDown(0.5)
      .fontSize(14)
      .text(`Invoice ${inv.number}${inv.status === "draft" ? " (draft)" : ""}`);
    doc.fontSize(10).moveDown(0.5);
    doc.text(`Bill to: ${inv.clientName}`);
    doc.text(`Period: ${inv.periodStart} to ${inv.periodEnd}`);
    doc.text(`Invoice date: ${invoiceDate(inv)}    Due: ${dueOf(inv)} (net ${NET_DAYS})`);
    doc.moveDown();
    const cols = { desc: 50, qty: 330, price: 400, amount: 480 };
    const header = doc.y;
    doc.font("Helvetica-Bold");
    doc.text("Description", cols.desc, header, { width: 270 });
    doc.text("Qty", cols.qty, header, { width: 60, align: "right" });
    doc.text("Price", cols.price, header, { width: 70, align: "right" });
    doc.text("Amount", cols.amount, header, { width: 65, align: "right" });
    doc.font("Helvetica").moveDown(0.5);
    for (const l of inv.lines) {
      if (doc.y > 760) doc.addPage();
      const y = doc.y;
      doc.text(l.description, cols.desc, y, { width: 270 });
      const after = doc.y;
      doc.text(`${l.quantity} ${l.unit}`, cols.qty, y, { width: 60, align: "right" });
      doc.text(money(l.unitPriceMinor), cols.price, y, { width: 70, align: "right" });
      doc.text(money(l.amountMinor), cols.amount, y, { width: 65, align: "right" });
      doc.y = Math.max(after, doc.y) + 4;
    }
    doc.moveDown();
    doc.font("Helvetica-Bold").text(`Total ${inv.currency} ${money(inv.totalMinor)}`, cols.desc, doc.y, {
      width: 495,
      align: "right",
    });
    doc.end();
  });
}
