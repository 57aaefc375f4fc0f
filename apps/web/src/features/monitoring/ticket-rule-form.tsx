import { Button, Checkbox, Group, MultiSelect, Paper, Select, Stack, Text, TextInput } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { fieldErrors, get } from "../../api/client.ts";
import { useClients, useTeams, useUsers } from "../../api/hooks.ts";
import { type TicketRuleDto, type TicketRuleInput, useSaveTicketRule } from "./api.ts";

const SEVERITIES = ["critical", "high", "medium", "low"];
/** Alert kinds a rule can name: the server's presence check, scheduled tasks, and each check kind. */
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

/** The SLA domain's business-hours calendars, which rules judge business hours on. */
export const useCalendars = () =>
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

const inputOf = (r: TicketRuleDto): TicketRuleInput => ({
  name: r.name,
  minSeverity: r.minSeverity,
  checkKinds: r.checkKinds,
  businessHours: r.businessHours,
  calendarId: r.calendarId,
  openTicket: r.openTicket,
  priority: r.priority,
  teamId: r.teamId,
  assigneeId: r.assigneeId,
  resolveOnRecovery: r.resolveOnRecovery,
});

/** A new rule (added at the end of its client's list, or every client's) or an existing one. */
export function RuleForm({ rule, onDone }: { rule: TicketRuleDto | null; onDone: () => void }) {
  const clients = useClients();
  const teams = useTeams();
  const users = useUsers();
  const calendars = useCalendars();
  const save = useSaveTicketRule();
  const [client, setClient] = useState<string | null>(rule ? (rule.clientId ?? MSP) : MSP);
  const [v, setV] = useState<TicketRuleInput>(rule ? inputOf(rule) : BLANK);
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
