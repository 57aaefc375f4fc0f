import type {
  SaveSlaCalendarRequest,
  SaveSlaPolicyRequest,
  SlaCalendarDto,
  SlaPolicyDto,
} from "@switchboard/shared";
import type { Transaction } from "kysely";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import type { DB } from "../../db/schema.ts";
import { AppError, conflictOn, invalid, isUniqueViolation, notFound } from "../../http/errors.ts";
import { bossDb } from "../../lib/jobs.ts";
import { writeAudit } from "../audit/audit.ts";
import { type Actor, assertClientVisible, requireRole } from "../auth/actor.ts";
import { calendarProblems, formatHhmm, parseHhmm } from "./calendar.ts";
import { RECOMPUTE_QUEUE } from "./jobs.ts";
import type { SlaDeps } from "./recompute.ts";

type CalendarInput = z.output<typeof SaveSlaCalendarRequest>;
type PolicyInput = z.output<typeof SaveSlaPolicyRequest>;

/** Open tickets' clocks again (all, or one client's), by a job in the same transaction as the change. */
async function recomputeLater(deps: SlaDeps, trx: Transaction<DB>, clientId: string | null) {
  if (deps.boss) await deps.boss.send(RECOMPUTE_QUEUE, { clientId }, { db: bossDb(trx), retryLimit: 3 });
}

export async function listCalendars(db: Database): Promise<SlaCalendarDto[]> {
  const cals = await db.selectFrom("sla_calendars").selectAll().orderBy("name").execute();
  const holidays = await db.selectFrom("sla_holidays").selectAll().orderBy("date").execute();
  return cals.map((c) => ({
    id: c.id,
    name: c.name,
    timeZone: c.time_zone,
    alwaysOpen: c.always_open,
    hours: c.hours.map((h) => ({ day: h.day, start: formatHhmm(h.start), end: formatHhmm(h.end) })),
    holidays: holidays.filter((h) => h.calendar_id === c.id).map((h) => ({ date: h.date, name: h.name })),
    version: c.version,
  }));
}

function checkCalendar(input: CalendarInput) {
  const problems = calendarProblems(input);
  if (problems.length) {
    throw new AppError("validation_failed", 400, problems[0]!.message, { issues: problems });
  }
  const dates = new Set<string>();
  input.holidays.forEach((h, i) => {
    if (dates.has(h.date)) throw invalid(`body.holidays.${i}.date`, `${h.date} is listed twice`);
    dates.add(h.date);
  });
}

/** Creates (id null) or replaces a calendar with its holidays; open tickets' clocks follow. */
export async function saveCalendar(
  deps: SlaDeps,
  actor: Actor,
  id: string | null,
  input: CalendarInput,
): Promise<SlaCalendarDto> {
  requireRole(actor, "admin");
  checkCalendar(input);
  const hours = JSON.stringify(
    input.hours.map((h) => ({ day: h.day, start: parseHhmm(h.start)!, end: parseHhmm(h.end)! })),
  );
  const savedId = await deps.db.transaction().execute(async (trx) => {
    let row: { id: string } | undefined;
    try {
      row = id
        ? await trx
            .updateTable("sla_calendars")
            .set((eb) => ({
              name: input.name,
              time_zone: input.timeZone,
              always_open: input.alwaysOpen,
              hours,
              version: eb("version", "+", 1),
              updated_at: new Date(),
            }))
            .where("id", "=", id)
            .returning("id")
            .executeTakeFirst()
        : await trx
            .insertInto("sla_calendars")
            .values({ name: input.name, time_zone: input.timeZone, always_open: input.alwaysOpen, hours })
            .returning("id")
            .executeTakeFirst();
    } catch (err) {
      if (isUniqueViolation(err, "sla_calendars_name_idx"))
        throw conflictOn("body.name", `a calendar named "${input.name}" exists`);
      throw err;
    }
    if (!row) throw notFound("Calendar");
    await trx.deleteFrom("sla_holidays").where("calendar_id", "=", row.id).execute();
    if (input.holidays.length) {
      await trx
        .insertInto("sla_holidays")
        .values(input.holidays.map((h) => ({ calendar_id: row.id, date: h.date, name: h.name })))
        .execute();
    }
    await writeAudit(trx, actor, {
      action: id ? "sla_calendar.update" : "sla_calendar.create",
      entityType: "sla_calendar",
      entityId: row.id,
      after: input,
    });
    if (id) await recomputeLater(deps, trx, null);
    return row.id;
  });
  return (await listCalendars(deps.db)).find((c) => c.id === savedId)!;
}

export async function listPolicies(db: Database): Promise<SlaPolicyDto[]> {
  const rows = await db
    .selectFrom("sla_policies as p")
    .innerJoin("sla_calendars as c", "c.id", "p.calendar_id")
    .selectAll("p")
    .select("c.name as calendar_name")
    .orderBy("p.name")
    .execute();
  const assigned = await db
    .selectFrom("client_sla_policies as a")
    .innerJoin("clients as c", "c.id", "a.client_id")
    .select(["a.policy_id", "c.id", "c.name"])
    .orderBy("c.name")
    .execute();
  return rows.map((p) => ({
    id: p.id,
    name: p.name,
    calendar: { id: p.calendar_id, name: p.calendar_name },
    targets: p.targets as SlaPolicyDto["targets"],
    warnPercent: p.warn_percent,
    pauseCategories: p.pause_categories,
    isDefault: p.is_default,
    clients: assigned.filter((a) => a.policy_id === p.id).map((a) => ({ id: a.id, name: a.name })),
    version: p.version,
  }));
}

export async function savePolicy(
  deps: SlaDeps,
  actor: Actor,
  id: string | null,
  input: PolicyInput,
): Promise<SlaPolicyDto> {
  requireRole(actor, "admin");
  const savedId = await deps.db.transaction().execute(async (trx) => {
    const cal = await trx
      .selectFrom("sla_calendars")
      .select("id")
      .where("id", "=", input.calendarId)
      .executeTakeFirst();
    if (!cal) throw invalid("body.calendarId", "no such calendar");
    // One default: choosing this one unsets the previous.
    if (input.isDefault) {
      await trx
        .updateTable("sla_policies")
        .set({ is_default: false })
        .where("is_default", "=", true)
        .where("id", "!=", id ?? "00000000-0000-0000-0000-000000000000")
        .execute();
    }
    const values = {
      name: input.name,
      calendar_id: input.calendarId,
      targets: JSON.stringify(input.targets),
      warn_percent: input.warnPercent,
      pause_categories: input.pauseCategories,
      is_default: input.isDefault,
    };
    let row: { id: string } | undefined;
    try {
      row = id
        ? await trx
            .updateTable("sla_policies")
            .set((eb) => ({ ...values, version: eb("version", "+", 1), updated_at: new Date() }))
            .where("id", "=", id)
            .returning("id")
            .executeTakeFirst()
        : await trx.insertInto("sla_policies").values(values).returning("id").executeTakeFirst();
    } catch (err) {
      if (isUniqueViolation(err, "sla_policies_name_idx"))
        throw conflictOn("body.name", `a policy named "${input.name}" exists`);
      throw err;
    }
    if (!row) throw notFound("Policy");
    await writeAudit(trx, actor, {
      action: id ? "sla_policy.update" : "sla_policy.create",
      entityType: "sla_policy",
      entityId: row.id,
      after: input,
    });
    if (id || input.isDefault) await recomputeLater(deps, trx, null);
    return row.id;
  });
  return (await listPolicies(deps.db)).find((p) => p.id === savedId)!;
}

/** The client's contract level (null: back to the MSP default); its open tickets' clocks follow. */
export async function setClientPolicy(
  deps: SlaDeps,
  actor: Actor,
  clientId: string,
  policyId: string | null,
) {
  requireRole(actor, "admin", "dispatcher");
  assertClientVisible(actor, clientId, "Client");
  await deps.db.transaction().execute(async (trx) => {
    const client = await trx.selectFrom("clients").select("id").where("id", "=", clientId).executeTakeFirst();
    if (!client) throw notFound("Client");
    const before = await trx
      .selectFrom("client_sla_policies")
      .select("policy_id")
      .where("client_id", "=", clientId)
      .executeTakeFirst();
    if (policyId) {
      const p = await trx
        .selectFrom("sla_policies")
        .select("id")
        .where("id", "=", policyId)
        .executeTakeFirst();
      if (!p) throw invalid("body.policyId", "no such policy");
      await trx
        .insertInto("client_sla_policies")
        .values({ client_id: clientId, policy_id: policyId })
        .onConflict((oc) => oc.column("client_id").doUpdateSet({ policy_id: policyId }))
        .execute();
    } else {
      await trx.deleteFrom("client_sla_policies").where("client_id", "=", clientId).execute();
    }
    await writeAudit(trx, actor, {
      action: "client.sla_policy",
      entityType: "client",
      entityId: clientId,
      clientId,
      before: { policyId: before?.policy_id ?? null },
      after: { policyId },
    });
    await recomputeLater(deps, trx, clientId);
  });
  return { policyId };
}
