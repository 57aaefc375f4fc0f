import { Anchor, Badge, Box, Grid, Group, Paper, Stack, Table, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { Link, useParams } from "wouter";
import { get } from "../api/client.ts";
import { useClients, useContacts, useDevices, useMe, useSites, useTicketList } from "../api/hooks.ts";
import { keys } from "../api/keys.ts";
import type { ClientDto } from "../api/types.ts";
import { VipBadge } from "../components/badges.tsx";
import { ErrorPage } from "../components/error-page.tsx";
import { ListHeader, useListSearch } from "../components/list-header.tsx";
import { Empty, Section, SectionRow } from "../components/section.tsx";
import { DeviceStatusBadge, LastSeen } from "../features/devices/device-table.tsx";
import { ClientFormButton, SiteFormButton } from "../features/directory/client-form.tsx";
import { ContactFormButton } from "../features/directory/contact-form.tsx";
import { IdentityPolicySection } from "../features/identity/policy-section.tsx";
import { ClientHealth } from "../features/monitoring/patch.tsx";
import { TicketList } from "../features/tickets/ticket-list.tsx";

export function ClientsPage() {
  const { q, setQ, debounced } = useListSearch();
  const clients = useClients(debounced);
  const me = useMe();
  return (
    <Box p="md">
      {(me.data?.role === "admin" || me.data?.role === "dispatcher") && (
        <Group justify="flex-end" mb="xs">
          <ClientFormButton />
        </Group>
      )}
      <ListHeader
        title="Clients"
        searchLabel="Search clients"
        placeholder="Search clients"
        q={q}
        setQ={setQ}
      />
      <Paper>
        <Table highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Phone</Table.Th>
              <Table.Th>Email domains</Table.Th>
              <Table.Th ta="right">Open tickets</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(clients.data ?? []).map((c) => (
              <Table.Tr key={c.id}>
                <Table.Td>
                  <Anchor component={Link} href={`/clients/${c.id}`} fz="sm">
                    {c.name}
                  </Anchor>
                </Table.Td>
                <Table.Td>{c.phone ?? ""}</Table.Td>
                <Table.Td c="dimmed">{c.emailDomains.join(", ")}</Table.Td>
                <Table.Td ta="right">{c.openTickets ?? ""}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {clients.data?.length === 0 && <Empty>No clients match.</Empty>}
      </Paper>
    </Box>
  );
}

export function ClientPage() {
  const { id } = useParams<{ id: string }>();
  const client = useQuery({ queryKey: keys.client(id), queryFn: () => get<ClientDto>(`/clients/${id}`) });
  const sites = useSites(id);
  const contacts = useContacts("", { clientId: id });
  const open = useTicketList({ queue: "all", state: "open", clientId: [id], sort: "priority", limit: 200 });
  const devices = useDevices({ clientId: id, limit: 50 });
  const me = useMe();
  const role = me.data?.role;
  if (client.isError) return <ErrorPage error={client.error} />;
  const c = client.data;
  return (
    <Stack p="md" gap="md">
      <div>
        <Group justify="space-between">
          <Title order={1}>{c?.name ?? "…"}</Title>
          {c && (role === "admin" || role === "dispatcher") && <ClientFormButton client={c} />}
        </Group>
        <Text c="dimmed" fz="sm">
          {[c?.phone, c?.website, c?.emailDomains.join(", ")].filter(Boolean).join(" · ")}
        </Text>
        {c?.notes && (
          <Text fz="sm" mt={4}>
            {c.notes}
          </Text>
        )}
      </div>
      <Grid gap="md">
        <Grid.Col span={{ base: 12, lg: 8 }}>
          <Section id="client-open-tickets" title="Open tickets" count={open.data?.items.length}>
            <TicketList
              label="Open tickets"
              items={open.data?.items ?? []}
              keyboard
              hideClient
              empty={<Empty>No open tickets.</Empty>}
            />
          </Section>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 4 }}>
          <Stack gap="md">
            <ClientHealth clientId={id} />
            <Section
              id="client-sites"
              title="Sites"
              count={sites.data?.length}
              actions={role && role !== "readonly" ? <SiteFormButton clientId={id} /> : undefined}
            >
              <Stack gap={0}>
                {(sites.data ?? []).map((s) => (
                  <Box
                    key={s.id}
                    px="sm"
                    py={6}
                    style={{ borderBottom: "1px solid var(--mantine-color-default-border)" }}
                  >
                    <Group justify="space-between" wrap="nowrap">
                      <Text fz="sm" fw={600}>
                        {s.name}
                      </Text>
                      {role && role !== "readonly" && <SiteFormButton clientId={id} site={s} />}
                    </Group>
                    <Text fz="xs" c="dimmed">
                      {[s.addressLine1, s.city, s.region].filter(Boolean).join(", ")} · {s.timezone}
                      {s.phone ? ` · ${s.phone}` : ""}
                    </Text>
                  </Box>
                ))}
                {sites.data?.length === 0 && <Empty>No sites.</Empty>}
              </Stack>
            </Section>
            <Section
              id="client-devices"
              title="Devices"
              count={
                devices.data ? `${devices.data.items.length}${devices.data.nextCursor ? "+" : ""}` : undefined
              }
              actions={
                <Anchor component={Link} href={`/devices?clientId=${id}`} fz="xs">
                  All devices →
                </Anchor>
              }
            >
              <Stack gap={0}>
                {(devices.data?.items ?? []).slice(0, 10).map((d) => (
                  <SectionRow key={d.id}>
                    <Group gap={6} wrap="nowrap">
                      <Anchor component={Link} href={`/devices/${d.id}`} fz="sm">
                        {d.hostname}
                      </Anchor>
                      <DeviceStatusBadge status={d.status} />
                    </Group>
                    <Text fz="xs" c="dimmed">
                      <LastSeen at={d.lastSeenAt} />
                    </Text>
                  </SectionRow>
                ))}
                {devices.data?.items.length === 0 && <Empty>No devices enrolled.</Empty>}
              </Stack>
            </Section>
            <IdentityPolicySection clientId={id} canEdit={role === "admin"} />
            <Section
              id="client-contacts"
              title="Contacts"
              count={contacts.data?.length}
              actions={role && role !== "readonly" ? <ContactFormButton clientId={id} /> : undefined}
            >
              <Stack gap={0}>
                {(contacts.data ?? []).map((p) => (
                  <SectionRow key={p.id}>
                    <Group gap={6} wrap="nowrap">
                      <Anchor component={Link} href={`/contacts/${p.id}`} fz="sm">
                        {p.name}
                      </Anchor>
                      {p.vip && <VipBadge />}
                    </Group>
                    <Text fz="xs" c="dimmed" className="sb-ellipsis">
                      {p.phones[0]?.number ?? p.emails[0] ?? ""}
                    </Text>
                  </SectionRow>
                ))}
                {contacts.data?.length === 0 && <Empty>No contacts.</Empty>}
              </Stack>
            </Section>
            {c && !c.active && <Badge color="gray">Inactive client</Badge>}
          </Stack>
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
