import {
  Button,
  Checkbox,
  Chip,
  Group,
  NumberInput,
  Paper,
  Select,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
  VisuallyHidden,
} from "@mantine/core";
import type { SlaCalendarDto, SlaPolicyDto } from "@switchboard/shared";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, fieldErrors, get } from "../../api/client.ts";
import { useClients } from "../../api/hooks.ts";
import { AdminPage, FormError } from "../admin/ui.tsx";
import { span } from "./sla-badge.tsx";

const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
const PRIORITIES = ["1", "2", "3", "4"] as const;
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

function CalendarForm({ calendar, onDone }: { calendar?: SlaCalendarDto; onDone?: () => void }) {
  const qc = useQueryClient();
  const [name, setName] = useState(calendar?.name ?? "");
  const [timeZone, setTimeZone] = useState(
    calendar?.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone,
  );
  const [alwaysOpen, setAlwaysOpen] = useState(calendar?.alwaysOpen ?? false);
  const [days, setDays] = useState(
    calendar?.hours.length ? calendar.hours.map((h) => String(h.day)) : ["1", "2", "3", "4", "5"],
  );
  const [start, setStart] = useState(calendar?.hours[0]?.start ?? "08:00");
  const [end, setEnd] = useState(
    calendar?.hours[0]?.end === "24:00" ? "00:00" : (calendar?.hours[0]?.end ?? "17:00"),
  );
  const [holidays, setHolidays] = useState(
    calendar?.holidays.map((h) => `${h.date} ${h.name}`).join("\n") ?? "",
  );
  const save = useMutation({
    mutationFn: () =>
      api(calendar ? "PUT" : "POST", calendar ? `/sla/calendars/${calendar.id}` : "/sla/calendars", {
        body: {
          name,
          timeZone,
          alwaysOpen,
          hours: alwaysOpen
            ? []
            : days.map((d) => ({ day: Number(d), start, end: end === "00:00" ? "24:00" : end })),
          // One per line: "2026-12-25 Christmas Day".
          holidays: holidays
            .split("\n")
            .map((l) => l.trim())
            .filter(Boolean)
            .map((l) => ({ date: l.slice(0, 10), name: l.slice(10).trim() || "Holiday" })),
        },
      }),
    onSuccess: () => {
      if (!calendar) {
        setName("");
        setHolidays("");
      }
      qc.invalidateQueries({ queryKey: ["sla"] });
      onDone?.();
    },
  });
  const errs = fieldErrors(save.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <Paper p="sm" withBorder={!!calendar}>
      <form onSubmit={submit} aria-label={calendar ? `Edit ${calendar.name}` : "New calendar"}>
        <Stack gap="xs">
          <Group align="flex-end" gap="xs">
            <TextInput
              label="New calendar"
              required
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
              error={errs.name}
            />
            <TextInput
              label="Time zone"
              required
              value={timeZone}
              onChange={(e) => setTimeZone(e.currentTarget.value)}
              error={errs.timeZone}
            />
            <Checkbox
              label="24/7"
              checked={alwaysOpen}
              onChange={(e) => setAlwaysOpen(e.currentTarget.checked)}
              mb={8}
            />
          </Group>
          {!alwaysOpen && (
            <Group align="flex-end" gap="xs">
              <Chip.Group multiple value={days} onChange={setDays}>
                <Group gap={4} aria-label="Open on">
                  {DAYS.map((d, i) => (
                    <Chip key={d} value={String(i + 1)} size="xs">
                      {d}
                    </Chip>
                  ))}
                </Group>
              </Chip.Group>
              <TextInput
                label="Opens"
                type="time"
                value={start}
                onChange={(e) => setStart(e.currentTarget.value)}
                error={errs["hours.0.start"]}
                w={110}
              />
              <TextInput
                label="Closes"
                type="time"
                value={end}
                onChange={(e) => setEnd(e.currentTarget.value)}
                error={errs["hours.0.end"] ?? errs.hours}
                w={110}
              />
            </Group>
          )}
          <Textarea
            label="Holidays, one per line (YYYY-MM-DD name)"
            autosize
            minRows={2}
            value={holidays}
            onChange={(e) => setHolidays(e.currentTarget.value)}
          />
          <Group>
            <Button size="xs" type="submit" loading={save.isPending}>
              {calendar ? "Save calendar" : "Add calendar"}
            </Button>
          </Group>
          <FormError error={save.error} />
        </Stack>
      </form>
    </Paper>
  );
}

type Targets = Record<string, { firstResponse: number | string; resolution: number | string }>;
const DEFAULT_TARGETS: Targets = {
  "1": { firstResponse: 15, resolution: 240 },
  "2": { firstResponse: 60, resolution: 480 },
  "3": { firstResponse: 240, resolution: 1440 },
  "4": { firstResponse: 480, resolution: 2880 },
};

function PolicyForm({
  calendars,
  policy,
  onDone,
}: {
  calendars: SlaCalendarDto[];
  policy?: SlaPolicyDto;
  onDone?: () => void;
}) {
  const qc = useQueryClient();
  const [name, setName] = useState(policy?.name ?? "");
  const [calendarId, setCalendarId] = useState<string | null>(policy?.calendar.id ?? null);
  const [targets, setTargets] = useState<Targets>(
    policy
      ? Object.fromEntries(
          PRIORITIES.map((p) => [
            p,
            {
              firstResponse: policy.targets[p]?.firstResponse ?? "",
              resolution: policy.targets[p]?.resolution ?? "",
            },
          ]),
        )
      : DEFAULT_TARGETS,
  );
  const [warn, setWarn] = useState<number | string>(policy?.warnPercent ?? 75);
  const [isDefault, setIsDefault] = useState(policy?.isDefault ?? false);
  const save = useMutation({
    mutationFn: () =>
      api(policy ? "PUT" : "POST", policy ? `/sla/policies/${policy.id}` : "/sla/policies", {
        body: {
          name,
          calendarId,
          warnPercent: Number(warn),
          isDefault,
          targets: Object.fromEntries(
            PRIORITIES.map((p) => [
              p,
              {
                firstResponse: targets[p]!.firstResponse === "" ? null : Number(targets[p]!.firstResponse),
                resolution: targets[p]!.resolution === "" ? null : Number(targets[p]!.resolution),
              },
            ]),
          ),
        },
      }),
    onSuccess: () => {
      if (!policy) setName("");
      qc.invalidateQueries({ queryKey: ["sla"] });
      onDone?.();
    },
  });
  const errs = fieldErrors(save.error);
  const set = (p: string, k: "firstResponse" | "resolution", v: number | string) =>
    setTargets((t) => ({ ...t, [p]: { ...t[p]!, [k]: v } }));
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <Paper p="sm" withBorder={!!policy}>
      <form onSubmit={submit} aria-label={policy ? `Edit ${policy.name}` : "New policy"}>
        <Stack gap="xs">
          <Group align="flex-end" gap="xs">
            <TextInput
              label="New policy"
              required
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
              error={errs.name}
            />
            <Select
              label="Calendar"
              required
              data={calendars.map((c) => ({ value: c.id, label: c.name }))}
              value={calendarId}
              onChange={setCalendarId}
              error={errs.calendarId}
            />
            <NumberInput label="Warn at (%)" min={1} max={99} value={warn} onChange={setWarn} w={110} />
            <Checkbox
              label="MSP default"
              checked={isDefault}
              onChange={(e) => setIsDefault(e.currentTarget.checked)}
              mb={8}
            />
          </Group>
          <Group gap="md">
            {PRIORITIES.map((p) => (
              <Group key={p} gap={4} align="flex-end">
                <NumberInput
                  label={`P${p} response (min)`}
                  min={1}
                  w={130}
                  value={targets[p]!.firstResponse}
                  onChange={(v) => set(p, "firstResponse", v)}
                />
                <NumberInput
                  label={`P${p} resolution (min)`}
                  min={1}
                  w={140}
                  value={targets[p]!.resolution}
                  onChange={(v) => set(p, "resolution", v)}
                />
              </Group>
            ))}
          </Group>
          <Group>
            <Button size="xs" type="submit" loading={save.isPending}>
              {policy ? "Save policy" : "Add policy"}
            </Button>
          </Group>
          <FormError error={save.error} />
        </Stack>
      </form>
    </Paper>
  );
}

function ClientPolicy({ policies }: { policies: SlaPolicyDto[] }) {
  const qc = useQueryClient();
  const clients = useClients();
  const [clientId, setClientId] = useState<string | null>(null);
  const [policyId, setPolicyId] = useState<string | null>(null);
  const save = useMutation({
    mutationFn: () => api("PUT", `/clients/${clientId}/sla-policy`, { body: { policyId } }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["sla"] }),
  });
  return (
    <Paper p="sm">
      <form
        aria-label="Client's policy"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <Group align="flex-end" gap="xs">
          <Select
            label="Client"
            searchable
            data={(clients.data ?? []).map((c) => ({ value: c.id, label: c.name }))}
            value={clientId}
            onChange={setClientId}
          />
          <Select
            label="Policy"
            placeholder="The default"
            clearable
            data={policies.map((p) => ({ value: p.id, label: p.name }))}
            value={policyId}
            onChange={setPolicyId}
          />
          <Button size="xs" type="submit" disabled={!clientId} loading={save.isPending} mb={2}>
            Set the client's policy
          </Button>
          {save.isSuccess && (
            <Text fz="xs" c="teal.8" role="status">
              Saved; the client's open tickets are being recomputed.
            </Text>
          )}
        </Group>
        <FormError error={save.error} />
      </form>
    </Paper>
  );
}

type Report = {
  month: string;
  rows: Array<{
    client: { id: string; name: string };
    priority: number;
    tickets: number;
    firstResponseMet: number;
    firstResponseBreached: number;
    resolutionMet: number;
    resolutionBreached: number;
    medianFirstResponseMinutes: number | null;
  }>;
};

function SlaReport() {
  const [month, setMonth] = useState(() => new Date().toISOString().slice(0, 7));
  const report = useQuery({
    queryKey: ["sla", "report", month],
    queryFn: () => get<Report>("/reports/sla", { month }),
    enabled: /^\d{4}-\d{2}$/.test(month),
  });
  return (
    <Paper component="section" aria-labelledby="sla-report">
      <Group justify="space-between" px="sm" py={6}>
        <Text id="sla-report" component="h2" fz="sm" fw={600} m={0}>
          SLA report
        </Text>
        <TextInput
          aria-label="Month"
          type="month"
          size="xs"
          value={month}
          onChange={(e) => setMonth(e.currentTarget.value)}
        />
      </Group>
      <Table fz="sm">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Client</Table.Th>
            <Table.Th>Priority</Table.Th>
            <Table.Th>Tickets</Table.Th>
            <Table.Th>Response met / breached</Table.Th>
            <Table.Th>Resolution met / breached</Table.Th>
            <Table.Th>Median first response</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(report.data?.rows ?? []).map((r) => (
            <Table.Tr key={`${r.client.id}-${r.priority}`}>
              <Table.Td>{r.client.name}</Table.Td>
              <Table.Td>P{r.priority}</Table.Td>
              <Table.Td>{r.tickets}</Table.Td>
              <Table.Td>
                {r.firstResponseMet} /{" "}
                <Text span c={r.firstResponseBreached ? "red.8" : undefined}>
                  {r.firstResponseBreached}
                </Text>
              </Table.Td>
              <Table.Td>
                {r.resolutionMet} /{" "}
                <Text span c={r.resolutionBreached ? "red.8" : undefined}>
                  {r.resolutionBreached}
                </Text>
              </Table.Td>
              <Table.Td>
                {r.medianFirstResponseMinutes === null ? "—" : span(r.medianFirstResponseMinutes)}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {report.data && report.data.rows.length === 0 && (
        <Text fz="xs" c="dimmed" px="sm" pb="xs">
          No tickets with an SLA created this month.
        </Text>
      )}
    </Paper>
  );
}
