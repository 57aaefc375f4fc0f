import { Anchor, Badge, Table, Text, Tooltip } from "@mantine/core";
import type { ReactNode } from "react";
import { Link } from "wouter";
import type { CommandStatus, DeviceDto } from "../../api/types.ts";
import { dateTime, relative } from "../../components/format.ts";

// Light variants keep the text at 4.5:1 on both themes.
const DEVICE_COLORS: Record<DeviceDto["status"], string> = {
  online: "teal",
  offline: "gray",
  retired: "red",
};
const DEVICE_LABELS: Record<DeviceDto["status"], string> = {
  online: "Online",
  offline: "Offline",
  retired: "Retired",
};

export function DeviceStatusBadge({ status }: { status: DeviceDto["status"] }) {
  return (
    <Badge color={DEVICE_COLORS[status]} variant="light" size="sm" data-testid="device-status">
      {DEVICE_LABELS[status]}
    </Badge>
  );
}

const COMMAND_COLORS: Record<CommandStatus, string> = {
  queued: "gray",
  sent: "blue",
  running: "cyan",
  succeeded: "green",
  failed: "red",
  timed_out: "orange",
  refused: "red",
  expired: "gray",
};

export function CommandStatusBadge({ status }: { status: CommandStatus }) {
  return (
    <Badge color={COMMAND_COLORS[status]} variant="light" size="sm">
      {status.replace("_", " ")}
    </Badge>
  );
}

/** "3 minutes ago" with the exact time on hover; "never" before the first connection. */
export function LastSeen({ at }: { at: string | null }) {
  if (!at)
    return (
      <Text span fz="sm" c="dimmed">
        never
      </Text>
    );
  return (
    <Tooltip label={dateTime(at)}>
      <Text span fz="sm">
        {relative(at)}
      </Text>
    </Tooltip>
  );
}

export function osLabel(d: Pick<DeviceDto, "osName" | "osVersion" | "arch">) {
  return [d.osName, d.osVersion, d.arch ? `(${d.arch})` : ""].filter(Boolean).join(" ");
}

/** Devices as a dense table; the client column is dropped where the page is already one client's. */
export function DeviceTable({
  items,
  clientNames,
  empty,
}: {
  items: DeviceDto[];
  clientNames?: Map<string, string>;
  empty: ReactNode;
}) {
  if (items.length === 0) return <>{empty}</>;
  return (
    <Table highlightOnHover aria-label="Devices">
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Hostname</Table.Th>
          <Table.Th>Status</Table.Th>
          {clientNames && <Table.Th>Client</Table.Th>}
          <Table.Th>OS</Table.Th>
          <Table.Th>Tags</Table.Th>
          <Table.Th>Last seen</Table.Th>
          <Table.Th>Agent</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {items.map((d) => (
          <Table.Tr key={d.id}>
            <Table.Td>
              <Anchor component={Link} href={`/devices/${d.id}`} fz="sm">
                {d.hostname}
              </Anchor>
            </Table.Td>
            <Table.Td>
              <DeviceStatusBadge status={d.status} />
              {d.supportSessionId && <SupportBadge />}
            </Table.Td>
            {clientNames && <Table.Td>{clientNames.get(d.clientId) ?? ""}</Table.Td>}
            <Table.Td c="dimmed">{osLabel(d)}</Table.Td>
            <Table.Td c="dimmed" fz="xs">
              {d.tags.join(", ")}
            </Table.Td>
            <Table.Td>
              <LastSeen at={d.lastSeenAt} />
            </Table.Td>
            <Table.Td c="dimmed">{d.agentVersion}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

/** A temporary device of the one-time support agent: it lives as long as its support session. */
export function SupportBadge() {
  return (
    <Tooltip label="The one-time support agent of an attended session: retired when the session ends">
      <Badge color="grape" variant="light" ml={4}>
        support
      </Badge>
    </Tooltip>
  );
}
