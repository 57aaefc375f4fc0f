import { Group, SimpleGrid, Table, Text, TextInput, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { get } from "../../api/client.ts";
import {
  type BlockBalanceRow,
  hm,
  money,
  type ProfitabilityRow,
  type UtilisationRow,
} from "../../api/work-types.ts";
import { BarChart } from "../../components/bar-chart.tsx";
import { Section } from "../../components/section.tsx";

const monthStart = () => `${new Date().toISOString().slice(0, 7)}-01`;
const today = () => new Date().toISOString().slice(0, 10);

/** Utilisation per technician, what each client brings in per hour, prepaid hours left. */
export function ReportsPanel({ admin }: { admin: boolean }) {
  const [from, setFrom] = useState(monthStart());
  const [to, setTo] = useState(today());
  const util = useQuery({
    queryKey: ["reports", "util", from, to],
    queryFn: () => get<UtilisationRow[]>("/reports/utilisation", { from, to }),
  });
  const profit = useQuery({
    queryKey: ["reports", "profit", from, to],
    queryFn: () => get<ProfitabilityRow[]>("/reports/profitability", { from, to }),
    enabled: admin,
  });
  const blocks = useQuery({
    queryKey: ["reports", "blocks"],
    queryFn: () => get<BlockBalanceRow[]>("/reports/blocks"),
  });
  return (
    <>
      <Group gap="sm" mb="sm">
        <TextInput type="date" label="From" value={from} onChange={(e) => setFrom(e.currentTarget.value)} />
        <TextInput type="date" label="To" value={to} onChange={(e) => setTo(e.currentTarget.value)} />
      </Group>
      <SimpleGrid cols={{ base: 1, lg: 2 }}>
        <Section id="util-title" title="Utilisation (billable / available)">
          <div style={{ padding: 8 }}>
            <BarChart
              label="Utilisation per technician"
              max={1}
              bars={(util.data ?? []).map((u) => ({
                label: u.userName,
                value: u.utilisation,
                display: `${Math.round(u.utilisation * 100)}% (${hm(u.billableMinutes)} of ${hm(u.availableMinutes)})`,
                color:
                  u.utilisation >= 0.7 ? "var(--mantine-color-green-6)" : "var(--mantine-color-orange-6)",
              }))}
            />
          </div>
        </Section>
        <Section id="blocks-title" title="Prepaid hours left">
          <div style={{ padding: 8 }}>
            <BarChart
              label="Prepaid hours left per block"
              bars={(blocks.data ?? []).map((b) => ({
                label: `${b.clientName} (until ${b.expiresOn})`,
                value: b.remainingMinutes / Math.max(1, b.purchasedMinutes),
                display: `${hm(b.remainingMinutes)} of ${hm(b.purchasedMinutes)}`,
              }))}
              max={1}
            />
            {blocks.isSuccess && !blocks.data.length && (
              <Text fz="sm" c="dimmed">
                No prepaid hours.
              </Text>
            )}
          </div>
        </Section>
      </SimpleGrid>
      {admin && (
        <Section id="profit-title" title="Clients: invoiced per hour worked">
          <div style={{ padding: 8 }}>
            <BarChart
              label="Invoiced per hour worked, by client"
              bars={(profit.data ?? []).map((p) => ({
                label: p.clientName,
                value: p.revenuePerHourMinor,
                display: `${money(p.revenuePerHourMinor)}/h`,
              }))}
            />
            <Title order={3} fz="sm" mt="sm">
              Details
            </Title>
            <Table fz="xs">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>Client</Table.Th>
                  <Table.Th ta="right">Invoiced</Table.Th>
                  <Table.Th ta="right">Worked</Table.Th>
                  <Table.Th ta="right">Billable</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {(profit.data ?? []).map((p) => (
                  <Table.Tr key={p.clientId}>
                    <Table.Td>{p.clientName}</Table.Td>
                    <Table.Td ta="right">{money(p.invoicedMinor)}</Table.Td>
                    <Table.Td ta="right">{hm(p.workedMinutes)}</Table.Td>
                    <Table.Td ta="right">{hm(p.billableMinutes)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </div>
        </Section>
      )}
    </>
  );
}
