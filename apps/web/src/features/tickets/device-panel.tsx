import { Anchor, Group, Stack, Text } from "@mantine/core";
import { Link } from "wouter";
import { useDevices } from "../../api/hooks.ts";
import type { TicketDto } from "../../api/types.ts";
import { Empty, Section, SectionRow } from "../../components/section.tsx";
import { DeviceStatusBadge, LastSeen } from "../devices/device-table.tsx";

/**
 * The client's machines beside the ticket, the ticket's site first: one click to a device, whose run
 * panel then logs a script or restart on this ticket.
 */
export function DevicePanel({ ticket }: { ticket: TicketDto }) {
  const devices = useDevices({ clientId: ticket.client.id, limit: 50 });
  const items = [...(devices.data?.items ?? [])].sort(
    (a, b) => Number(b.siteId === ticket.site?.id) - Number(a.siteId === ticket.site?.id),
  );
  return (
    <Section
      id="ticket-devices"
      title="Client's devices"
      count={devices.data ? `${items.length}${devices.data.nextCursor ? "+" : ""}` : undefined}
      actions={
        <Anchor component={Link} href={`/devices?clientId=${ticket.client.id}`} fz="xs">
          All →
        </Anchor>
      }
    >
      <Stack gap={0} data-testid="device-panel">
        {items.slice(0, 8).map((d) => (
          <SectionRow key={d.id}>
            <Group gap={6} wrap="nowrap" style={{ minWidth: 0 }}>
              <Anchor
                component={Link}
                href={`/devices/${d.id}?ticket=${ticket.number}`}
                fz="sm"
                className="sb-ellipsis"
              >
                {d.hostname}
              </Anchor>
              <DeviceStatusBadge status={d.status} />
            </Group>
            <Text fz="xs" c="dimmed" className="sb-ellipsis">
              {d.osName} · <LastSeen at={d.lastSeenAt} />
            </Text>
          </SectionRow>
        ))}
        {devices.data && items.length === 0 && <Empty>No devices enrolled for this client.</Empty>}
      </Stack>
    </Section>
  );
}
