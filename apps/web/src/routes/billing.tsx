import { Stack, Tabs, Title } from "@mantine/core";
import { useMe } from "../api/hooks.ts";
import { ContractsPanel } from "../features/billing/contracts.tsx";
import { InvoicesPanel } from "../features/billing/invoices.tsx";
import { ReportsPanel } from "../features/billing/reports.tsx";

/** Billing: the monthly run and its invoices, contracts, and the money reports. */
export function BillingPage() {
  const me = useMe();
  const admin = me.data?.role === "admin" && me.data.allClients;
  return (
    <Stack p="md" gap="md">
      <Title order={1}>Billing</Title>
      <Tabs defaultValue="invoices" keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="invoices">Invoices</Tabs.Tab>
          <Tabs.Tab value="contracts">Contracts</Tabs.Tab>
          <Tabs.Tab value="reports">Reports</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="invoices" pt="md">
          <InvoicesPanel admin={!!admin} />
        </Tabs.Panel>
        <Tabs.Panel value="contracts" pt="md">
          <ContractsPanel admin={me.data?.role === "admin"} />
        </Tabs.Panel>
        <Tabs.Panel value="reports" pt="md">
          <ReportsPanel admin={me.data?.role === "admin"} />
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}
