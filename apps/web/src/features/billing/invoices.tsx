import { Anchor, Badge, Button, Checkbox, Group, Stack, Table, Text, TextInput } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Fragment, useState } from "react";
import { api, get } from "../../api/client.ts";
import { type BillingRun, type Invoice, money } from "../../api/work-types.ts";

const thisMonth = () => new Date().toISOString().slice(0, 7);

/** The monthly run: bill a month, review the drafts, approve them, export for accounting. */
export function InvoicesPanel({ admin }: { admin: boolean }) {
  const qc = useQueryClient();
  const [month, setMonth] = useState(thisMonth());
  const [drafts, setDrafts] = useState(false);
  const [open, setOpen] = useState<string | null>(null);
  const period = `${month}-01`;
  const list = useQuery({
    queryKey: ["invoices", period],
    queryFn: () => get<Invoice[]>("/invoices", { period }),
  });
  const run = useMutation({
    mutationFn: () => api<BillingRun>("POST", "/billing/runs", { body: { month: period } }),
    onSuccess: (r) => {
      qc.invalidateQueries({ queryKey: ["invoices"] });
      notifications.show({
        title: "Billing run done",
        message: `${r.invoices} draft invoice${r.invoices === 1 ? "" : "s"}, ${r.timeEntries} time entries${r.skippedApproved ? `, ${r.skippedApproved} already approved` : ""} (${(r.tookMs / 1000).toFixed(1)} s)`,
      });
    },
    onError: (e) => notifications.show({ color: "red", title: "Billing run failed", message: e.message }),
  });
  const approve = useMutation({
    mutationFn: (id: string) => api("POST", `/invoices/${id}/approve`),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["invoices"] }),
    onError: (e) => notifications.show({ color: "red", title: "Not approved", message: e.message }),
  });
  const total = (list.data ?? []).reduce((a, i) => a + i.totalMinor, 0);
  const csv = (format: string) =>
    `/api/v1/invoices/export.csv?period=${period}&format=${format}${drafts ? "&status=all" : ""}`;
  return (
    <Stack gap="sm">
      <Group align="flex-end" gap="sm" wrap="wrap">
        <TextInput
          type="month"
          label="Month"
          value={month}
          onChange={(e) => setMonth(e.currentTarget.value || thisMonth())}
        />
        {admin && (
          <Button onClick={() => run.mutate()} loading={run.isPending}>
            Run billing for {month}
          </Button>
        )}
        <Checkbox
          label="Include drafts in the export"
          checked={drafts}
          onChange={(e) => setDrafts(e.currentTarget.checked)}
        />
        <Anchor href={csv("quickbooks")} download>
          Download CSV (QuickBooks)
        </Anchor>
        <Anchor href={csv("xero")} download>
          Download CSV (Xero)
        </Anchor>
      </Group>
      <Table withTableBorder highlightOnHover>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Invoice</Table.Th>
            <Table.Th>Client</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th ta="right">Time entries</Table.Th>
            <Table.Th ta="right">Total</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(list.data ?? []).map((inv) => (
            <Fragment key={inv.id}>
              <Table.Tr>
                <Table.Td>
                  <Button
                    variant="subtle"
                    size="compact-sm"
                    onClick={() => setOpen(open === inv.id ? null : inv.id)}
                    aria-expanded={open === inv.id}
                  >
                    #{inv.number}
                  </Button>
                </Table.Td>
                <Table.Td>{inv.clientName}</Table.Td>
                <Table.Td>
                  <Badge variant="light" color={inv.status === "approved" ? "green" : "gray"}>
                    {inv.status}
                  </Badge>
                </Table.Td>
                <Table.Td ta="right">{inv.timeEntryCount}</Table.Td>
                <Table.Td ta="right" ff="monospace">
                  {money(inv.totalMinor, inv.currency)}
                </Table.Td>
                <Table.Td>
                  <Group gap={6} justify="flex-end" wrap="nowrap">
                    <Anchor href={`/api/v1/invoices/${inv.id}/pdf`} fz="sm" download>
                      PDF
                    </Anchor>
                    {admin && inv.status === "draft" && (
                      <Button
                        size="compact-xs"
                        color="green"
                        variant="light"
                        onClick={() => approve.mutate(inv.id)}
                      >
                        Approve
                      </Button>
                    )}
                  </Group>
                </Table.Td>
              </Table.Tr>
              {open === inv.id && (
                <Table.Tr>
                  <Table.Td colSpan={6}>
                    <Table fz="xs">
                      <Table.Tbody>
                        {inv.lines.map((l) => (
                          <Table.Tr key={l.id}>
                            <Table.Td>{l.description}</Table.Td>
                            <Table.Td ta="right">
                              {l.quantity} {l.unit}
                            </Table.Td>
                            <Table.Td ta="right" ff="monospace">
                              {money(l.unitPriceMinor, inv.currency)}
                            </Table.Td>
                            <Table.Td ta="right" ff="monospace">
                              {money(l.amountMinor, inv.currency)}
                            </Table.Td>
                          </Table.Tr>
                        ))}
                      </Table.Tbody>
                    </Table>
                  </Table.Td>
                </Table.Tr>
              )}
            </Fragment>
          ))}
        </Table.Tbody>
      </Table>
      {list.isSuccess && !list.data.length && (
        <Text c="dimmed" fz="sm">
          No invoices for {month} yet{admin ? ": run billing to make the drafts." : "."}
        </Text>
      )}
      {!!list.data?.length && (
        <Text fz="sm" ta="right">
          Total for {month}: <b>{money(total, list.data[0]?.currency)}</b>
        </Text>
      )}
    </Stack>
  );
}
