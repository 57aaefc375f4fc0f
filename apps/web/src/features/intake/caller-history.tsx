import { Paper, Text } from "@mantine/core";
import { useTicketList } from "../../api/hooks.ts";
import type { ContactDto } from "../../api/types.ts";
import { Empty, Section } from "../../components/section.tsx";
import { TicketList } from "../tickets/ticket-list.tsx";

/** Beside the intake form: the caller's open and recent tickets, or the client's open ones. */
export function CallerHistory({
  contact,
  clientId,
}: {
  contact: ContactDto | null;
  clientId: string | null;
}) {
  const history = useTicketList(
    { queue: "all", state: "any", contactId: contact?.id, sort: "newest", limit: 20 },
    { enabled: !!contact },
  );
  const clientTickets = useTicketList(
    { queue: "all", state: "open", clientId: clientId ? [clientId] : undefined, sort: "priority", limit: 20 },
    { enabled: !contact && !!clientId },
  );
  return (
    <>
      {contact ? (
        <Section
          id="caller-tickets"
          title={`${contact.firstName}'s tickets`}
          count={history.data?.items.length}
        >
          <TicketList
            label="Caller's tickets"
            items={history.data?.items ?? []}
            compact
            timeColumn="activity"
            empty={<Empty>No earlier tickets from {contact.name}.</Empty>}
          />
        </Section>
      ) : clientId ? (
        <Section id="client-open" title="Client's open tickets" count={clientTickets.data?.items.length}>
          <TicketList
            label="Client's open tickets"
            items={clientTickets.data?.items ?? []}
            compact
            empty={<Empty>No open tickets for this client.</Empty>}
          />
        </Section>
      ) : (
        <Paper p="md">
          <Text c="dimmed" fz="sm">
            The caller's open and recent tickets appear here, so a repeat call joins the ticket it belongs to.
          </Text>
        </Paper>
      )}
    </>
  );
}
