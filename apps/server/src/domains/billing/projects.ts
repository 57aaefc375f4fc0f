import type {
  CreateProjectRequest,
  CreateProjectTaskRequest,
  ProjectDto,
  PublicQuoteDto,
  SendQuoteRequest,
  UpdateProjectRequest,
  UpdateProjectTaskRequest,
} from "@switchboard/shared";
import { sql, type Transaction } from "kysely";
import type { z } from "zod";
import type { Database } from "../../db/database.ts";
import type { DB } from "../../db/schema.ts";
import { AppError, invalid, notFound, versionConflict } from "../../http/errors.ts";
import { writeAudit } from "../audit/audit.ts";
import {
  type Actor,
  assertClientVisible,
  canSeeClient,
  requireRole,
  requireWriter,
  systemActor,
} from "../auth/actor.ts";
import { newSecret, sha256 } from "../auth/crypto.ts";
import type { EmailDeps } from "../email/deps.ts";
import { queueTemplated } from "../email/outbound.ts";
import { createTicketInTx } from "../tickets/service.ts";
import { insertEntry } from "../tickets/timeline.ts";
import { money } from "./export.ts";

type Trx = Transaction<DB>;
type Db = Database | Trx;

export async function loadProject(db: Db, id: string): Promise<ProjectDto | null> {
  const p = await db
    .selectFrom("projects as p")
    .innerJoin("clients as c", "c.id", "p.client_id")
    .innerJoin("tickets as t", "t.id", "p.ticket_id")
    .selectAll("p")
    .select(["c.name as client_name", "t.number as ticket_number"])
    .where("p.id", "=", id)
    .executeTakeFirst();
  if (!p) return null;
  const phases = await db
    .selectFrom("project_phases")
    .selectAll()
    .where("project_id", "=", id)
    .orderBy("position")
    .execute();
  const tasks = (
    await sql<{
      id: string;
      phase_id: string | null;
      title: string;
      description: string;
      status: "todo" | "in_progress" | "done";
      estimate_minutes: number;
      actual: number;
      assignee_id: string | null;
      assignee_name: string | null;
      version: number;
    }>`select k.id, k.phase_id, k.title, k.description, k.status, k.estimate_minutes, k.assignee_id, u.name as assignee_name,
        k.version, coalesce((select sum(e.minutes) from time_entries e where e.project_task_id = k.id and e.minutes is not null), 0)::int as actual
      from project_tasks k left join users u on u.id = k.assignee_id
      where k.project_id = ${id} order by k.position, k.created_at`.execute(db)
  ).rows;
  return {
    id: p.id,
    clientId: p.client_id,
    clientName: p.client_name,
    ticketId: p.ticket_id,
    ticketNumber: Number(p.ticket_number),
    name: p.name,
    description: p.description,
    status: p.status,
    quoteMinor: p.quote_minor === null ? null : Number(p.quote_minor),
    currency: p.currency,
    quoteStatus: p.quote_status,
    quoteDecidedAt: p.quote_decided_at?.toISOString() ?? null,
    quoteDecisionNote: p.quote_decision_note,
    phases: phases.map((f) => ({ id: f.id, name: f.name, position: f.position })),
    tasks: tasks.map((k) => ({
      id: k.id,
      phaseId: k.phase_id,
      title: k.title,
      description: k.description,
      status: k.status,
      estimateMinutes: k.estimate_minutes,
      actualMinutes: Number(k.actual),
      assigneeId: k.assignee_id,
      assigneeName: k.assignee_name,
      version: k.version,
    })),
    estimateMinutes: tasks.reduce((a, k) => a + k.estimate_minutes, 0),
    actualMinutes: tasks.reduce((a, k) => a + Number(k.actual), 0),
    version: p.version,
  };
}

export async function listProjects(db: Database, actor: Actor, clientId?: string) {
  let q = db.selectFrom("projects").select(["id", "client_id"]).orderBy("created_at", "desc");
  if (clientId) q = q.where("client_id", "=", clientId);
  const out: ProjectDto[] = [];
  for (const r of await q.limit(500).execute())
    if (canSeeClient(actor, r.client_id)) out.push((await loadProject(db, r.id))!);
  return out;
}

export async function getProject(db: Database, actor: Actor, id: string) {
  const p = await loadProject(db, id);
  if (!p || !canSeeClient(actor, p.clientId)) throw notFound("Project");
  return p;
}

/** A project and its ticket (the client's conversation about it), in one transaction. */
export async function createProject(
  db: Database,
  actor: Actor,
  input: z.output<typeof CreateProjectRequest>,
) {
  requireRole(actor, "admin", "dispatcher");
  if (!canSeeClient(actor, input.clientId)) throw invalid("body.clientId", "no such client");
  const id = await db.transaction().execute(async (trx) => {
    const ticket = await createTicketInTx(trx, actor, {
      subject: `Project: ${input.name}`,
      description: input.description,
      clientId: input.clientId,
      contactId: input.contactId,
      type: "project_task",
      source: "api",
      priority: 4,
      tags: ["project"],
    });
    const row = await trx
      .insertInto("projects")
      .values({
        client_id: input.clientId,
        ticket_id: ticket.id,
        name: input.name,
        description: input.description,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    if (input.phases.length) {
      await trx
        .insertInto("project_phases")
        .values(
          input.phases.map((name, position) => ({
            client_id: input.clientId,
            project_id: row.id,
            name,
            position,
          })),
        )
        .execute();
    }
    await writeAudit(trx, actor, {
      action: "project.create",
      entityType: "project",
      entityId: row.id,
      clientId: input.clientId,
      after: { name: input.name },
    });
    return row.id;
  });
  return (await loadProject(db, id))!;
}

async function lockProject(trx: Trx, actor: Actor, id: string) {
  const p = await trx.selectFrom("projects").selectAll().where("id", "=", id).forUpdate().executeTakeFirst();
  if (!p) throw notFound("Project");
  assertClientVisible(actor, p.client_id, "Project");
  return p;
}

export async function updateProject(
  db: Database,
  actor: Actor,
  id: string,
  input: z.output<typeof UpdateProjectRequest>,
) {
  requireRole(actor, "admin", "dispatcher");
  await db.transaction().execute(async (trx) => {
    const before = await lockProject(trx, actor, id);
    if (before.version !== input.version) throw versionConflict("project", await loadProject(trx, id));
    if (input.quoteMinor !== undefined && before.quote_status === "approved") {
      throw new AppError("invalid_transition", 409, "The client approved this quote; it cannot change");
    }
    await trx
      .updateTable("projects")
      .set((eb) => ({
        name: input.name,
        description: input.description,
        status: input.status,
        quote_minor: input.quoteMinor,
        currency: input.currency,
        // A changed amount withdraws the quote that was sent: its link stops working.
        ...(input.quoteMinor !== undefined && input.quoteMinor !== before.quote_minor
          ? { quote_status: "none" as const, quote_token_hash: null }
          : {}),
        version: eb("version", "+", 1),
        updated_at: new Date(),
      }))
      .where("id", "=", id)
      .execute();
    await writeAudit(trx, actor, {
      action: "project.update",
      entityType: "project",
      entityId: id,
      clientId: before.client_id,
      after: input,
    });
  });
  return (await loadProject(db, id))!;
}

export async function addTask(
  db: Database,
  actor: Actor,
  projectId: string,
  input: z.output<typeof CreateProjectTaskRequest>,
) {
  requireWriter(actor);
  await db.transaction().execute(async (trx) => {
    const p = await lockProject(trx, actor, projectId);
    if (input.phaseId) {
      const phase = await trx
        .selectFrom("project_phases")
        .select("project_id")
        .where("id", "=", input.phaseId)
        .executeTakeFirst();
      if (phase?.project_id !== projectId) throw invalid("body.phaseId", "is not a phase of this project");
    }
    const max = await sql<{
      n: number;
    }>`select coalesce(max(position), 0)::int as n from project_tasks where project_id = ${projectId}`.execute(
      trx,
    );
    const row = await trx
      .insertInto("project_tasks")
      .values({
        client_id: p.client_id,
        project_id: projectId,
        phase_id: input.phaseId,
        title: input.title,
        description: input.description,
        estimate_minutes: input.estimateMinutes,
        assignee_id: input.assigneeId,
        position: (max.rows[0]?.n ?? 0) + 1,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    await writeAudit(trx, actor, {
      action: "project.task_add",
      entityType: "project",
      entityId: projectId,
      clientId: p.client_id,
      after: { taskId: row.id, title: input.title },
    });
  });
  return (await loadProject(db, projectId))!;
}

export async function updateTask(
  db: Database,
  actor: Actor,
  taskId: string,
  input: z.output<typeof UpdateProjectTaskRequest>,
) {
  requireWriter(actor);
  const projectId = await db.transaction().execute(async (trx) => {
    const task = await trx
      .selectFrom("project_tasks")
      .selectAll()
      .where("id", "=", taskId)
      .forUpdate()
      .executeTakeFirst();
    if (!task) throw notFound("Task");
    assertClientVisible(actor, task.client_id, "Task");
    if (task.version !== input.version) throw versionConflict("task", { id: taskId });
    if (input.phaseId) {
      const phase = await trx
        .selectFrom("project_phases")
        .select("project_id")
        .where("id", "=", input.phaseId)
        .executeTakeFirst();
      if (phase?.project_id !== task.project_id)
        throw invalid("body.phaseId", "is not a phase of this project");
    }
    await trx
      .updateTable("project_tasks")
      .set((eb) => ({
        title: input.title,
        status: input.status,
        estimate_minutes: input.estimateMinutes,
        assignee_id: input.assigneeId,
        phase_id: input.phaseId,
        version: eb("version", "+", 1),
      }))
      .where("id", "=", taskId)
      .execute();
    await writeAudit(trx, actor, {
      action: "project.task_update",
      entityType: "project",
      entityId: task.project_id,
      clientId: task.client_id,
      after: { taskId, ...input },
    });
    return task.project_id;
  });
  return (await loadProject(db, projectId))!;
}

/**
 * Sends the quote to a contact: a mail on the project's ticket with a signed link (single purpose,
 * stored hashed, expiring) where they approve or decline it. A new send replaces the old link.
 */
export async function sendQuote(
  deps: EmailDeps,
  actor: Actor,
  id: string,
  input: z.output<typeof SendQuoteRequest>,
  baseUrl: string,
) {
  requireRole(actor, "admin", "dispatcher");
  const token = newSecret("sbq_");
  await deps.db.transaction().execute(async (trx) => {
    const p = await lockProject(trx, actor, id);
    if (p.quote_minor === null) throw invalid("body", "set the quote's amount first");
    if (p.quote_status === "approved")
      throw new AppError("invalid_transition", 409, "The quote is already approved");
    const contact = await trx
      .selectFrom("contacts")
      .select(["id", "client_id", "emails"])
      .where("id", "=", input.contactId)
      .executeTakeFirst();
    if (contact?.client_id !== p.client_id)
      throw invalid("body.contactId", "is not a contact of this client");
    const to = contact.emails[0];
    if (!to) throw invalid("body.contactId", "has no email address");
    await trx
      .updateTable("projects")
      .set({
        quote_status: "sent",
        quote_token_hash: sha256(token),
        quote_contact_id: contact.id,
        quote_expires_at: new Date(Date.now() + input.expiresInDays * 86_400_000),
      })
      .where("id", "=", id)
      .execute();
    await queueTemplated(deps, trx, {
      template: "reply",
      ticketId: p.ticket_id,
      to: [to],
      body: `Here is our quote for ${p.name}: ${p.currency} ${money(Number(p.quote_minor))}.\n\nYou can review the work and approve or decline it here: ${baseUrl}/quote/${token}\n\nThe link is yours alone and works for ${input.expiresInDays} days.`,
    });
    await insertEntry(
      trx,
      actor,
      { id: p.ticket_id },
      {
        kind: "event",
        visibility: "internal",
        event: {
          type: "quote_sent",
          projectId: id,
          amountMinor: Number(p.quote_minor),
          contactId: contact.id,
        },
      },
    );
    await writeAudit(trx, actor, {
      action: "project.quote_send",
      entityType: "project",
      entityId: id,
      clientId: p.client_id,
      after: { contactId: contact.id, amountMinor: p.quote_minor },
    });
  });
  return (await loadProject(deps.db, id))!;
}

async function projectByQuoteToken(db: Database, token: string) {
  if (!/^sbq_[A-Za-z0-9_-]{20,100}$/.test(token)) throw notFound("Quote");
  const p = await db
    .selectFrom("projects")
    .selectAll()
    .where("quote_token_hash", "=", sha256(token))
    .executeTakeFirst();
  if (!p) throw notFound("Quote");
  return p;
}

/** What the quote link shows (no sign-in; the route runs it in the system scope). */
export async function publicQuote(db: Database, token: string): Promise<z.infer<typeof PublicQuoteDto>> {
  const p = await projectByQuoteToken(db, token);
  const full = (await loadProject(db, p.id))!;
  const msp = await db.selectFrom("msp").select("name").executeTakeFirst();
  const expired = p.quote_status === "sent" && (p.quote_expires_at?.getTime() ?? 0) < Date.now();
  return {
    mspName: msp?.name ?? "",
    clientName: full.clientName,
    projectName: full.name,
    description: full.description,
    phases: [
      ...full.phases.map((f) => ({
        name: f.name,
        tasks: full.tasks
          .filter((k) => k.phaseId === f.id)
          .map((k) => ({ title: k.title, estimateMinutes: k.estimateMinutes })),
      })),
      {
        name: "Other",
        tasks: full.tasks
          .filter((k) => !k.phaseId)
          .map((k) => ({ title: k.title, estimateMinutes: k.estimateMinutes })),
      },
    ].filter((f) => f.tasks.length),
    quoteMinor: Number(p.quote_minor ?? 0),
    currency: p.currency,
    status: expired ? "expired" : (p.quote_status as "sent" | "approved" | "declined"),
  };
}

/** The client decides, once: the decision, who gave it and their note land on the project's ticket. */
export async function decideQuote(
  db: Database,
  token: string,
  input: { decision: "approve" | "decline"; name: string; note: string },
  ip: string,
) {
  const found = await projectByQuoteToken(db, token);
  await db.transaction().execute(async (trx) => {
    const p = await trx
      .selectFrom("projects")
      .selectAll()
      .where("id", "=", found.id)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (p.quote_status !== "sent" || p.quote_token_hash !== sha256(token)) {
      throw new AppError(
        "invalid_transition",
        409,
        `This quote was already ${p.quote_status === "approved" ? "approved" : "answered"}`,
      );
    }
    if ((p.quote_expires_at?.getTime() ?? 0) < Date.now())
      throw new AppError("invalid_transition", 409, "This link has expired; ask for the quote again");
    const status = input.decision === "approve" ? "approved" : "declined";
    await trx
      .updateTable("projects")
      .set({
        quote_status: status,
        quote_decided_at: new Date(),
        quote_decision_note: `${input.name}${input.note ? `: ${input.note}` : ""}`,
        status: status === "approved" && p.status === "planning" ? "active" : p.status,
      })
      .where("id", "=", p.id)
      .execute();
    const actor = { ...systemActor("quote link"), ip };
    await insertEntry(
      trx,
      actor,
      { id: p.ticket_id },
      {
        kind: "event",
        visibility: "internal",
        event: {
          type: `quote_${status}`,
          projectId: p.id,
          by: input.name,
          note: input.note,
          amountMinor: Number(p.quote_minor),
        },
      },
    );
    await writeAudit(trx, actor, {
      action: `project.quote_${status}`,
      entityType: "project",
      entityId: p.id,
      clientId: p.client_id,
      after: { by: input.name, note: input.note, contactId: p.quote_contact_id, amountMinor: p.quote_minor },
    });
  });
  return publicQuote(db, token);
}
