import { Anchor, Stack, Table, Text } from "@mantine/core";
import { Link } from "wouter";
import { Empty } from "../../components/section.tsx";
import {
  AlertActions,
  AlertStateBadge,
  AlertTicketLink,
  alertAge,
  RemediationStatus,
  SeverityBadge,
} from "./alert-parts.tsx";
import type { AlertDto } from "./api.ts";

/** Alerts as rows: severity, device and client, the check and its last output, age, ticket, actions. */
export function AlertTable({
  items,
  canWrite,
  showDevice = true,
  showTicket = true,
  empty,
}: {
  items: AlertDto[];
  canWrite: boolean;
  showDevice?: boolean;
  /** Off on the ticket page itself: every row would name the ticket on screen. */
  showTicket?: boolean;
  empty?: string;
}) {
  if (!items.length) return <Empty>{empty ?? "No alerts."}</Empty>;
  return (
    <Table.ScrollContainer minWidth={760}>
      <Table verticalSpacing={6} fz="sm" aria-label="Alerts">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Severity</Table.Th>
            {showDevice && <Table.Th>Device</Table.Th>}
            <Table.Th>Check</Table.Th>
            <Table.Th>State</Table.Th>
            <Table.Th>Age</Table.Th>
            {showTicket && <Table.Th>Ticket</Table.Th>}
            <Table.Th>Actions</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {items.map((a) => (
            <Table.Tr key={a.id} data-alert={a.id}>
              <Table.Td>
                <SeverityBadge severity={a.severity} />
              </Table.Td>
              {showDevice && (
                <Table.Td>
                  <Anchor component={Link} href={`/devices/${a.deviceId}`} fz="sm">
                    {a.hostname}
                  </Anchor>
                  <Text fz="xs" c="dimmed">
                    {a.clientName}
                    {a.siteName ? ` · ${a.siteName}` : ""}
                  </Text>
                </Table.Td>
              )}
              <Table.Td maw={360}>
                <Text fz="sm">{a.name}</Text>
                <Text fz="xs" c="dimmed" lineClamp={2} title={a.output}>
                  {a.output}
                </Text>
                {a.flaps > 0 && (
                  <Text fz="xs" c="dimmed">
                    came back and failed again {a.flaps}×
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                <AlertStateBadge alert={a} />
              </Table.Td>
              <Table.Td>{alertAge(a)}</Table.Td>
              {showTicket && (
                <Table.Td>
                  <AlertTicketLink alert={a} />
                </Table.Td>
              )}
              <Table.Td>
                <Stack gap={4}>
                  <AlertActions alert={a} canWrite={canWrite} />
                  <RemediationStatus alert={a} />
                </Stack>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}
