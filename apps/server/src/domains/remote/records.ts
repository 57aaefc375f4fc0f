import type { Database } from "../../db/database.ts";
import type { RemoteSessionKind } from "../../db/schema.ts";
import { notFound } from "../../http/errors.ts";
import type { StoredBlob } from "../../lib/blob-store.ts";
import { recordChange } from "../audit/record.ts";
import { type Actor, canSeeClient } from "../auth/actor.ts";
import { insertEntry } from "../tickets/timeline.ts";
import type { Authorized } from "./policy.ts";

// The rows behind remote sessions: one per shell or file transfer, written when it is asked for (with
// the audit of who asked) and when it ends (with the audit of how, the recording or file, and a line on
// the ticket).

const WHAT: Record<RemoteSessionKind, string> = {
  shell: "shell",
  file_upload: "file upload",
  file_download: "file download",
};

export async function createSessionRow(
  db: Database,
  actor: Actor,
  id: string,
  auth: Authorized,
  kind: RemoteSessionKind,
  extra: { path?: string; cols?: number; rows?: number; status?: "requested" | "opening" },
) {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto("remote_sessions")
      .values({
        id,
        client_id: auth.device.client_id,
        device_id: auth.device.id,
        ticket_id: auth.ticketId,
        support_session_id: auth.supportSessionId,
        kind,
        status: extra.status ?? "requested",
        requested_by_user_id: actor.userId,
        requested_by_label: actor.name,
        path: extra.path ?? null,
        cols: extra.cols ?? null,
        rows: extra.rows ?? null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    await recordChange(
      trx,
      actor,
      {
        action: `remote.${kind}_start`,
        entityType: "device",
        entityId: auth.device.id,
        clientId: auth.device.client_id,
        after: {
          sessionId: id,
          hostname: auth.device.hostname,
          ticketId: auth.ticketId,
          supportSessionId: auth.supportSessionId,
          path: extra.path,
        },
      },
      {
        type: "remote.session_started",
        clientId: auth.device.client_id,
        ticketId: auth.ticketId,
        payload: { sessionId: id, deviceId: auth.device.id, kind },
      },
    );
    return row;
  });
}

export interface Outcome {
  status: "closed" | "failed";
  reason: string;
  bytesIn: number;
  bytesOut: number;
  startedAt: Date | null;
  /** The recording or the moved file. */
  blob?: (StoredBlob & { name: string; contentType: string; truncated?: boolean }) | null;
}

/**
 * Ends a session once (a second call finds it ended and does nothing): the row, the attachment on the
 * ticket, the audit row and event, and a line on the ticket's timeline. `actor` is whoever the session
 * belongs to; the statements run in the caller's scope (the system's, for a session's own timers).
 */
export async function finishSessionRow(db: Database, actor: Actor, sessionId: string, out: Outcome) {
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .selectFrom("remote_sessions as s")
      .innerJoin("devices as d", "d.id", "s.device_id")
      .selectAll("s")
      .select("d.hostname")
      .where("s.id", "=", sessionId)
      .forUpdate("s")
      .executeTakeFirst();
    if (!row || row.status === "closed" || row.status === "failed") return null;
    let attachmentId: string | null = null;
    if (out.blob && row.ticket_id) {
      const a = await trx
        .insertInto("attachments")
        .values({
          ticket_id: row.ticket_id,
          filename: out.blob.name,
          content_type: out.blob.contentType,
          size_bytes: out.blob.sizeBytes,
          sha256: out.blob.sha256,
          storage_key: out.blob.key,
          created_by_user_id: row.requested_by_user_id,
        })
        .returning("id")
        .executeTakeFirstOrThrow();
      attachmentId = a.id;
    }
    const ended = new Date();
    const updated = await trx
      .updateTable("remote_sessions")
      .set({
        status: out.status,
        close_reason: out.status === "closed" ? out.reason : null,
        last_error: out.status === "failed" ? out.reason : null,
        bytes_in: out.bytesIn,
        bytes_out: out.bytesOut,
        started_at: out.startedAt,
        ended_at: ended,
        blob_key: out.blob?.key ?? null,
        blob_name: out.blob?.name ?? null,
        blob_size: out.blob?.sizeBytes ?? null,
        blob_sha256: out.blob?.sha256 ?? null,
        blob_truncated: out.blob?.truncated ?? false,
        attachment_id: attachmentId,
      })
      .where("id", "=", sessionId)
      .returningAll()
      .executeTakeFirstOrThrow();
    const seconds = out.startedAt ? Math.round((ended.getTime() - out.startedAt.getTime()) / 1000) : 0;
    await recordChange(
      trx,
      actor,
      {
        action: `remote.${row.kind}_end`,
        entityType: "device",
        entityId: row.device_id,
        clientId: row.client_id,
        after: {
          sessionId,
          requestedBy: row.requested_by_label,
          status: out.status,
          reason: out.reason,
          seconds,
          bytesIn: out.bytesIn,
          bytesOut: out.bytesOut,
          file: out.blob
            ? { name: out.blob.name, sha256: out.blob.sha256, sizeBytes: out.blob.sizeBytes }
            : null,
        },
      },
      {
        type: "remote.session_ended",
        clientId: row.client_id,
        ticketId: row.ticket_id,
        payload: { sessionId, deviceId: row.device_id, kind: row.kind, status: out.status },
      },
    );
    if (row.ticket_id) {
      const took = seconds >= 60 ? `${Math.round(seconds / 60)} min` : `${seconds} s`;
      const file = out.blob
        ? `; ${out.blob.name} (${out.blob.sizeBytes} bytes, SHA-256 ${out.blob.sha256})`
        : "";
      const where = row.path ? ` ${row.kind === "file_upload" ? "to" : "from"} ${row.path}` : "";
      await insertEntry(
        trx,
        actor,
        { id: row.ticket_id },
        {
          kind: "event",
          visibility: "internal",
          body: `Remote ${WHAT[row.kind]}${where} on ${row.hostname} by ${row.requested_by_label}, ${took}: ${out.reason}${file}`,
          event: {
            type: "remote_session",
            sessionId,
            deviceId: row.device_id,
            kind: row.kind,
            status: out.status,
          },
        },
      );
    }
    return updated;
  });
}

/** Moves a session on once it is live (the agent opened it); a row already ended stays ended. */
export async function markSession(db: Database, sessionId: string, status: "opening" | "open") {
  await db
    .updateTable("remote_sessions")
    .set({ status, heartbeat_at: new Date(), ...(status === "open" ? { started_at: new Date() } : {}) })
    .where("id", "=", sessionId)
    .where("status", "in", ["requested", "opening"])
    .execute();
}

export async function touchSessions(db: Database, ids: string[]) {
  if (!ids.length) return;
  await db.updateTable("remote_sessions").set({ heartbeat_at: new Date() }).where("id", "in", ids).execute();
}

/**
 * Rows left live by a process that stopped holding them (it died, or a shell was asked for and never
 * attached): failed, with an event so the pages showing them refresh.
 */
export async function sweepAbandoned(db: Database, actor: Actor, olderThanSeconds: number) {
  const stale = await db
    .selectFrom("remote_sessions")
    .select(["id", "status"])
    .where("status", "in", ["requested", "opening", "open"])
    .where("heartbeat_at", "<", new Date(Date.now() - olderThanSeconds * 1000))
    .limit(100)
    .execute();
  for (const s of stale) {
    await finishSessionRow(db, actor, s.id, {
      status: "failed",
      reason:
        s.status === "requested" ? "the console never connected" : "the server holding the session stopped",
      bytesIn: 0,
      bytesOut: 0,
      startedAt: null,
    });
  }
  return stale.length;
}

export async function getSession(db: Database, actor: Actor, id: string) {
  const row = await db.selectFrom("remote_sessions").selectAll().where("id", "=", id).executeTakeFirst();
  if (!row || !canSeeClient(actor, row.client_id)) throw notFound("Remote session");
  return row;
}

export async function listSessions(db: Database, actor: Actor, by: { deviceId?: string; ticketId?: string }) {
  let q = db.selectFrom("remote_sessions").selectAll().orderBy("created_at", "desc").limit(50);
  if (by.deviceId) q = q.where("device_id", "=", by.deviceId);
  if (by.ticketId) q = q.where("ticket_id", "=", by.ticketId);
  const rows = await q.execute();
  return rows.filter((r) => canSeeClient(actor, r.client_id));
}
