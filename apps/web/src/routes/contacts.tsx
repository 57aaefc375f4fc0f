import { Anchor, Box, Grid, Group, Paper, Stack, Table, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useEffect, useMemo } from "react";
import { Link, useLocation, useParams } from "wouter";
import { get } from "../api/client.ts";
import { useContacts, useMe, useTicketList } from "../api/hooks.ts";
import { keys } from "../api/keys.ts";
import type { ContactDto, TicketWithTimeline, TimelineEntryDto } from "../api/types.ts";
import { VipBadge } from "../components/badges.tsx";
import { ErrorPage } from "../components/error-page.tsx";
import { dateTime, duration } from "../components/format.ts";
import { ListHeader, useListSearch } from "../components/list-header.tsx";
import { Empty, Section } from "../components/section.tsx";
import { ContactFormButton } from "../features/directory/contact-form.tsx";
import { MergeContactsButton } from "../features/directory/merge-contacts.tsx";
import { PortalAccess } from "../features/portal/portal-access.tsx";
import { TicketList } from "../features/tickets/ticket-list.tsx";

export function ContactsPage() {
  const { q, setQ, debounced } = useListSearch();
  const contacts = useContacts(debounced);
  const me = useMe();
  return (
    <Box p="md">
      {me.data && me.data.role !== "readonly" && (
        <Group justify="flex-end" mb="xs">
          <ContactFormButton />
        </Group>
      )}
      <ListHeader
        title="Contacts"
        searchLabel="Search contacts"
        placeholder="Name, email or phone"
        q={q}
        setQ={setQ}
      />
      <Paper>
        <Table highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Client</Table.Th>
              <Table.Th>Phone</Table.Th>
              <Table.Th>Email</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(contacts.data ?? []).map((c) => (
              <Table.Tr key={c.id}>
                <Table.Td>
                  <Group gap={6}>
                    <Anchor component={Link} href={`/contacts/${c.id}`} fz="sm">
                      {c.name}
                    </Anchor>
                    {c.vip && <VipBadge />}
                  </Group>
                </Table.Td>
                <Table.Td>{c.clientName}</Table.Td>
                <Table.Td>{c.phones[0]?.number ?? ""}</Table.Td>
                <Table.Td c="dimmed">{c.emails[0] ?? ""}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {contacts.data?.length === 0 && <Empty>No contacts match.</Empty>}
      </Paper>
    </Box>
  );
}

/** Call history: the call entries of the contact's latest tickets. */
function CallHistory({ ticketNumbers }: { ticketNumbers: number[] }) {
  const calls = useQuery({
    queryKey: ["calls", ticketNumbers],
    queryFn: async () => {
      const all = await Promise.all(
        ticketNumbers.slice(0, 10).map((n) => get<TicketWithTimeline>(`/tickets/by-number/${n}`)),
      );
      return all
        .flatMap((t) => t.timeline.filter((e) => e.kind === "call").map((e) => ({ e, t: t.ticket })))
        .sort((a, b) => b.e.createdAt.localeCompare(a.e.createdAt));
    },
    enabled: ticketNumbers.length > 0,
  });
  const rows: Array<{ e: TimelineEntryDto; t: TicketWithTimeline["ticket"] }> = calls.data ?? [];
  return (
    <Section id="call-history" title="Call history" count={rows.length}>
      {rows.length === 0 ? (
        <Empty>No calls logged.</Empty>
      ) : (
        <Stack gap={0}>
          {rows.map(({ e, t }) => (
            <Box
              key={e.id}
              px="sm"
              py={5}
              style={{ borderBottom: "1px solid var(--mantine-color-default-border)" }}
            >
              <Text fz="sm">
                {e.call?.direction === "outbound" ? "Outbound" : "Inbound"} ·{" "}
                {duration(e.call?.durationSeconds ?? 0)} ·{" "}
                <Anchor component={Link} href={`/tickets/${t.number}`} fz="sm">
                  #{t.number}
                </Anchor>
              </Text>
              <Text fz="xs" c="dimmed">
                {dateTime(e.createdAt)} {e.author ? `· ${e.author.name}` : ""}
              </Text>
            </Box>
          ))}
        </Stack>
      )}
    </Section>
  );
}

export function ContactPage() {
  const { id } = useParams<{ id: string }>();
  const contact = useQuery({ queryKey: keys.contact(id), queryFn: () => get<ContactDto>(`/contacts/${id}`) });
  const tickets = useTicketList({ queue: "all", state: "any", contactId: id, sort: "newest", limit: 100 });
  const numbers = useMemo(() => (tickets.data?.items ?? []).map((t) => t.number), [tickets.data]);
  const me = useMe();
  const role = me.data?.role;
  const [, navigate] = useLocation();
  const mergedInto = contact.data?.mergedIntoId;
  // A merged duplicate's page is its survivor's.
  useEffect(() => {
    if (mergedInto) navigate(`/contacts/${mergedInto}`, { replace: true });
  }, [mergedInto, navigate]);
  if (contact.isError) return <ErrorPage error={contact.error} />;
  const c = contact.data;
  return (
    <Stack p="md" gap="md">
      <div>
        <Group gap={8}>
          <Title order={1}>{c?.name ?? "…"}</Title>
          {c?.vip && <VipBadge />}
          {c && role && role !== "readonly" && <ContactFormButton contact={c} />}
          {c && (role === "admin" || role === "dispatcher") && <MergeContactsButton contact={c} />}
        </Group>
        {c && (
          <Text c="dimmed" fz="sm">
            {c.title ? `${c.title} · ` : ""}
            <Anchor component={Link} href={`/clients/${c.clientId}`} fz="sm">
              {c.clientName}
            </Anchor>
            {c.phones.map((p) => ` · ${p.number} (${p.label})`).join("")}
            {c.emails.map((e) => ` · ${e}`).join("")}
          </Text>
        )}
        {c?.notes && (
          <Text fz="sm" mt={4}>
            {c.notes}
          </Text>
        )}
      </div>
      <Grid gap="md">
        <Grid.Col span={{ base: 12, lg: 8 }}>
          <Section id="contact-tickets" title="Tickets" count={tickets.data?.items.length}>
            <TicketList
              label="Contact's tickets"
              items={tickets.data?.items ?? []}
              keyboard
              timeColumn="activity"
              empty={<Empty>No tickets.</Empty>}
            />
          </Section>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 4 }}>
          <Stack gap="md">
            <Section id="portal-access" title="Client portal">
              <PortalAccess
                contactId={id}
                canEdit={me.data?.role === "admin" || me.data?.role === "dispatcher"}
              />
            </Section>
            <CallHistory ticketNumbers={numbers} />
          </Stack>
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
