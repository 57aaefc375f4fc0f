import type {
  AddBlockRequest,
  ContractDto,
  CreateContractRequest,
  UpdateContractRequest,
} from "@switchboard/shared";
import { sql, type Transaction } from "kysely";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import type { DB } from "../../db/schema.ts";
import { invalid, notFound, versionConflict } from "../../http/errors.ts";
import { writeAudit } from "../audit/audit.ts";
import { type Actor, assertClientVisible, canSeeClient, requireRole } from "../auth/actor.ts";

type Trx = Transaction<DB>;
type LineInput = z.output<typeof CreateContractRequest>["lines"][number];

function checkLines(lines: LineInput[]) {
  lines.forEach((l, i) => {
    const at = `body.lines.${i}`;
    if ((l.kind === "hourly" || l.kind === "block") && l.unitPriceMinor !== 0) {
      throw invalid(`${at}.unitPriceMinor`, "is for managed and fixed lines; an hourly line has a rate");
    }
    if (l.kind === "hourly" && l.rateMinor === 0)
      throw invalid(`${at}.rateMinor`, "an hourly line needs a rate");
    if (l.kind !== "hourly" && l.kind !== "block" && l.workType !== null) {
      throw invalid(`${at}.workType`, "only hourly and block lines price a work type");
    }
  });
  const seen = new Set<string>();
  for (const [i, l] of lines.entries()) {
    if (l.kind !== "hourly" && l.kind !== "block") continue;
    const key = `${l.kind}:${l.workType ?? "any"}`;
    if (seen.has(key))
      throw invalid(
        `body.lines.${i}.workType`,
        `a second ${l.kind} line for ${l.workType ?? "any work type"}`,
      );
    seen.add(key);
  }
}

async function insertLines(trx: Trx, clientId: string, contractId: string, lines: LineInput[]) {
  if (!lines.length) return;
  await trx
    .insertInto("contract_lines")
    .values(
      lines.map((l, i) => ({
        client_id: clientId,
        contract_id: contractId,
        kind: l.kind,
        description: l.description,
        work_type: l.workType,
        unit_price_minor: l.unitPriceMinor,
        rate_minor: l.rateMinor,
        rounding_minimum_minutes: l.roundingMinimumMinutes,
        rounding_increment_minutes: l.roundingIncrementMinutes,
        after_hours_multiplier_pct: l.afterHoursMultiplierPct,
        position: i,
      })),
    )
    .execute();
}

export async function loadContract(db: Database | Trx, id: string): Promise<ContractDto | null> {
  const c = await db
    .selectFrom("contracts as k")
    .innerJoin("clients as c", "c.id", "k.client_id")
    .selectAll("k")
    .select("c.name as client_name")
    .where("k.id", "=", id)
    .executeTakeFirst();
  if (!c) return null;
  const lines = await db
    .selectFrom("contract_lines")
    .selectAll()
    .where("contract_id", "=", id)
    .orderBy("position")
    .execute();
  const blocks = await blockBalances(db, { contractId: id });
  return {
    id: c.id,
    clientId: c.client_id,
    clientName: c.client_name,
    name: c.name,
    currency: c.currency,
    startsOn: c.starts_on,
    endsOn: c.ends_on,
    active: c.active,
    lines: lines.map((l) => ({
      id: l.id,
      kind: l.kind,
      description: l.description,
      workType: l.work_type,
      unitPriceMinor: Number(l.unit_price_minor),
      rateMinor: Number(l.rate_minor),
      roundingMinimumMinutes: l.rounding_minimum_minutes,
      roundingIncrementMinutes: l.rounding_increment_minutes,
      afterHoursMultiplierPct: l.after_hours_multiplier_pct,
    })),
    blocks,
    version: c.version,
  };
}

/** Blocks with what is left: the purchase plus the ledger's draws (negative) and returns. */
export async function blockBalances(
  db: Database | Trx,
  f: { contractId?: string; clientIds?: readonly string[] | null },
) {
  const today = new Date().toISOString().slice(0, 10);
  const { rows } = await sql<{
    id: string;
    client_id: string;
    purchased_minutes: number;
    used: number;
    price_minor: number;
    purchased_on: string;
    expires_on: string;
    note: string;
  }>`select b.id, b.client_id, b.purchased_minutes, b.price_minor, b.purchased_on::text, b.expires_on::text, b.note,
      -coalesce((select sum(l.minutes) from block_ledger l where l.block_id = b.id), 0)::int as used
    from block_hours b
    where (${f.contractId ?? null}::uuid is null or b.contract_id = ${f.contractId ?? null}::uuid)
      and (${f.clientIds ? [...f.clientIds] : null}::uuid[] is null or b.client_id = any(${f.clientIds ? [...f.clientIds] : null}::uuid[]))
    order by b.expires_on, b.purchased_on, b.id`.execute(db);
  return rows.map((b) => ({
    id: b.id,
    clientId: b.client_id,
    purchasedMinutes: b.purchased_minutes,
    usedMinutes: Number(b.used),
    remainingMinutes: b.purchased_minutes - Number(b.used),
    priceMinor: Number(b.price_minor),
    purchasedOn: b.purchased_on,
    expiresOn: b.expires_on,
    note: b.note,
    expired: b.expires_on < today,
  }));
}

export async function listContracts(db: Database, actor: Actor, clientId?: string) {
  requireRole(actor, "admin", "dispatcher");
  let q = db.selectFrom("contracts").select("id").orderBy("created_at");
  if (clientId) q = q.where("client_id", "=", clientId);
  if (actor.clientIds) {
    if (!actor.clientIds.length) return [];
    q = q.where("client_id", "in", [...actor.clientIds]);
  }
  const ids = await q.execute();
  const out: ContractDto[] = [];
  for (const { id } of ids) out.push((await loadContract(db, id))!);
  return out;
}

export async function getContract(db: Database, actor: Actor, id: string) {
  requireRole(actor, "admin", "dispatcher");
  const c = await loadContract(db, id);
  if (!c || !canSeeClient(actor, c.clientId)) throw notFound("Contract");
  return c;
}

export async function createContract(
  db: Database,
  actor: Actor,
  input: z.output<typeof CreateContractRequest>,
) {
  requireRole(actor, "admin");
  if (!canSeeClient(actor, input.clientId)) throw invalid("body.clientId", "no such client");
  if (input.endsOn && input.endsOn < input.startsOn) throw invalid("body.endsOn", "is before the start");
  checkLines(input.lines);
  return db.transaction().execute(async (trx) => {
    const client = await trx
      .selectFrom("clients")
      .select("id")
      .where("id", "=", input.clientId)
      .executeTakeFirst();
    if (!client) throw invalid("body.clientId", "no such client");
    const row = await trx
      .insertInto("contracts")
      .values({
        client_id: input.clientId,
        name: input.name,
        currency: input.currency,
        starts_on: input.startsOn,
        ends_on: input.endsOn,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    await insertLines(trx, input.clientId, row.id, input.lines);
    const after = (await loadContract(trx, row.id))!;
    await writeAudit(trx, actor, {
      action: "contract.create",
      entityType: "contract",
      entityId: row.id,
      clientId: input.clientId,
      after,
    });
    return after;
  });
}

export async function updateContract(
  db: Database,
  actor: Actor,
  id: string,
  input: z.output<typeof UpdateContractRequest>,
) {
  requireRole(actor, "admin");
  if (input.lines) checkLines(input.lines);
  return db.transaction().execute(async (trx) => {
    await trx.selectFrom("contracts").select("id").where("id", "=", id).forUpdate().execute();
    const before = await loadContract(trx, id);
    if (!before) throw notFound("Contract");
    assertClientVisible(actor, before.clientId, "Contract");
    if (before.version !== input.version) throw versionConflict("contract", before);
    if (input.endsOn && input.endsOn < before.startsOn) throw invalid("body.endsOn", "is before the start");
    await trx
      .updateTable("contracts")
      .set((eb) => ({
        name: input.name,
        ends_on: input.endsOn,
        active: input.active,
        version: eb("version", "+", 1),
        updated_at: new Date(),
      }))
      .where("id", "=", id)
      .execute();
    if (input.lines) {
      await trx.deleteFrom("contract_lines").where("contract_id", "=", id).execute();
      await insertLines(trx, before.clientId, id, input.lines);
    }
    const after = (await loadContract(trx, id))!;
    await writeAudit(trx, actor, {
      action: "contract.update",
      entityType: "contract",
      entityId: id,
      clientId: before.clientId,
      before,
      after,
    });
    return after;
  });
}

export async function addBlock(
  db: Database,
  actor: Actor,
  contractId: string,
  input: z.output<typeof AddBlockRequest>,
) {
  requireRole(actor, "admin");
  if (input.expiresOn < input.purchasedOn) throw invalid("body.expiresOn", "is before the purchase");
  return db.transaction().execute(async (trx) => {
    const c = await trx
      .selectFrom("contracts")
      .select(["id", "client_id"])
      .where("id", "=", contractId)
      .executeTakeFirst();
    if (!c || !canSeeClient(actor, c.client_id)) throw notFound("Contract");
    const row = await trx
      .insertInto("block_hours")
      .values({
        client_id: c.client_id,
        contract_id: contractId,
        purchased_minutes: input.purchasedMinutes,
        price_minor: input.priceMinor,
        purchased_on: input.purchasedOn,
        expires_on: input.expiresOn,
        note: input.note,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    await writeAudit(trx, actor, {
      action: "contract.block_add",
      entityType: "contract",
      entityId: contractId,
      clientId: c.client_id,
      after: { blockId: row.id, ...input },
    });
    return (await loadContract(trx, contractId))!;
  });
}
