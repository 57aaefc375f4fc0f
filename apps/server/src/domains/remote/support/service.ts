import type { CallerSessionDto, SupportEventDto, SupportSessionDto } from "@switchboard/shared";
import type { Selectable, Transaction } from "kysely";
import type { Config } from "../../../config.ts";
import type { Database } from "../../../db/database.ts";
import type {
  DB,
  SupportEventKind,
  SupportSessionEventsTable,
  SupportSessionsTable,
} from "../../../db/schema.ts";
import { AppError, forbidden, invalid, notFound } from "../../../http/errors.ts";
import type { BlobStore } from "../../../lib/blob-store.ts";
import { recordChange } from "../../audit/record.ts";
import {
  type Actor,
  assertClientVisible,
  requireUser,
  requireWriter,
  systemActor,
} from "../../auth/actor.ts";
import { insertEntry } from "../../tickets/timeline.ts";
import { retireSupportDevices, supportDevices } from "./agent.ts";
import { expireCodes, hashSecret, newCode } from "./codes.ts";

type SessionRow = Selectable<SupportSessionsTable>;
type EventRow = Selectable<SupportSessionEventsTable>;
export type Side = "technician" | "caller";
const LIVE = ["waiting", "joined", "active"] as const;

export function toEventDto(e: EventRow): SupportEventDto {
  return {
    id: String(e.id),
    kind: e.kind,
    actor: e.actor,
    body: e.body,
    data: e.data,
    createdAt: e.created_at.toISOString(),
  };
}

async function events(db: Database | Transaction<DB>, sessionId: string) {
  const rows = await db
    .selectFrom("support_session_events")
    .selectAll()
    .where("session_id", "=", sessionId)
    .orderBy("id")
    .execute();
  return rows.map(toEventDto);
}

/** The session's record; the routes add the ICE servers from the configuration. */
async function withTicket(
  db: Database | Transaction<DB>,
  s: SessionRow,
): Promise<Omit<SupportSessionDto, "iceServers">> {
  const t = await db
    .selectFrom("tickets")
    .select(["number", "subject"])
    .where("id", "=", s.ticket_id)
    .executeTakeFirstOrThrow();
  return {
    id: s.id,
    ticketId: s.ticket_id,
    ticketNumber: t.number,
    ticketSubject: t.subject,
    clientId: s.client_id,
    technicianName: s.technician_name,
    status: s.status,
    codeExpiresAt: s.code_expires_at.toISOString(),
    callerAddress: s.caller_address,
    joinedAt: s.joined_at?.toISOString() ?? null,
    consentedAt: s.consented_at?.toISOString() ?? null,
    endedAt: s.ended_at?.toISOString() ?? null,
    endedBy: s.ended_by,
    endReason: s.end_reason,
    createdAt: s.created_at.toISOString(),
    events: await events(db, s.id),
    supportDevices: await supportDevices(db, s.id),
  };
}

export async function addEvent(
  trx: Database | Transaction<DB>,
  s: Pick<SessionRow, "id" | "client_id">,
  e: {
    kind: SupportEventKind;
    actor: "technician" | "caller" | "system";
    body?: string;
    data?: Record<string, unknown>;
  },
) {
  const row = await trx
    .insertInto("support_session_events")
    .values({
      session_id: s.id,
      client_id: s.client_id,
      kind: e.kind,
      actor: e.actor,
      body: e.body ?? "",
      data: e.data ? JSON.stringify(e.data) : null,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toEventDto(row);
}

/**
 * "Start support session" on a ticket: a 6-digit code bound to this ticket and this technician, single
 * use, expiring. Only a signed-in user who may work the ticket mints one; the code is shown once.
 */
export async function mintSession(db: Database, config: Config, actor: Actor, ticketId: string) {
  requireWriter(actor);
  const userId = requireUser(actor);
  return db.transaction().execute(async (trx) => {
    const ticket = await trx
      .selectFrom("tickets")
      .select(["id", "client_id", "number", "merged_into_id"])
      .where("id", "=", ticketId)
      .executeTakeFirst();
    if (!ticket) throw notFound("Ticket");
    assertClientVisible(actor, ticket.client_id, "Ticket");
    if (ticket.merged_into_id)
      throw new AppError("invalid_transition", 409, "The ticket was merged into another");
    await expireCodes(trx);
    // A code equal to another live one would be ambiguous: draw again (the unique index is the backstop).
    let code = newCode();
    for (let i = 0; i < 20; i++) {
      const clash = await trx
        .selectFrom("support_sessions")
        .select("id")
        .where("code_hash", "=", hashSecret(code))
        .where("status", "=", "waiting")
        .executeTakeFirst();
      if (!clash) break;
      code = newCode();
    }
    const s = await trx
      .insertInto("support_sessions")
      .values({
        client_id: ticket.client_id,
        ticket_id: ticket.id,
        technician_user_id: userId,
        technician_name: actor.name,
        code_hash: hashSecret(code),
        code_expires_at: new Date(Date.now() + config.SUPPORT_CODE_TTL_MINUTES * 60_000),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await addEvent(trx, s, {
      kind: "minted",
      actor: "technician",
      body: `${actor.name} started a support session`,
    });
    await recordChange(
      trx,
      actor,
      {
        action: "support.session_start",
        entityType: "ticket",
        entityId: ticket.id,
        clientId: ticket.client_id,
        after: { sessionId: s.id, expiresAt: s.code_expires_at },
      },
      {
        type: "support.session_changed",
        clientId: ticket.client_id,
        ticketId: ticket.id,
        payload: { sessionId: s.id },
      },
    );
    return { ...(await withTicket(trx, s)), code };
  });
}

/** The technician's view: any user who may see the ticket's client may read the record. */
export async function getForStaff(db: Database, actor: Actor, id: string) {
  await expireCodes(db);
  const s = await db.selectFrom("support_sessions").selectAll().where("id", "=", id).executeTakeFirst();
  if (!s) throw notFound("Support session");
  assertClientVisible(actor, s.client_id, "Support session");
  return withTicket(db, s);
}

export async function listForTicket(db: Database, actor: Actor, ticketId: string) {
  const t = await db.selectFrom("tickets").select("client_id").where("id", "=", ticketId).executeTakeFirst();
  if (!t) throw notFound("Ticket");
  assertClientVisible(actor, t.client_id, "Ticket");
  await expireCodes(db);
  const rows = await db
    .selectFrom("support_sessions")
    .selectAll()
    .where("ticket_id", "=", ticketId)
    .orderBy("created_at", "desc")
    .limit(20)
    .execute();
  return Promise.all(rows.map((r) => withTicket(db, r)));
}

/** The session the technician may drive: their own, still going on. */
export async function ownLiveSession(db: Database | Transaction<DB>, actor: Actor, id: string) {
  const s = await db.selectFrom("support_sessions").selectAll().where("id", "=", id).executeTakeFirst();
  if (!s || s.technician_user_id !== actor.userId) throw notFound("Support session");
  return s;
}

/**
 * The caller's session from their token. Anything else is a 404 like an unknown session: these routes
 * are public (their credential is the token), and nothing about other sessions leaks.
 */
export async function sessionForToken(db: Database, token: string | undefined) {
  const unauth = new AppError("not_found", 404, "This support session has ended or the link is not valid");
  if (!token || token.length > 200) throw unauth;
  const s = await db
    .selectFrom("support_sessions")
    .selectAll()
    .where("caller_token_hash", "=", hashSecret(token))
    .executeTakeFirst();
  if (!s) throw unauth;
  return s;
}

export async function callerView(
  db: Database,
  config: Config,
  mspName: string,
  s: SessionRow,
): Promise<CallerSessionDto> {
  const t = await withTicket(db, s);
  return {
    technicianName: s.technician_name,
    mspName,
    ticketNumber: t.ticketNumber,
    ticketSubject: t.ticketSubject,
    status: s.status,
    iceServers: config.REMOTE_ICE_SERVERS,
    events: t.events,
  };
}

const CONSENT_TEXT = {
  session: "allowed screen sharing, chat and files with the technician",
  control: "allowed the support agent on their computer (a shell and files there until the session ends)",
  shell: "allowed a command shell",
  files: "allowed file transfers",
};

/**
 * The caller's answer. `session` moves a joined session to active (screen sharing, chat, files); `shell`
 * and `files` answer the technician's request for one device of the ticket's client, and count only
 * while the session is active (policy.ts reads the latest answer).
 */
export async function callerConsent(
  db: Database,
  s: SessionRow,
  input: { scope: "session" | "shell" | "files" | "control"; deviceId?: string; granted: boolean },
) {
  return db.transaction().execute(async (trx) => {
    const cur = await trx
      .selectFrom("support_sessions")
      .selectAll()
      .where("id", "=", s.id)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (cur.status !== "joined" && cur.status !== "active") {
      throw new AppError("invalid_transition", 409, "This support session has ended");
    }
    let hostname: string | null = null;
    if (input.scope === "control") {
      // A consent of its own: screen sharing does not imply running anything on the caller's machine.
      if (cur.status !== "active") throw new AppError("invalid_transition", 409, "Allow the session first");
      const asked = await trx
        .selectFrom("support_session_events")
        .select("id")
        .where("session_id", "=", s.id)
        .where("kind", "=", "consent_request")
        .where((eb) => eb(eb.ref("data", "->>").key("scope"), "=", "control"))
        .executeTakeFirst();
      if (!asked) throw invalid("body.scope", "the technician did not ask for control");
    } else if (input.scope !== "session") {
      if (cur.status !== "active") throw new AppError("invalid_transition", 409, "Allow the session first");
      if (!input.deviceId) throw invalid("body.deviceId", "is required for a shell or files");
      const asked = await trx
        .selectFrom("support_session_events")
        .select("id")
        .where("session_id", "=", s.id)
        .where("kind", "=", "consent_request")
        .where((eb) => eb(eb.ref("data", "->>").key("deviceId"), "=", input.deviceId!))
        .where((eb) => eb(eb.ref("data", "->>").key("scope"), "=", input.scope))
        .executeTakeFirst();
      if (!asked) throw invalid("body.deviceId", "the technician did not ask for this");
      const d = await trx
        .selectFrom("devices")
        .select(["hostname", "client_id"])
        .where("id", "=", input.deviceId)
        .executeTakeFirst();
      if (d?.client_id !== cur.client_id)
        throw invalid("body.deviceId", "the technician did not ask for this");
      hostname = d.hostname;
    }
    if (input.scope === "session" && input.granted) {
      await trx
        .updateTable("support_sessions")
        .set({ status: "active", consented_at: new Date() })
        .where("id", "=", s.id)
        .execute();
    }
    const what = CONSENT_TEXT[input.scope] + (hostname ? ` on ${hostname}` : "");
    const ev = await addEvent(trx, cur, {
      kind: "consent",
      actor: "caller",
      body: input.granted ? `The caller ${what}` : `The caller declined: ${what.replace(/^allowed /, "")}`,
      data: {
        scope: input.scope,
        deviceId: input.scope === "control" ? null : (input.deviceId ?? null),
        hostname,
        granted: input.granted,
      },
    });
    const caller = callerActor(cur);
    await recordChange(
      trx,
      caller,
      {
        action: input.granted ? "support.consent_given" : "support.consent_declined",
        entityType: "ticket",
        entityId: cur.ticket_id,
        clientId: cur.client_id,
        after: { sessionId: s.id, scope: input.scope, deviceId: input.deviceId ?? null },
      },
      {
        type: "support.session_changed",
        clientId: cur.client_id,
        ticketId: cur.ticket_id,
        payload: { sessionId: s.id },
      },
    );
    if (input.scope === "session" && !input.granted) {
      await endInTx(trx, cur, "caller", "the caller declined");
    }
    // Taking control back: a support agent already running is stopped (the routes tell it to go).
    if (input.scope === "control" && !input.granted) {
      await retireSupportDevices(trx, cur, "the caller withdrew control");
    }
    return ev;
  });
}

/** The caller in the audit log: not a user, named by the address they joined from. */
const callerActor = (s: Pick<SessionRow, "caller_address">): Actor => ({
  ...systemActor(`support caller ${s.caller_address ?? ""}`.trim()),
  ip: s.caller_address ?? undefined,
});

/**
 * The technician asks for a shell or file transfers on a device of the ticket's client, or for control:
 * the caller running the one-time support agent on their own machine.
 */
export async function requestConsent(
  db: Database,
  actor: Actor,
  sessionId: string,
  input: { scope: "shell" | "files" | "control"; deviceId?: string },
) {
  requireWriter(actor);
  const s = await ownLiveSession(db, actor, sessionId);
  if (s.status !== "active") throw new AppError("invalid_transition", 409, "The caller has not joined yet");
  if (input.scope === "control") {
    return db.transaction().execute(async (trx) => {
      const ev = await addEvent(trx, s, {
        kind: "consent_request",
        actor: "technician",
        body: `${s.technician_name} asks to run the support agent on the caller's computer (a shell and files there)`,
        data: { scope: "control", deviceId: null },
      });
      await recordChange(
        trx,
        actor,
        {
          action: "support.control_requested",
          entityType: "ticket",
          entityId: s.ticket_id,
          clientId: s.client_id,
          after: { sessionId: s.id },
        },
        {
          type: "support.session_changed",
          clientId: s.client_id,
          ticketId: s.ticket_id,
          payload: { sessionId: s.id },
        },
      );
      return ev;
    });
  }
  if (!input.deviceId) throw invalid("deviceId", "is required for a shell or files");
  const d = await db
    .selectFrom("devices")
    .select(["hostname", "client_id"])
    .where("id", "=", input.deviceId)
    .executeTakeFirst();
  if (d?.client_id !== s.client_id) throw invalid("deviceId", "is not a device of this ticket's client");
  const what = input.scope === "shell" ? "a command shell" : "file transfers";
  return addEvent(db, s, {
    kind: "consent_request",
    actor: "technician",
    body: `${s.technician_name} asks for ${what} on ${d.hostname}`,
    data: { scope: input.scope, deviceId: input.deviceId, hostname: d.hostname },
  });
}

export async function chat(db: Database, s: SessionRow, side: Side, text: string) {
  if (s.status !== "active") throw new AppError("invalid_transition", 409, "The session is not active");
  return addEvent(db, s, { kind: "chat", actor: side, body: text });
}

/** A file either side sent: an attachment of the ticket, and an event both sides see. */
export async function addFile(
  db: Database,
  blobs: BlobStore,
  s: SessionRow,
  side: Side,
  actor: Actor,
  file: { filename: string; spool: string; sha256: string },
) {
  if (s.status !== "active") throw new AppError("invalid_transition", 409, "The session is not active");
  const blob = await blobs.putFile(file.spool, file.sha256);
  return db.transaction().execute(async (trx) => {
    const a = await trx
      .insertInto("attachments")
      .values({
        ticket_id: s.ticket_id,
        filename: file.filename.slice(0, 255),
        content_type: "application/octet-stream",
        size_bytes: blob.sizeBytes,
        sha256: blob.sha256,
        storage_key: blob.key,
        created_by_user_id: side === "technician" ? actor.userId : null,
      })
      .returning("id")
      .executeTakeFirstOrThrow();
    const ev = await addEvent(trx, s, {
      kind: "file",
      actor: side,
      body: `${side === "technician" ? s.technician_name : "The caller"} sent ${file.filename}`,
      data: { attachmentId: a.id, filename: file.filename, sizeBytes: blob.sizeBytes, sha256: blob.sha256 },
    });
    await recordChange(
      trx,
      actor,
      {
        action: "support.file",
        entityType: "ticket",
        entityId: s.ticket_id,
        clientId: s.client_id,
        after: {
          sessionId: s.id,
          from: side,
          attachmentId: a.id,
          filename: file.filename,
          sha256: blob.sha256,
        },
      },
      {
        type: "ticket.attachment_added",
        clientId: s.client_id,
        ticketId: s.ticket_id,
        payload: { attachmentId: a.id },
      },
    );
    return ev;
  });
}

/** A file of this session (sent by either side), for the caller to download. */
export async function sessionFile(db: Database, s: SessionRow, attachmentId: string) {
  const ev = await db
    .selectFrom("support_session_events")
    .select("id")
    .where("session_id", "=", s.id)
    .where("kind", "=", "file")
    .where((eb) => eb(eb.ref("data", "->>").key("attachmentId"), "=", attachmentId))
    .executeTakeFirst();
  if (!ev) throw notFound("File");
  return db.selectFrom("attachments").selectAll().where("id", "=", attachmentId).executeTakeFirstOrThrow();
}

export async function endSession(db: Database, s: SessionRow, by: Side | "system", reason: string) {
  return db.transaction().execute(async (trx) => {
    const cur = await trx
      .selectFrom("support_sessions")
      .selectAll()
      .where("id", "=", s.id)
      .forUpdate()
      .executeTakeFirstOrThrow();
    if (!(LIVE as readonly string[]).includes(cur.status)) return null;
    return endInTx(trx, cur, by, reason);
  });
}

export async function endByTechnician(db: Database, actor: Actor, id: string) {
  const s = await ownLiveSession(db, actor, id);
  if (!(LIVE as readonly string[]).includes(s.status))
    throw new AppError("invalid_transition", 409, "The session has ended");
  return endSession(db, s, "technician", "ended by the technician");
}

/**
 * The end: the session's whole record goes on the ticket as one internal entry (who, when, how long,
 * each consent, the chat transcript, the files, which stay attached to the ticket and to that entry).
 */
async function endInTx(trx: Transaction<DB>, cur: SessionRow, by: Side | "system", reason: string) {
  const now = new Date();
  const status = cur.status === "waiting" ? "cancelled" : "ended";
  await retireSupportDevices(trx, cur, "the support session ended");
  await addEvent(trx, cur, { kind: "ended", actor: by, body: `Session ended: ${reason}` });
  const all = await events(trx, cur.id);
  const minutes = cur.joined_at
    ? Math.max(1, Math.round((now.getTime() - cur.joined_at.getTime()) / 60_000))
    : 0;
  const time = (iso: string) => `${iso.slice(11, 16)} UTC`;
  const lines = [
    `Support session by ${cur.technician_name}: code issued ${time(cur.created_at.toISOString())}` +
      (cur.joined_at
        ? `, caller joined ${time(cur.joined_at.toISOString())} from ${cur.caller_address ?? "unknown address"}, ${minutes} min`
        : ", nobody joined") +
      `; ended ${time(now.toISOString())} by the ${by}: ${reason}.`,
  ];
  const consents = all.filter(
    (e) => e.kind === "consent" || e.kind === "consent_request" || e.kind === "agent",
  );
  if (consents.length)
    lines.push("", "Consents:", ...consents.map((e) => `- ${time(e.createdAt)} ${e.body}`));
  const chatLines = all.filter((e) => e.kind === "chat");
  if (chatLines.length) {
    lines.push(
      "",
      "Chat:",
      ...chatLines.map(
        (e) =>
          `- ${time(e.createdAt)} ${e.actor === "technician" ? cur.technician_name : "Caller"}: ${e.body}`,
      ),
    );
  }
  const files = all.filter((e) => e.kind === "file");
  if (files.length)
    lines.push("", "Files:", ...files.map((e) => `- ${e.body} (SHA-256 ${String(e.data?.sha256 ?? "")})`));
  const actor = systemActor("support-session");
  const entry = await insertEntry(
    trx,
    actor,
    { id: cur.ticket_id },
    {
      kind: "note",
      visibility: "internal",
      body: lines.join("\n"),
    },
  );
  const fileIds = files.map((e) => String(e.data?.attachmentId ?? "")).filter(Boolean);
  if (fileIds.length) {
    await trx
      .updateTable("attachments")
      .set({ timeline_entry_id: entry.id })
      .where("id", "in", fileIds)
      .execute();
  }
  const row = await trx
    .updateTable("support_sessions")
    .set({ status, ended_at: now, ended_by: by, end_reason: reason, timeline_entry_id: entry.id })
    .where("id", "=", cur.id)
    .returningAll()
    .executeTakeFirstOrThrow();
  await recordChange(
    trx,
    actor,
    {
      action: "support.session_end",
      entityType: "ticket",
      entityId: cur.ticket_id,
      clientId: cur.client_id,
      after: { sessionId: cur.id, by, reason, minutes, chatMessages: chatLines.length, files: files.length },
    },
    {
      type: "support.session_changed",
      clientId: cur.client_id,
      ticketId: cur.ticket_id,
      payload: { sessionId: cur.id },
    },
  );
  return row;
}

export function assertTechnician(actor: Actor, s: SessionRow) {
  if (s.technician_user_id !== actor.userId) throw forbidden("Only the technician who started the session");
}
