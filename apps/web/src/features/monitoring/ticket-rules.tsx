import { Button, Group, Stack, Table, Text, VisuallyHidden } from "@mantine/core";
import { useState } from "react";
import { useClients, useTeams, useUsers } from "../../api/hooks.ts";
import { Empty, Section } from "../../components/section.tsx";
import { type TicketRuleDto, useDeleteTicketRule, useReorderTicketRules, useTicketRules } from "./api.ts";
import { RuleForm, useCalendars } from "./ticket-rule-form.tsx";

const MSP = "__msp__";

/**
 * How alerts become tickets: each client's ordered rules, then every client's (the MSP's). The first rule
 * whose conditions hold decides; none: every alert opens an unassigned ticket.
 */
export function TicketRulesSection({ canEdit }: { canEdit: boolean }) {
  const rules = useTicketRules();
  const clients = useClients();
  const [editing, setEditing] = useState<TicketRuleDto | "new" | null>(null);
  const items = rules.data?.items ?? [];
  const clientName = new Map((clients.data ?? []).map((c) => [c.id, c.name]));
  // The MSP's list last: it is tried after every client's own.
  const lists = [...new Set(items.map((r) => r.clientId))].sort((a, b) =>
    a === null ? 1 : b === null ? -1 : (clientName.get(a) ?? "").localeCompare(clientName.get(b) ?? ""),
  );
  return (
    <Section id="ticket-rules" title="Alert tickets" count={items.length}>
      <Text fz="sm" c="dimmed" px="sm" pt="xs">
        A client's rules are tried first, in order, then the rules for every client; the first that matches
        decides. When none matches, the alert opens an unassigned ticket (critical = P1), resolved on
        recovery.
      </Text>
      {items.length === 0 ? (
        <Empty>No rules: every alert opens an unassigned ticket, resolved when it recovers.</Empty>
      ) : (
        lists.map((clientId) => (
          <RuleList
            key={clientId ?? MSP}
            title={clientId ? (clientName.get(clientId) ?? "Client") : "Every client"}
            clientId={clientId}
            rules={items.filter((r) => r.clientId === clientId)}
            canEdit={canEdit}
            onEdit={setEditing}
          />
        ))
      )}
      {canEdit &&
        (editing ? (
          <RuleForm
            key={editing === "new" ? "new" : editing.id}
            rule={editing === "new" ? null : editing}
            onDone={() => setEditing(null)}
          />
        ) : (
          <Group p="sm">
            <Button size="xs" onClick={() => setEditing("new")}>
              Add a rule
            </Button>
          </Group>
        ))}
    </Section>
  );
}

function RuleList(props: {
  title: string;
  clientId: string | null;
  rules: TicketRuleDto[];
  canEdit: boolean;
  onEdit: (r: TicketRuleDto) => void;
}) {
  const teams = useTeams();
  const users = useUsers();
  const calendars = useCalendars();
  const reorder = useReorderTicketRules();
  const del = useDeleteTicketRule();
  const teamName = new Map((teams.data ?? []).map((t) => [t.id, t.name]));
  const userName = new Map((users.data ?? []).map((u) => [u.id, u.name]));
  const calendarName = new Map((calendars.data ?? []).map((c) => [c.id, c.name]));
  const move = (i: number, by: number) => {
    const ids = props.rules.map((r) => r.id);
    const [id] = ids.splice(i, 1);
    ids.splice(i + by, 0, id!);
    reorder.mutate({ clientId: props.clientId, ids });
  };
  const when = (r: TicketRuleDto) =>
    [
      r.minSeverity === "low" ? "any severity" : `${r.minSeverity} or worse`,
      r.checkKinds.length ? r.checkKinds.join(", ") : "any kind",
      r.businessHours === "any"
        ? null
        : `${r.businessHours === "during" ? "during" : "outside"} business hours (${
            r.calendarId ? (calendarName.get(r.calendarId) ?? "calendar") : "the client's SLA calendar"
          })`,
    ]
      .filter(Boolean)
      .join(" · ");
  const then = (r: TicketRuleDto) =>
    r.openTicket
      ? [
          r.priority ? `P${r.priority}` : "priority from severity",
          r.teamId ? `team ${teamName.get(r.teamId) ?? ""}` : null,
          r.assigneeId ? `to ${userName.get(r.assigneeId) ?? "a technician"}` : null,
          r.resolveOnRecovery ? "resolved on recovery" : "recovery only noted",
        ]
          .filter(Boolean)
          .join(" · ")
      : "no ticket (the alert stays on the Alerts page)";
  return (
    <Stack gap={4} p="sm">
      <Text fw={600} fz="sm">
        {props.title}
      </Text>
      <Table fz="sm" aria-label={`Ticket rules: ${props.title}`}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>#</Table.Th>
            <Table.Th>Rule</Table.Th>
            <Table.Th>When</Table.Th>
            <Table.Th>Then</Table.Th>
            <Table.Th>
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {props.rules.map((r, i) => {
            const label = r.name || `rule ${i + 1}`;
            return (
              <Table.Tr key={r.id}>
                <Table.Td>{i + 1}</Table.Td>
                <Table.Td>{r.name || "—"}</Table.Td>
                <Table.Td>{when(r)}</Table.Td>
                <Table.Td>{then(r)}</Table.Td>
                <Table.Td>
                  {props.canEdit && (
                    <Group gap={4} wrap="nowrap">
                      <Button
                        size="compact-xs"
                        variant="default"
                        disabled={i === 0 || reorder.isPending}
                        aria-label={`Move ${label} up`}
                        onClick={() => move(i, -1)}
                      >
                        ↑
                      </Button>
                      <Button
                        size="compact-xs"
                        variant="default"
                        disabled={i === props.rules.length - 1 || reorder.isPending}
                        aria-label={`Move ${label} down`}
                        onClick={() => move(i, 1)}
                      >
                        ↓
                      </Button>
                      <Button size="compact-xs" variant="default" onClick={() => props.onEdit(r)}>
                        Edit
                      </Button>
                      <Button
                        size="compact-xs"
                        variant="default"
                        aria-label={`Delete ${label}`}
                        onClick={() => del.mutate(r.id)}
                      >
                        Delete
                      </Button>
                    </Group>
                  )}
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
      {(reorder.isError || del.isError) && (
        <Text fz="sm" c="red.8" role="alert">
          {(reorder.error ?? del.error)?.message}
        </Text>
      )}
    </Stack>
  );
}
