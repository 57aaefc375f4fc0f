import {
  Button,
  Checkbox,
  Group,
  MultiSelect,
  Paper,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  VisuallyHidden,
} from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { fieldErrors, get } from "../../api/client.ts";
import { useClients, useTeams, useUsers } from "../../api/hooks.ts";
import { Empty, Section } from "../../components/section.tsx";
import {
  type TicketRuleDto,
  type TicketRuleInput,
  useDeleteTicketRule,
  useReorderTicketRules,
  useSaveTicketRule,
  useTicketRules,
} from "./api.ts";

const SEVERITIES = ["critical", "high", "medium", "low"];
const KINDS = [
  "offline",
  "task",
  "service",
  "process",
  "disk",
  "cpu",
  "memory",
  "ping",
  "tcp",
  "http",
  "script",
  "reboot",
  "updates",
  "log",
  "backup",
];
const HOURS = [
  { value: "any", label: "At any hour" },
  { value: "during", label: "During business hours" },
  { value: "outside", label: "Outside business hours (and holidays)" },
];
const MSP = "__msp__";
const SEVERITY_PRIORITY = "__severity__";
const CLIENT_CALENDAR = "__client__";

const useCalendars = () =>
  useQuery({
    queryKey: ["sla", "calendars"],
    queryFn: () => get<Array<{ id: string; name: string; timeZone: string }>>("/sla/calendars"),
  });

const BLANK: TicketRuleInput = {
  name: "",
  minSeverity: "low",
  checkKinds: [],
  businessHours: "any",
  calendarId: null,
  openTicket: true,
  priority: null,
  teamId: null,
  assigneeId: null,
  resolveOnRecovery: true,
};

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

function RuleForm({ rule, onDone }: { rule: TicketRuleDto | null; onDone: () => void }) {
  const clients = useClients();
  const teams = useTeams();
  const users = useUsers();
  const calendars = useCalendars();
  const save = useSaveTicketRule();
  const [client, setClient] = useState<string | null>(rule ? (rule.clientId ?? MSP) : MSP);
  const [v, setV] = useState<TicketRuleInput>(rule ? { ...BLANK, ...rule } : BLANK);
  const set = (patch: Partial<TicketRuleInput>) => setV((x) => ({ ...x, ...patch }));
  const errors = fieldErrors(save.error);
  return (
    <Paper p="sm" m="sm" withBorder>
      <Stack
        component="form"
        gap="xs"
        aria-label={rule ? "Edit ticket rule" : "New ticket rule"}
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate(
            { ...v, clientId: client === MSP ? null : client, id: rule?.id, version: rule?.version },
            { onSuccess: onDone },
          );
        }}
      >
        <Group gap="xs" align="flex-end" wrap="wrap">
          <Select
            label="Client"
            searchable
            allowDeselect={false}
            disabled={!!rule}
            data={[
              { value: MSP, label: "Every client" },
              ...(clients.data ?? []).map((c) => ({ value: c.id, label: c.name })),
            ]}
            value={client}
            onChange={setClient}
            error={errors.clientId}
            w={220}
          />
          <TextInput
            label="Rule name"
            value={v.name}
            onChange={(e) => set({ name: e.currentTarget.value })}
            error={errors.name}
            w={220}
          />
        </Group>
        <Text fz="xs" fw={600}>
          When
        </Text>
        <Group gap="xs" align="flex-end" wrap="wrap">
          <Select
            label="Severity at least"
            data={SEVERITIES}
            value={v.minSeverity}
            onChange={(x) => set({ minSeverity: (x ?? "low") as TicketRuleInput["minSeverity"] })}
            allowDeselect={false}
            error={errors.minSeverity}
            w={150}
          />
          <MultiSelect
            label="Check kinds"
            placeholder={v.checkKinds.length ? undefined : "Any kind"}
            data={KINDS}
            value={v.checkKinds}
            onChange={(x) => set({ checkKinds: x as TicketRuleInput["checkKinds"] })}
            error={errors.checkKinds}
            clearable
            w={260}
          />
          <Select
            label="Business hours"
            data={HOURS}
            value={v.businessHours}
            onChange={(x) => set({ businessHours: (x ?? "any") as TicketRuleInput["businessHours"] })}
            allowDeselect={false}
            error={errors.businessHours}
            w={270}
          />
          {v.businessHours !== "any" && (
            <Select
              label="Calendar"
              data={[
                { value: CLIENT_CALENDAR, label: "The client's SLA calendar" },
                ...(calendars.data ?? []).map((c) => ({ value: c.id, label: `${c.name} (${c.timeZone})` })),
              ]}
              value={v.calendarId ?? CLIENT_CALENDAR}
              onChange={(x) => set({ calendarId: !x || x === CLIENT_CALENDAR ? null : x })}
              allowDeselect={false}
              error={errors.calendarId}
              w={260}
            />
          )}
        </Group>
        <Text fz="xs" fw={600}>
          Then
        </Text>
        <Group gap="xs" align="flex-end" wrap="wrap">
          <Checkbox
            label="Open a ticket"
            checked={v.openTicket}
            onChange={(e) =>
              set(
                e.currentTarget.checked
                  ? { openTicket: true }
                  : { openTicket: false, priority: null, teamId: null, assigneeId: null },
              )
            }
            mb={8}
          />
          <Select
            label="Priority"
            disabled={!v.openTicket}
            data={[
              { value: SEVERITY_PRIORITY, label: "From severity" },
              ...[1, 2, 3, 4].map((p) => ({ value: String(p), label: `P${p}` })),
            ]}
            value={v.priority ? String(v.priority) : SEVERITY_PRIORITY}
            onChange={(x) => set({ priority: !x || x === SEVERITY_PRIORITY ? null : Number(x) })}
            allowDeselect={false}
            error={errors.priority}
            w={150}
          />
          <Select
            label="Team"
            clearable
            disabled={!v.openTicket}
            placeholder="No team"
            data={(teams.data ?? []).map((t) => ({ value: t.id, label: t.name }))}
            value={v.teamId}
            onChange={(x) => set({ teamId: x })}
            error={errors.teamId}
            w={180}
          />
          <Select
            label="Assignee"
            clearable
            searchable
            disabled={!v.openTicket}
            placeholder="Unassigned"
            data={(users.data ?? []).map((u) => ({ value: u.id, label: u.name }))}
            value={v.assigneeId}
            onChange={(x) => set({ assigneeId: x })}
            error={errors.assigneeId}
            w={200}
          />
          <Checkbox
            label="Resolve the ticket on recovery"
            disabled={!v.openTicket}
            checked={v.resolveOnRecovery}
            onChange={(e) => set({ resolveOnRecovery: e.currentTarget.checked })}
            mb={8}
          />
        </Group>
        <Group gap="xs">
          <Button type="submit" size="xs" loading={save.isPending}>
            Save rule
          </Button>
          <Button size="xs" variant="subtle" onClick={onDone}>
            Cancel
          </Button>
        </Group>
        {save.isError && !Object.keys(errors).length && (
          <Text fz="sm" c="red.8" role="alert">
            {save.error.message}
          </Text>
        )}
      </Stack>
    </Paper>
  );
}
