import { Group, Paper, Table, Text, TextInput } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { get } from "../../api/client.ts";
import { span } from "./sla-badge.tsx";

type Report = {
  month: string;
  rows: Array<{
    client: { id: string; name: string };
    priority: number;
    tickets: number;
    firstResponseMet: number;
    firstResponseBreached: number;
    resolutionMet: number;
    resolutionBreached: number;
    medianFirstResponseMinutes: number | null;
  }>;
};

export function SlaReport() {
  const [month, setMonth] = useState(() => new Date().toISOString().slice(0, 7));
  const report = useQuery({
    queryKey: ["sla", "report", month],
    queryFn: () => get<Report>("/reports/sla", { month }),
    enabled: /^\d{4}-\d{2}$/.test(month),
  });
  return (
    <Paper component="section" aria-labelledby="sla-report">
      <Group justify="space-between" px="sm" py={6}>
        <Text id="sla-report" component="h2" fz="sm" fw={600} m={0}>
          SLA report
        </Text>
        <TextInput
          aria-label="Month"
          type="month"
          size="xs"
          value={month}
          onChange={(e) => setMonth(e.currentTarget.value)}
        />
      </Group>
      <Table fz="sm">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Client</Table.Th>
            <Table.Th>Priority</Table.Th>
            <Table.Th>Tickets</Table.Th>
            <Table.Th>Response met / breached</Table.Th>
            <Table.Th>Resolution met / breached</Table.Th>
            <Table.Th>Median first response</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(report.data?.rows ?? []).map((r) => (
            <Table.Tr key={`${r.client.id}-${r.priority}`}>
              <Table.Td>{r.client.name}</Table.Td>
              <Table.Td>P{r.priority}</Table.Td>
              <Table.Td>{r.tickets}</Table.Td>
              <Table.Td>
                {r.firstResponseMet} /{" "}
                <Text span c={r.firstResponseBreached ? "red.8" : undefined}>
                  {r.firstResponseBreached}
                </Text>
              </Table.Td>
              <Table.Td>
                {r.resolutionMet} /{" "}
                <Text span c={r.resolutionBreached ? "red.8" : undefined}>
                  {r.resolutionBreached}
                </Text>
              </Table.Td>
              <Table.Td>
                {r.medianFirstResponseMinutes === null ? "—" : span(r.medianFirstResponseMinutes)}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {report.data && report.data.rows.length === 0 && (
        <Text fz="xs" c="dimmed" px="sm" pb="xs">
          No tickets with an SLA created this month.
        </Text>
      )}
    </Paper>
  );
}
