import type { CsatReportDto } from "@switchboard/shared";
import { type SqlBool, sql } from "kysely";
import type { AppDeps } from "../../app.ts";
import type { Database } from "../../db/database.ts";
import type { CsatRating } from "../../db/schema.ts";
import { asSystem } from "../../db/scope.ts";
import { AppError, invalid, versionConflict } from "../../http/errors.ts";
import { writeAudit } from "../audit/audit.ts";
import { type Actor, requireRole, systemActor } from "../auth/actor.ts";
import { queueSystemMail } from "../email/system-mail.ts";
import { emitEvent } from "../events/outbox.ts";
import { BUILTIN_STATUS, lockTicket } from "../tickets/queries.ts";
import { insertEntry } from "../tickets/timeline.ts";
import { applyChanges } from "../tickets/update.ts";
import { ticketOfRatingToken } from "./links.ts";

async function ticketOf(deps: AppDeps, token: string) {
  const ticketId = await ticketOfRatingToken(deps.config, token);
  if (!ticketId) throw new AppError("not_found", 404, "This rating link is invalid or has expired");
  return ticketId;
}

/** What the rating page shows: the ticket and the rating given so far. The signed token is the credential. */
export async function lookupRating(deps: AppDeps, token: string) {
  const ticketId = await ticketOf(deps, token);
  const row = await asSystem(() =>
    deps.db
      .selectFrom("tickets as t")
      .leftJoin("csat_ratings as r", "r.ticket_id", "t.id")
      .select(["t.number", "t.subject", "r.rating", "r.comment", "r.updated_at"])
      .where("t.id", "=", ticketId)
      .executeTakeFirst(),
  );
  if (!row) throw new AppError("not_found", 404, "This rating link is invalid or has expired");
  return {
    number: row.number,
    subject: row.subject,
    rating: row.rating,
    comment: row.comment ?? "",
    ratedAt: row.updated_at?.toISOString() ?? null,
  };
}

/**
 * Records the rating of a resolved ticket: one per ticket (the same link may change it or add a comment).
 * A rating that turns bad reopens the ticket or alerts the team, as the MSP chose; both leave an internal
 * note on the ticket.
 */
export async function rateTicket(
  deps: AppDeps,
  input: { token: string; rating: CsatRating; comment?: string },
) {
  const ticketId = await ticketOf(deps, input.token);
  const actor = systemActor("csat");
  return asSystem(() =>
    deps.db.transaction().execute(async (trx) => {
      const ticket = await lockTicket(trx, ticketId);
      if (!ticket) throw new AppError("not_found", 404, "This rating link is invalid or has expired");
      if (!ticket.resolved_at)
        throw new AppError("invalid_transition", 409, "This ticket is not resolved yet");
      const before = await trx
        .selectFrom("csat_ratings")
        .selectAll()
        .where("ticket_id", "=", ticketId)
        .executeTakeFirst();
      const comment = input.comment ?? before?.comment ?? "";
      const saved = await trx
        .insertInto("csat_ratings")
        .values({
          ticket_id: ticketId,
          client_id: ticket.client_id,
          contact_id: ticket.contact_id,
          technician_id: ticket.assignee_id,
          rating: input.rating,
          comment,
          updated_at: new Date(),
        })
        .onConflict((oc) =>
          oc.column("ticket_id").doUpdateSet({ rating: input.rating, comment, updated_at: new Date() }),
        )
        .returningAll()
        .executeTakeFirstOrThrow();
      await writeAudit(
        trx,
        { ...actor, name: "csat rating link" },
        {
          action: before ? "csat.update" : "csat.rate",
          entityType: "ticket",
          entityId: ticketId,
          clientId: ticket.client_id,
          before: before ? { rating: before.rating, comment: before.comment } : undefined,
          after: { rating: saved.rating, comment: saved.comment },
        },
      );
      await emitEvent(trx, actor, {
        type: "csat.rated",
        clientId: ticket.client_id,
        ticketId,
        payload: { number: ticket.number, rating: saved.rating },
      });
      if (saved.rating === "bad" && before?.rating !== "bad") {
        const settings = await trx.selectFrom("csat_settings").select("bad_action").executeTakeFirst();
        const action = settings?.bad_action ?? "reopen";
        await insertEntry(trx, actor, ticket, {
          kind: "note",
          visibility: "internal",
          body: `Rated bad by the client${comment ? `: "${comment}"` : "."} ${action === "reopen" ? "The ticket was reopened." : "The team was alerted."}`,
        });
        if (
          action === "reopen" &&
          (ticket.status_category === "resolved" || ticket.status_category === "closed")
        ) {
          await applyChanges(trx, actor, ticket, { statusId: BUILTIN_STATUS.open.id });
        } else if (action === "alert") {
          await alertTeam(deps, trx, ticket, comment);
        }
      }
      return { rating: saved.rating, comment: saved.comment };
    }),
  );
}

/** Mails the assignee (or, unassigned, the ticket's team) that the client rated the ticket bad. */
async function alertTeam(
  deps: AppDeps,
  trx: Parameters<typeof queueSystemMail>[1],
  ticket: { id: string; number: number; subject: string; assignee_id: string | null; team_id: string | null },
  comment: string,
) {
  let q = trx.selectFrom("users as u").select("u.email").where("u.active", "=", true);
  if (ticket.assignee_id) q = q.where("u.id", "=", ticket.assignee_id);
  else if (ticket.team_id) {
    const teamId = ticket.team_id;
    q = q.where((eb) =>
      eb.exists(
        eb
          .selectFrom("team_members as m")
          .select("m.user_id")
          .whereRef("m.user_id", "=", "u.id")
          .where("m.team_id", "=", teamId),
      ),
    );
  } else q = q.where("u.role", "in", ["admin", "dispatcher"]);
  const to = (await q.limit(50).execute()).map((u) => u.email);
  for (const address of to) {
    await queueSystemMail(deps, trx, {
      to: address,
      subject: `Bad rating: #${ticket.number} ${ticket.subject}`,
      text: `The client rated ticket #${ticket.number} (${ticket.subject}) bad.${comment ? `\n\nTheir comment: ${comment}` : ""}`,
      template: "csat_bad",
      ticketId: ticket.id,
    });
  }
}

export async function getCsatSettings(db: Database) {
  const s = await db.selectFrom("csat_settings").selectAll().executeTakeFirstOrThrow();
  return { badAction: s.bad_action, version: s.version };
}

export async function updateCsatSettings(
  db: Database,
  actor: Actor,
  input: { version: number; badAction: "reopen" | "alert" },
) {
  requireRole(actor, "admin");
  return db.transaction().execute(async (trx) => {
    const s = await trx.selectFrom("csat_settings").selectAll().forUpdate().executeTakeFirstOrThrow();
    if (s.version !== input.version)
      throw versionConflict("setting", { badAction: s.bad_action, version: s.version });
    const after = await trx
      .updateTable("csat_settings")
      .set({ bad_action: input.badAction, version: s.version + 1, updated_at: new Date() })
      .returningAll()
      .executeTakeFirstOrThrow();
    await writeAudit(trx, actor, {
      action: "csat.settings_update",
      entityType: "csat_settings",
      entityId: "1",
      before: { badAction: s.bad_action },
      after: { badAction: after.bad_action },
    });
    return { badAction: after.bad_action, version: after.version };
  });
}

interface CountRow {
  id: string | null;
  name: string;
  good: number;
  okay: number;
  bad: number;
  total: number;
}

const withScore = <T extends CountRow>(r: T) => ({
  ...r,
  score: r.total ? Math.round((r.good / r.total) * 1000) / 10 : null,
});

/** Satisfaction per client and per technician over a period (ratings given in it), within what the actor sees. */
export async function csatReport(
  db: Database,
  actor: Actor,
  q: { from?: string; to?: string },
): Promise<CsatReportDto> {
  const to = q.to ?? new Date().toISOString().slice(0, 10);
  const from = q.from ?? new Date(Date.parse(to) - 89 * 86400_000).toISOString().slice(0, 10);
  if (from > to) throw invalid("query.from", "must not be after `to`");
  const scope =
    actor.clientIds === null
      ? sql<SqlBool>`true`
      : sql<SqlBool>`r.client_id = any(${actor.clientIds}::uuid[])`;
  const where = sql<SqlBool>`r.created_at >= ${from}::date and r.created_at < ${to}::date + 1 and ${scope}`;
  const counts = sql`count(*) filter (where r.rating = 'good')::int as good,
    count(*) filter (where r.rating = 'okay')::int as okay,
    count(*) filter (where r.rating = 'bad')::int as bad, count(*)::int as total`;
  const [byClient, byTech, recent] = await Promise.all([
    sql<CountRow>`select c.id, c.name, ${counts} from csat_ratings r join clients c on c.id = r.client_id
      where ${where} group by c.id, c.name order by total desc, c.name limit 200`.execute(db),
    sql<CountRow>`select u.id, coalesce(u.name, 'Unassigned') as name, ${counts} from csat_ratings r
      left join users u on u.id = r.technician_id
      where ${where} group by u.id, u.name order by total desc, name limit 200`.execute(db),
    sql<{
      ticket_id: string;
      number: number;
      subject: string;
      client: string;
      technician: string | null;
      rating: CsatRating;
      comment: string;
      created_at: Date;
    }>`select r.ticket_id, t.number, t.subject, c.name as client, u.name as technician, r.rating, r.comment, r.created_at
      from csat_ratings r join tickets t on t.id = r.ticket_id join clients c on c.id = r.client_id
      left join users u on u.id = r.technician_id
      where ${where} order by r.created_at desc limit 50`.execute(db),
  ]);
  const totals = byClient.rows.reduce(
    (a, r) => ({
      id: null,
      name: "",
      good: a.good + r.good,
      okay: a.okay + r.okay,
      bad: a.bad + r.bad,
      total: a.total + r.total,
    }),
    { id: null, name: "", good: 0, okay: 0, bad: 0, total: 0 } as CountRow,
  );
  const { id: _i, name: _n, ...total } = withScore(totals);
  return {
    from,
    to,
    totals: total,
    byClient: byClient.rows.map((r) => ({ ...withScore(r), id: r.id! })),
    byTechnician: byTech.rows.map(withScore),
    recent: recent.rows.map((r) => ({
      ticketId: r.ticket_id,
      number: r.number,
      subject: r.subject,
      client: r.client,
      technician: r.technician,
      rating: r.rating,
      comment: r.comment,
      ratedAt: r.created_at.toISOString(),
    })),
  };
}
