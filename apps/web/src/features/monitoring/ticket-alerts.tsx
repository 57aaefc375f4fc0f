import { Section } from "../../components/section.tsx";
import { AlertTable } from "./alert-table.tsx";
import { useTicketAlerts } from "./api.ts";

/** On a monitoring ticket: the alerts behind it (a site outage lists each device), with their actions. */
export function TicketAlerts({ ticketId, canWrite }: { ticketId: string; canWrite: boolean }) {
  const q = useTicketAlerts(ticketId);
  const items = q.data?.items ?? [];
  if (!items.length) return null;
  return (
    <Section id="ticket-alerts" title="Alerts" count={items.filter((a) => a.state !== "resolved").length}>
      <AlertTable items={items} canWrite={canWrite} showTicket={false} />
    </Section>
  );
}
