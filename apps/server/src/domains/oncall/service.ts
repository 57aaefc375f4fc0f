import type { CreateOverrideRequest, PageDto, RotationDto, SaveRotationRequest } from "@switchboard/shared";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import { asSystem } from "../../db/scope.ts";
import { AppError, conflictOn, invalid, isUniqueViolation, notFound } from "../../http/errors.ts";
import { writeAudit } from "../audit/audit.ts";
import { type Actor, assertClientVisible, requireRole, requireUser } from "../auth/actor.ts";
import { formatHhmm, parseHhmm } from "../sla/calendar.ts";
import type { SlaDeps } from "../sla/recompute.ts";
import { acknowledgePage, deliverPage, loadRota, verifyAckToken } from "./pages.ts";
import { onCallAt, shiftsBetween } from "./rota.ts";

type RotationInput = z.output<typeof SaveRotationRequest>;

async function names(db: Database, ids: string[]) {
  if (!ids.length) return new Map<string, { name: string; phone: string | null }>();
  const rows = await db.selectFrom("users").select(["id", "name", "phone"]).where("id", "in", ids).execute();
  return new Map(rows.map((r) => [r.id, { name: r.name, phone: r.phone }]));
}

export async function listRotations(db: Database, now = new Date()): Promise<RotationDto[]> {
  const rows = await db.selectFrom("oncall_rotations").select("id").orderBy("name").execute();
  const out: RotationDto[] = [];
  for (const { id } of rows) {
    const l = (await loadRota(db, id))!;
    const cal = l.row.calendar_id
      ? await db
          .selectFrom("sla_calendars")
          .select(["id", "name"])
          .where("id", "=", l.row.calendar_id)
          .executeTakeFirst()
      : undefined;
    const who = onCallAt(l.rota, l.overrides, now);
    const users = await names(db, [...l.rota.members, ...l.overrides.map((o) => o.userId)]);
    out.push({
      id,
      name: l.row.name,
      timeZone: l.row.time_zone,
      period: l.row.period,
      handover: formatHhmm(l.row.handover_minute),
      anchorDate: l.row.anchor_date,
      escalateAfterMinutes: l.row.escalate_after_minutes,
      maxRounds: l.row.max_rounds,
      pages: l.row.pages,
      calendar: cal ? { id: cal.id, name: cal.name } : null,
      members: l.rota.members.map((m) => ({
        id: m,
        name: users.get(m)?.name ?? "",
        phone: users.get(m)?.phone ?? null,
      })),
      overrides: l.overrides
        .filter((o) => o.endsAt > now)
        .map((o) => ({
          id: o.id,
          user: { id: o.userId, name: users.get(o.userId)?.name ?? "" },
          startsAt: o.startsAt.toISOString(),
          endsAt: o.endsAt.toISOString(),
          note: "",
        })),
      onCallNow: who.userId
        ? { id: who.userId, name: users.get(who.userId)?.name ?? "", until: who.end.toISOString() }
        : null,
      version: l.row.version,
    });
  }
  return out;
}

export async function saveRotation(db: Database, actor: Actor, id: string | null, input: RotationInput) {
  requireRole(actor, "admin");
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: input.timeZone });
  } catch {
    throw invalid("body.timeZone", `"${input.timeZone}" is not a known time zone`);
  }
  const handover = parseHhmm(input.handover);
  if (handover === null || handover >= 1440)
    throw invalid("body.handover", "use HH:MM between 00:00 and 23:59");
  if (new Set(input.memberIds).size !== input.memberIds.length)
    throw invalid("body.memberIds", "someone is listed twice");
  const savedId = await db.transaction().execute(async (trx) => {
    if (input.memberIds.length) {
      const found = await trx
        .selectFrom("users")
        .select("id")
        .where("id", "in", input.memberIds)
        .where("active", "=", true)
        .execute();
      if (found.length !== input.memberIds.length) throw invalid("body.memberIds", "no such active user");
    }
    if (input.calendarId) {
      const cal = await trx
        .selectFrom("sla_calendars")
        .select("id")
        .where("id", "=", input.calendarId)
        .executeTakeFirst();
      if (!cal) throw invalid("body.calendarId", "no such calendar");
    }
    if (input.pages) {
      await trx
        .updateTable("oncall_rotations")
        .set({ pages: false })
        .where("pages", "=", true)
        .where("id", "!=", id ?? "00000000-0000-0000-0000-000000000000")
        .execute();
    }
    const values = {
      name: input.name,
      time_zone: input.timeZone,
      period: input.period,
      handover_minute: handover,
      anchor_date: input.anchorDate,
      escalate_after_minutes: input.escalateAfterMinutes,
      max_rounds: input.maxRounds,
      pages: input.pages,
      calendar_id: input.calendarId,
    };
    let row: { id: string } | undefined;
    try {
      row = id
        ? await trx
            .updateTable("oncall_rotations")
            .set((eb) => ({ ...values, version: eb("version", "+", 1), updated_at: new Date() }))
            .where("id", "=", id)
            .returning("id")
            .executeTakeFirst()
        : await trx.insertInto("oncall_rotations").values(values).returning("id").executeTakeFirst();
    } catch (err) {
      if (isUniqueViolation(err, "oncall_rotations_name_idx"))
        throw conflictOn("body.name", `a rota named "${input.name}" exists`);
      throw err;
    }
    if (!row) throw notFound("Rota");
    await trx.deleteFrom("oncall_members").where("rotation_id", "=", row.id).execute();
    if (input.memberIds.length) {
      await trx
        .insertInto("oncall_members")
        .values(input.memberIds.map((user_id, position) => ({ rotation_id: row.id, user_id, position })))
        .execute();
    }
    await writeAudit(trx, actor, {
      action: id ? "oncall_rotation.update" : "oncall_rotation.create",
      entityType: "oncall_rotation",
      entityId: row.id,
      after: input,
    });
    return row.id;
  });
  return (await listRotations(db)).find((r) => r.id === savedId)!;
}

/** "I'll take Tuesday": a technician may cover for someone themselves; dispatchers and admins for anyone. */
export async function addOverride(
  db: Database,
  actor: Actor,
  rotationId: string,
  input: z.output<typeof CreateOverrideRequest>,
) {
  const me = requireUser(actor);
  if (input.userId !== me) requireRole(actor, "admin", "dispatcher");
  else requireRole(actor, "admin", "dispatcher", "technician");
  const startsAt = new Date(input.startsAt);
  const endsAt = new Date(input.endsAt);
  if (endsAt <= startsAt) throw invalid("body.endsAt", "ends before it starts");
  return db.transaction().execute(async (trx) => {
    const rot = await trx
      .selectFrom("oncall_rotations")
      .select("id")
      .where("id", "=", rotationId)
      .executeTakeFirst();
    if (!rot) throw notFound("Rota");
    const user = await trx
      .selectFrom("users")
      .select("id")
      .where("id", "=", input.userId)
      .where("active", "=", true)
      .executeTakeFirst();
    if (!user) throw invalid("body.userId", "no such active user");
    const row = await trx
      .insertInto("oncall_overrides")
      .values({
        rotation_id: rotationId,
        user_id: input.userId,
        starts_at: startsAt,
        ends_at: endsAt,
        note: input.note,
        created_by_user_id: me,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    await writeAudit(trx, actor, {
      action: "oncall_override.create",
      entityType: "oncall_rotation",
      entityId: rotationId,
      after: { overrideId: row.id, ...input },
    });
    return { id: row.id };
  });
}

export async function deleteOverride(db: Database, actor: Actor, rotationId: string, overrideId: string) {
  requireRole(actor, "admin", "dispatcher", "technician");
  await db.transaction().execute(async (trx) => {
    const o = await trx
      .selectFrom("oncall_overrides")
      .selectAll()
      .where("id", "=", overrideId)
      .where("rotation_id", "=", rotationId)
      .executeTakeFirst();
    if (!o) throw notFound("Override");
    if (o.user_id !== actor.userId && o.created_by_user_id !== actor.userId)
      requireRole(actor, "admin", "dispatcher");
    await trx.deleteFrom("oncall_overrides").where("id", "=", overrideId).execute();
    await writeAudit(trx, actor, {
      action: "oncall_override.delete",
      entityType: "oncall_rotation",
      entityId: rotationId,
      before: o,
    });
  });
}

const MAX_WINDOW_MS = 62 * 86_400_000;

/** Who is on call when, in a window (at most two months): gaps are shown as nobody. */
export async function rotationShifts(db: Database, rotationId: string, from: Date, to: Date) {
  if (to <= from) throw invalid("query.to", "ends before it starts");
  if (to.getTime() - from.getTime() > MAX_WINDOW_MS) throw invalid("query.to", "at most 62 days at a time");
  const l = await loadRota(db, rotationId);
  if (!l) throw notFound("Rota");
  const shifts = shiftsBetween(l.rota, l.overrides, from, to);
  const users = await names(db, [...new Set(shifts.map((s) => s.userId).filter((u): u is string => !!u))]);
  return {
    shifts: shifts.map((s) => ({
      user: s.userId ? { id: s.userId, name: users.get(s.userId)?.name ?? "" } : null,
      start: s.start.toISOString(),
      end: s.end.toISOString(),
      override: s.overrideId !== null,
    })),
  };
}

/** Pages the caller may see (row-level security: their clients'), newest first, with every delivery. */
export async function listPages(db: Database, status: "active" | "all", id?: string): Promise<PageDto[]> {
  let q = db
    .selectFrom("pages as p")
    .innerJoin("clients as c", "c.id", "p.client_id")
    .leftJoin("tickets as t", "t.id", "p.ticket_id")
    .leftJoin("users as a", "a.id", "p.acknowledged_by_user_id")
    .selectAll("p")
    .select(["c.name as client_name", "t.number", "t.subject", "a.name as ack_name"])
    .orderBy("p.created_at", "desc")
    .limit(100);
  if (status === "active") q = q.where("p.status", "in", ["paging", "exhausted"]);
  if (id) q = q.where("p.id", "=", id);
  const pages = await q.execute();
  if (!pages.length) return [];
  const deliveries = await db
    .selectFrom("page_deliveries")
    .selectAll()
    .where(
      "page_id",
      "in",
      pages.map((p) => p.id),
    )
    .orderBy("created_at")
    .execute();
  const users = await names(db, [
    ...new Set([
      ...pages.flatMap((p) => p.chain),
      ...deliveries.map((d) => d.user_id).filter((u): u is string => !!u),
    ]),
  ]);
  return pages.map((p) => {
    const current = p.chain.length ? p.chain[p.level % p.chain.length]! : null;
    return {
      id: p.id,
      ticket:
        p.ticket_id && p.number !== null
          ? { id: p.ticket_id, number: p.number, subject: p.subject ?? "" }
          : null,
      client: { id: p.client_id, name: p.client_name },
      reason: p.reason,
      summary: p.summary,
      status: p.status,
      level: p.level,
      maxLevels: p.max_levels,
      paging: current ? { id: current, name: users.get(current)?.name ?? "" } : null,
      acknowledgedAt: p.acknowledged_at?.toISOString() ?? null,
      acknowledgedBy: p.acknowledged_by_user_id
        ? { id: p.acknowledged_by_user_id, name: p.ack_name ?? "" }
        : null,
      createdAt: p.created_at.toISOString(),
      deliveries: deliveries
        .filter((d) => d.page_id === p.id)
        .map((d) => ({
          user: d.user_id ? { id: d.user_id, name: users.get(d.user_id)?.name ?? "" } : null,
          level: d.level,
          channel: d.channel,
          status: d.status,
          error: d.error,
          at: d.created_at.toISOString(),
        })),
    };
  });
}

async function visiblePage(db: Database, actor: Actor, pageId: string) {
  const page = await db
    .selectFrom("pages")
    .select(["id", "client_id", "status", "level"])
    .where("id", "=", pageId)
    .executeTakeFirst();
  if (!page) throw notFound("Page");
  assertClientVisible(actor, page.client_id, "Page");
  return page;
}

export async function acknowledgeFromConsole(db: Database, actor: Actor, pageId: string) {
  const me = requireUser(actor);
  requireRole(actor, "admin", "dispatcher", "technician");
  await visiblePage(db, actor, pageId);
  await acknowledgePage(db, actor, pageId, me, "console");
  return (await listPages(db, "all", pageId))[0]!;
}

/** The signed link in the page: acknowledges as the person it was sent to. */
export async function acknowledgeFromLink(deps: SlaDeps, token: string) {
  const data = await verifyAckToken(deps, token);
  if (!data) throw new AppError("not_found", 404, "This link is not valid or has expired");
  return asSystem(async () => {
    const user = await deps.db
      .selectFrom("users")
      .select(["name"])
      .where("id", "=", data.u)
      .executeTakeFirst();
    const page = await acknowledgePage(
      deps.db,
      {
        kind: "system",
        userId: data.u,
        name: user?.name ?? "on-call",
        role: "technician",
        clientIds: null,
        teamIds: [],
        timezone: "UTC",
        via: "system",
      },
      data.p,
      data.u,
      "link",
    );
    if (!page) throw new AppError("not_found", 404, "This link is not valid or has expired");
    return { status: page.status, summary: page.summary };
  });
}

/** Sends the current level again where it failed (a channel already sent is not repeated). */
export async function retryPage(deps: SlaDeps, actor: Actor, pageId: string) {
  requireRole(actor, "admin", "dispatcher", "technician");
  const page = await visiblePage(deps.db, actor, pageId);
  if (page.status !== "paging")
    throw new AppError("conflict", 409, `This page is ${page.status}; nothing to retry`);
  await deliverPage(deps, pageId, page.level);
  return (await listPages(deps.db, "all", pageId))[0]!;
}
