import {
  Button,
  Checkbox,
  Chip,
  Group,
  NumberInput,
  Paper,
  Select,
  Stack,
  Text,
  Textarea,
  TextInput,
} from "@mantine/core";
import type { SlaCalendarDto, SlaPolicyDto } from "@switchboard/shared";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, fieldErrors } from "../../api/client.ts";
import { useClients } from "../../api/hooks.ts";
import { FormError } from "../admin/ui.tsx";

export const DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
export const PRIORITIES = ["1", "2", "3", "4"] as const;

export function CalendarForm({ calendar, onDone }: { calendar?: SlaCalendarDto; onDone?: () => void }) {
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

export function PolicyForm({
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

export function ClientPolicy({ policies }: { policies: SlaPolicyDto[] }) {
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
