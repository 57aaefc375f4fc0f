import type { CommandDto, DeviceDto } from "@switchboard/shared";
import { CommandStatus, Inventory, ServiceInfo, SignedCommand } from "@switchboard/shared";
import type { Selectable } from "kysely";
import type { DeviceCommandsTable, DevicesTable, EnrollmentTokensTable } from "../../db/schema.ts";

export type DeviceRow = Selectable<DevicesTable>;
export type CommandRow = Selectable<DeviceCommandsTable>;
export type TokenRow = Selectable<EnrollmentTokensTable>;

const iso = (d: Date | null) => (d ? d.toISOString() : null);

export function tokenStatus(t: TokenRow, now = new Date()) {
  if (t.revoked_at) return "revoked" as const;
  if (t.expires_at <= now) return "expired" as const;
  if (t.uses >= t.max_uses) return "exhausted" as const;
  return "active" as const;
}

export const toTokenDto = (t: TokenRow) => ({
  id: t.id,
  clientId: t.client_id,
  siteId: t.site_id,
  label: t.label,
  prefix: t.prefix,
  maxUses: t.max_uses,
  uses: t.uses,
  expiresAt: t.expires_at.toISOString(),
  revokedAt: iso(t.revoked_at),
  createdAt: t.created_at.toISOString(),
  status: tokenStatus(t),
});

export const toDeviceDto = (d: Omit<DeviceRow, "inventory" | "public_key">): DeviceDto => ({
  id: d.id,
  clientId: d.client_id,
  siteId: d.site_id,
  hostname: d.hostname,
  platform: d.platform,
  osName: d.os_name,
  osVersion: d.os_version,
  arch: d.arch,
  agentVersion: d.agent_version,
  status: d.retired_at ? "retired" : d.online ? "online" : "offline",
  lastSeenAt: iso(d.last_seen_at),
  lastAddress: d.last_address,
  enrolledAt: d.enrolled_at.toISOString(),
  retiredAt: iso(d.retired_at),
  inventoryUpdatedAt: iso(d.inventory_updated_at),
  supportSessionId: d.support_session_id ?? null,
  tags: d.tags,
});

export const toDeviceDetailDto = (d: DeviceRow) => {
  const inv = d.inventory ? Inventory.safeParse(d.inventory) : null;
  return { ...toDeviceDto(d), inventory: inv?.success ? inv.data : null };
};

export const toCommandDto = (c: Omit<CommandRow, "payload" | "signature">): CommandDto => ({
  id: c.id,
  deviceId: c.device_id,
  clientId: c.client_id,
  ticketId: c.ticket_id,
  kind: SignedCommand.parse(c.command).kind,
  command: SignedCommand.parse(c.command),
  status: CommandStatus.parse(c.status),
  requestedBy: { userId: c.requested_by_user_id, label: c.requested_by_label },
  createdAt: c.created_at.toISOString(),
  expiresAt: c.expires_at.toISOString(),
  sentAt: iso(c.sent_at),
  startedAt: iso(c.started_at),
  finishedAt: iso(c.finished_at),
  exitCode: c.exit_code,
  stdout: c.stdout,
  stderr: c.stderr,
  truncated: c.truncated,
  error: c.error,
  services: c.services ? ServiceInfo.array().parse(c.services) : null,
});
