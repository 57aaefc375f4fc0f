import { Button, Paper, Table, Text, VisuallyHidden } from "@mantine/core";
import type { SlaCalendarDto, SlaPolicyDto } from "@switchboard/shared";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { get } from "../../api/client.ts";
import { AdminPage } from "../admin/ui.tsx";
import { span } from "./sla-badge.tsx";
import { CalendarForm, ClientPolicy, DAYS, PolicyForm, PRIORITIES } from "./sla-forms.tsx";
import { SlaReport } from "./sla-report.tsx";

const useCalendars = () =>
  useQuery({ queryKey: ["sla", "calendars"], queryFn: () => get<SlaCalendarDto[]>("/sla/calendars") });
const usePolicies = () =>
  useQuery({ queryKey: ["sla", "policies"], queryFn: () => get<SlaPolicyDto[]>("/sla/policies") });

/** Business-hours calendars, SLA policies (targets per priority) and each client's contract level. */
export function SlaAdminPage() {
  const calendars = useCalendars();
  const policies = usePolicies();
  return (
    <AdminPage
      title="SLA"
      intro="Targets count business minutes on a calendar, from the ticket's creation; the clock pauses while a ticket waits on the client and restarts when they reply. Each client gets a policy, or the default."
    >
      <Paper component="section" aria-labelledby="sla-policies">
        <Text id="sla-policies" component="h2" fz="sm" fw={600} px="sm" py={6} m={0}>
          Policies
        </Text>
        <Table fz="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Policy</Table.Th>
              <Table.Th>Calendar</Table.Th>
              {PRIORITIES.map((p) => (
                <Table.Th key={p}>P{p} response / resolution</Table.Th>
              ))}
              <Table.Th>Clients</Table.Th>
              <Table.Th>
                <VisuallyHidden>Actions</VisuallyHidden>
              </Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(policies.data ?? []).map((p) => (
              <PolicyRow key={p.id} policy={p} calendars={calendars.data ?? []} />
            ))}
          </Table.Tbody>
        </Table>
      </Paper>
      <PolicyForm calendars={calendars.data ?? []} />
      <ClientPolicy policies={policies.data ?? []} />
      <Paper component="section" aria-labelledby="sla-calendars">
        <Text id="sla-calendars" component="h2" fz="sm" fw={600} px="sm" py={6} m={0}>
          Calendars
        </Text>
        <Table fz="sm">
          <Table.Tbody>
            {(calendars.data ?? []).map((c) => (
              <CalendarRow key={c.id} calendar={c} />
            ))}
          </Table.Tbody>
        </Table>
      </Paper>
      <CalendarForm />
      <SlaReport />
    </AdminPage>
  );
}

/** A new calendar, or an existing one edited (one opening interval for the chosen days). */
function PolicyRow({ policy: p, calendars }: { policy: SlaPolicyDto; calendars: SlaCalendarDto[] }) {
  const [editing, setEditing] = useState(false);
  const f = (m: number | null | undefined) => (m ? span(m) : "—");
  return (
    <>
      <Table.Tr>
        <Table.Td>
          {p.name}
          {p.isDefault && (
            <Text span c="dimmed" fz="xs">
              {" "}
              (default)
            </Text>
          )}
        </Table.Td>
        <Table.Td>{p.calendar.name}</Table.Td>
        {PRIORITIES.map((k) => (
          <Table.Td key={k}>{`${f(p.targets[k]?.firstResponse)} / ${f(p.targets[k]?.resolution)}`}</Table.Td>
        ))}
        <Table.Td>{p.clients.map((c) => c.name).join(", ") || "—"}</Table.Td>
        <Table.Td>
          <Button
            size="compact-xs"
            variant="subtle"
            onClick={() => setEditing((e) => !e)}
            aria-label={`Edit ${p.name}`}
          >
            {editing ? "Close" : "Edit"}
          </Button>
        </Table.Td>
      </Table.Tr>
      {editing && (
        <Table.Tr>
          <Table.Td colSpan={8}>
            <PolicyForm calendars={calendars} policy={p} onDone={() => setEditing(false)} />
          </Table.Td>
        </Table.Tr>
      )}
    </>
  );
}

function CalendarRow({ calendar: c }: { calendar: SlaCalendarDto }) {
  const [editing, setEditing] = useState(false);
  return (
    <>
      <Table.Tr>
        <Table.Td>{c.name}</Table.Td>
        <Table.Td>{c.timeZone}</Table.Td>
        <Table.Td>
          {c.alwaysOpen ? "24/7" : c.hours.map((h) => `${DAYS[h.day - 1]} ${h.start}-${h.end}`).join(", ")}
        </Table.Td>
        <Table.Td>{c.holidays.length} holidays</Table.Td>
        <Table.Td>
          <Button
            size="compact-xs"
            variant="subtle"
            onClick={() => setEditing((e) => !e)}
            aria-label={`Edit ${c.name}`}
          >
            {editing ? "Close" : "Edit"}
          </Button>
        </Table.Td>
      </Table.Tr>
      {editing && (
        <Table.Tr>
          <Table.Td colSpan={5}>
            <CalendarForm calendar={c} onDone={() => setEditing(false)} />
          </Table.Td>
        </Table.Tr>
      )}
    </>
  );
}
