import { randomUUID } from "node:crypto";
import type { Readable } from "node:stream";
import type { ImportField, ImportResult, ImportRowOutcome } from "@switchboard/shared";
import { parse } from "csv-parse";
import type { Transaction } from "kysely";
import type { Database } from "../../../db/database.ts";
import type { DB } from "../../../db/schema.ts";
import { AppError, invalid } from "../../../http/errors.ts";
import { writeAudit } from "../../audit/audit.ts";
import { type Actor, requireRole } from "../../auth/actor.ts";
import { emitEvent } from "../../events/outbox.ts";
import { mapColumns } from "./columns.ts";
import { type Cache, importRow, type Totals } from "./rows.ts";

// Clients, sites and contacts from a CSV export. The file is streamed through the parser and written in
// batches of BATCH rows, one transaction each (a failure rolls back that batch alone and says so on its
// rows). A re-run is idempotent: clients match by name, sites by name within the client, contacts by
// email (else by first and last name) within the client, and a match that already holds the file's
// values is "skipped: already up to date". A dry run does the same work in one transaction that is
// rolled back: the preview is exactly what the import would do.

export const BATCH = 500;
const MAX_OUTCOMES = 1000;
const PREVIEW_ROWS = 20;

type Outcome = ImportRowOutcome;

class Rollback extends Error {}

export async function importClientsAndContacts(
  db: Database,
  actor: Actor,
  input: Readable,
  opts: { dryRun: boolean; mapping?: Record<string, ImportField | null> },
): Promise<ImportResult> {
  requireRole(actor, "admin");
  const importId = randomUUID();
  const parser = input.pipe(
    parse({ bom: true, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, trim: true }),
  );
  input.on("error", (e) => parser.destroy(e));
  const records = parser[Symbol.asyncIterator]() as AsyncIterator<string[]>;
  const first = await records.next().catch(badCsv);
  if (first.done) throw invalid("body.file", "is empty: the first line must name the columns");
  const map = mapColumns(first.value, opts.mapping);
  if (!map.columns.some((c) => c.field === "client.name")) {
    throw invalid(
      "body.file",
      `has no column for the client's name (such as "Company Name", "Organization Name" or "Client Name"); columns: ${first.value.slice(0, 30).join(", ")}`,
    );
  }
  const totals: Totals = {
    clients: { created: 0, updated: 0, unchanged: 0 },
    contacts: { created: 0, updated: 0, skipped: 0 },
    errors: 0,
  };
  const outcomes: Outcome[] = [];
  const cache: Cache = { clients: new Map(), sites: new Map() };
  let rowNumber = 1; // the header is line 1

  const nextBatch = async () => {
    const batch: Array<{ row: number; cells: string[] }> = [];
    while (batch.length < BATCH) {
      const r = await records.next().catch(badCsv);
      if (r.done) break;
      rowNumber++;
      batch.push({ row: rowNumber, cells: r.value });
    }
    return batch;
  };
  const record = (o: Outcome) => {
    if (o.outcome === "error") totals.errors++;
    if (outcomes.length < MAX_OUTCOMES && (o.outcome !== "created" || o.row - 1 <= PREVIEW_ROWS))
      outcomes.push(o);
  };

  const runBatch = async (trx: Transaction<DB>, batch: Array<{ row: number; cells: string[] }>) => {
    const done: Outcome[] = [];
    const changed = { clients: [] as string[], contacts: [] as string[] };
    for (const { row, cells } of batch) {
      done.push(await importRow(trx, map, cache, totals, changed, row, cells));
    }
    if (changed.clients.length || changed.contacts.length) {
      await writeAudit(trx, actor, {
        action: "import.clients_contacts",
        entityType: "import",
        entityId: importId,
        after: { rows: `${batch[0]!.row}-${batch.at(-1)!.row}`, format: map.format, ...changed },
      });
      await emitEvent(trx, actor, {
        type: "directory.imported",
        payload: { importId, clients: changed.clients.length, contacts: changed.contacts.length },
      });
    }
    return done;
  };

  if (opts.dryRun) {
    await db
      .transaction()
      .execute(async (trx) => {
        for (let batch = await nextBatch(); batch.length; batch = await nextBatch()) {
          for (const o of await runBatch(trx, batch)) record(o);
        }
        throw new Rollback();
      })
      .catch((e) => {
        if (!(e instanceof Rollback)) throw e;
      });
  } else {
    for (let batch = await nextBatch(); batch.length; batch = await nextBatch()) {
      const before = structuredClone(totals);
      const cached = new Set(cache.clients.keys());
      try {
        for (const o of await db.transaction().execute((trx) => runBatch(trx, batch))) record(o);
      } catch (err) {
        if (err instanceof AppError) throw err;
        // The batch rolled back: nothing of it was written, and each of its rows says so.
        Object.assign(totals, before);
        for (const k of cache.clients.keys()) if (!cached.has(k)) cache.clients.delete(k);
        cache.sites.clear();
        const reason = `not imported: rows ${batch[0]!.row}-${batch.at(-1)!.row} were rolled back (${(err as Error).message.slice(0, 200)})`;
        for (const { row } of batch) record({ row, outcome: "error", client: null, contact: null, reason });
      }
    }
  }
  return {
    dryRun: opts.dryRun,
    format: map.format,
    columns: map.columns,
    rows: rowNumber - 1,
    ...totals,
    outcomes,
  };
}

function badCsv(err: Error): never {
  throw invalid("body.file", `is not readable CSV: ${err.message.slice(0, 200)}`);
}
