import type { RemoteSessionDto } from "@switchboard/shared";
import type { Selectable } from "kysely";
import type { RemoteSessionsTable } from "../../db/schema.ts";

export type RemoteSessionRow = Selectable<RemoteSessionsTable>;

export function toRemoteSessionDto(r: RemoteSessionRow): RemoteSessionDto {
  return {
    id: r.id,
    kind: r.kind,
    status: r.status,
    deviceId: r.device_id,
    clientId: r.client_id,
    ticketId: r.ticket_id,
    supportSessionId: r.support_session_id,
    requestedBy: r.requested_by_label,
    path: r.path,
    bytesIn: Number(r.bytes_in),
    bytesOut: Number(r.bytes_out),
    file:
      r.blob_key && r.blob_sha256
        ? {
            name: r.blob_name ?? "file",
            sizeBytes: Number(r.blob_size ?? 0),
            sha256: r.blob_sha256,
            truncated: r.blob_truncated,
            attachmentId: r.attachment_id,
          }
        : null,
    closeReason: r.close_reason,
    lastError: r.last_error,
    createdAt: r.created_at.toISOString(),
    startedAt: r.started_at?.toISOString() ?? null,
    endedAt: r.ended_at?.toISOString() ?? null,
  };
}
