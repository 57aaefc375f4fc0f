import { Anchor, Box, Button, Group, Paper, Stack, Text } from "@mantine/core";
import { Link } from "wouter";
import { useTicketList } from "../../api/hooks.ts";
import type { ContactDto, TicketSummaryDto } from "../../api/types.ts";
import { PriorityBadge, StatusBadge } from "../../components/badges.tsx";
import { relative } from "../../components/format.ts";
import { Empty, Section } from "../../components/section.tsx";

const CLOSED = new Set(["resolved", "closed"]);

/**
 * One of the caller's tickets: its status in words (a resolved P1 reads "Resolved", dimmed, not live),
 * a link that opens it while the call stays in progress here, and "Log this call on #N".
 */
function Row({
  t,
  onLog,
  logging,
}: {
  t: TicketSummaryDto;
  onLog: (t: TicketSummaryDto) => void;
  logging: boolean;
}) {
  const closed = CLOSED.has(t.status.category);
  return (
    <Box
      px="sm"
      py={6}
      style={{
        borderBottom: "1px solid var(--mantine-color-default-border)",
        background: closed ? "var(--mantine-color-default-hover)" : undefined,
      }}
      data-testid="caller-ticket"
      data-closed={closed}
    >
      <Group gap={6} wrap="nowrap" align="center">
        <PriorityBadge priority={t.priority} />
        <Anchor
          component={Link}
          href={`/tickets/${t.number}`}
          fz="sm"
          c={closed ? "dimmed" : undefined}
          className="sb-ellipsis"
          style={{ flex: 1 }}
        >
          #{t.number} {t.subject}
        </Anchor>
      </Group>
      <Group gap={6} mt={4} justify="space-between" wrap="wrap">
        <Group gap={6} wrap="nowrap">
          <StatusBadge name={t.status.name} category={t.status.category} />
          <Text fz="xs" c="dimmed">
            {closed && t.resolvedAt
              ? `resolved ${relative(t.resolvedAt)}`
              : `active ${relative(t.lastActivityAt)}`}
          </Text>
        </Group>
        <Button size="compact-xs" variant="light" onClick={() => onLog(t)} loading={logging}>
          Log this call on #{t.number}
        </Button>
      </Group>
    </Box>
  );
}

/** Beside the intake form: the caller's open and recent tickets, or the client's open ones. */
export function CallerHistory({
  contact,
  clientId,
  onLog,
  loggingOn,
}: {
  contact: ContactDto | null;
  clientId: string | null;
  onLog: (t: TicketSummaryDto) => void;
  loggingOn: string | null;
}) {
  const history = useTicketList(
    { queue: "all", state: "any", contactId: contact?.id, sort: "newest", limit: 20 },
    { enabled: !!contact },
  );
  const clientTickets = useTicketList(
    { queue: "all", state: "open", clientId: clientId ? [clientId] : undefined, sort: "priority", limit: 20 },
    { enabled: !contact && !!clientId },
  );
  const list = contact ? history : clientTickets;
  if (!contact && !clientId) {
    return (
      <Paper p="md">
        <Text c="dimmed" fz="sm">
          The caller's open and recent tickets appear here, so a repeat call joins the ticket it belongs to.
        </Text>
      </Paper>
    );
  }
  return (
    <Section
      id="caller-tickets"
      title={contact ? `${contact.firstName}'s tickets` : "Client's open tickets"}
      count={list.data?.items.length}
    >
      <Stack gap={0}>
        {(list.data?.items ?? []).map((t) => (
          <Row key={t.id} t={t} onLog={onLog} logging={loggingOn === t.id} />
        ))}
        {list.data?.items.length === 0 && (
          <Empty>
            {contact ? `No earlier tickets from ${contact.name}.` : "No open tickets for this client."}
          </Empty>
        )}
      </Stack>
    </Section>
  );
}
