import { Button, Checkbox, Group, Select, Stack, Table, Text } from "@mantine/core";
import { useState } from "react";
import { fieldErrors } from "../../api/client.ts";
import { useClients, useTeams, useUsers } from "../../api/hooks.ts";
import { Empty, Section } from "../../components/section.tsx";
import { useDeleteTicketRule, useSetTicketRule, useTicketRules } from "./api.ts";

const SEVERITIES = ["critical", "high", "medium", "low"];
const MSP = "__msp__";

/** How alerts become tickets, per client: the severity floor, who gets them, what recovery does. */
export function TicketRulesSection({ canEdit }: { canEdit: boolean }) {
  const rules = useTicketRules();
  const clients = useClients();
  const teams = useTeams();
  const users = useUsers();
  const set = useSetTicketRule();
  const del = useDeleteTicketRule();
  const clientName = new Map((clients.data ?? []).map((c) => [c.id, c.name]));
  const teamName = new Map((teams.data ?? []).map((t) => [t.id, t.name]));
  const userName = new Map((users.data ?? []).map((u) => [u.id, u.name]));
  const [client, setClient] = useState<string | null>(MSP);
  const [minSeverity, setMinSeverity] = useState("low");
  const [teamId, setTeamId] = useState<string | null>(null);
  const [assigneeId, setAssigneeId] = useState<string | null>(null);
  const [resolve, setResolve] = useState(true);
  const errors = fieldErrors(set.error);
  const items = rules.data?.items ?? [];
  return (
    <Section id="ticket-rules" title="Alert tickets" count={items.length}>
      {items.length === 0 ? (
        <Empty>Every alert opens an unassigned ticket, resolved when it recovers.</Empty>
      ) : (
        <Table fz="sm" aria-label="Ticket rules">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Client</Table.Th>
              <Table.Th>Tickets from</Table.Th>
              <Table.Th>Team</Table.Th>
              <Table.Th>Assignee</Table.Th>
              <Table.Th>On recovery</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((r) => (
              <Table.Tr key={r.id}>
                <Table.Td>{r.clientId ? (clientName.get(r.clientId) ?? "Client") : "Every client"}</Table.Td>
                <Table.Td>{r.minSeverity} and above</Table.Td>
                <Table.Td>{r.teamId ? (teamName.get(r.teamId) ?? "Team") : "—"}</Table.Td>
                <Table.Td>{r.assigneeId ? (userName.get(r.assigneeId) ?? "User") : "—"}</Table.Td>
                <Table.Td>{r.resolveOnRecovery ? "resolve the ticket" : "note it only"}</Table.Td>
                <Table.Td>
                  {canEdit && (
                    <Button size="compact-xs" variant="default" onClick={() => del.mutate(r.id)}>
                      Remove
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {canEdit && (
        <Stack
          component="form"
          gap="xs"
          p="sm"
          onSubmit={(e) => {
            e.preventDefault();
            set.mutate({
              clientId: client === MSP ? null : client,
              minSeverity: minSeverity as "low",
              teamId,
              assigneeId,
              resolveOnRecovery: resolve,
            });
          }}
        >
          <Group gap="xs" align="flex-end" wrap="wrap">
            <Select
              label="Client"
              searchable
              allowDeselect={false}
              data={[
                { value: MSP, label: "Every client (default)" },
                ...(clients.data ?? []).map((c) => ({ value: c.id, label: c.name })),
              ]}
              value={client}
              onChange={setClient}
              error={errors.clientId}
              w={220}
            />
            <Select
              label="Tickets from severity"
              data={SEVERITIES}
              value={minSeverity}
              onChange={(v) => setMinSeverity(v ?? "low")}
              allowDeselect={false}
              w={170}
            />
            <Select
              label="Team"
              clearable
              placeholder="No team"
              data={(teams.data ?? []).map((t) => ({ value: t.id, label: t.name }))}
              value={teamId}
              onChange={setTeamId}
              error={errors.teamId}
              w={180}
            />
            <Select
              label="Assignee"
              clearable
              searchable
              placeholder="Unassigned"
              data={(users.data ?? []).map((u) => ({ value: u.id, label: u.name }))}
              value={assigneeId}
              onChange={setAssigneeId}
              error={errors.assigneeId}
              w={200}
            />
            <Checkbox
              label="Resolve the ticket on recovery"
              checked={resolve}
              onChange={(e) => setResolve(e.currentTarget.checked)}
              mb={8}
            />
            <Button type="submit" size="sm" loading={set.isPending}>
              Save rule
            </Button>
          </Group>
          {set.isError && !Object.keys(errors).length && (
            <Text fz="sm" c="red.8" role="alert">
              {set.error.message}
            </Text>
          )}
        </Stack>
      )}
    </Section>
  );
}
