import {
  Button,
  Checkbox,
  Group,
  MultiSelect,
  NumberInput,
  Paper,
  Select,
  Stack,
  TextInput,
} from "@mantine/core";
import type { RotationDto, SlaCalendarDto } from "@switchboard/shared";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, fieldErrors, get } from "../../api/client.ts";
import { useUsers } from "../../api/hooks.ts";
import { FormError } from "../admin/ui.tsx";

/** Creates a rota, or edits one: members in rotation order, hand-over time and zone, escalation. */
export function RotaForm({ rota, onDone }: { rota?: RotationDto; onDone?: () => void }) {
  const qc = useQueryClient();
  const users = useUsers();
  const calendars = useQuery({
    queryKey: ["sla", "calendars"],
    queryFn: () => get<SlaCalendarDto[]>("/sla/calendars"),
  });
  const [name, setName] = useState(rota?.name ?? "");
  const [timeZone, setTimeZone] = useState(
    rota?.timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone,
  );
  const [period, setPeriod] = useState<string>(rota?.period ?? "weekly");
  const [handover, setHandover] = useState(rota?.handover ?? "17:00");
  const [anchorDate, setAnchorDate] = useState(rota?.anchorDate ?? new Date().toISOString().slice(0, 10));
  const [members, setMembers] = useState<string[]>(rota?.members.map((m) => m.id) ?? []);
  const [escalate, setEscalate] = useState<number | string>(rota?.escalateAfterMinutes ?? 10);
  const [pages, setPages] = useState(rota?.pages ?? true);
  const [calendarId, setCalendarId] = useState<string | null>(rota?.calendar?.id ?? null);
  const save = useMutation({
    mutationFn: () =>
      api<RotationDto>(rota ? "PUT" : "POST", rota ? `/oncall/rotations/${rota.id}` : "/oncall/rotations", {
        body: {
          name,
          timeZone,
          period,
          handover,
          anchorDate,
          memberIds: members,
          escalateAfterMinutes: Number(escalate),
          maxRounds: rota?.maxRounds ?? 2,
          pages,
          calendarId,
        },
      }),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ["oncall"] });
      if (!rota) {
        setName("");
        setMembers([]);
      }
      onDone?.();
    },
  });
  const errs = fieldErrors(save.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <Paper p="sm" withBorder={!!rota}>
      <form onSubmit={submit} aria-label={rota ? `Edit ${rota.name}` : "New rota"}>
        <Stack gap="xs">
          <Group align="flex-end" gap="xs">
            <TextInput
              label={rota ? "Name" : "New rota"}
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
            <Select
              label="Rotates"
              data={[
                { value: "weekly", label: "Weekly" },
                { value: "daily", label: "Daily" },
              ]}
              value={period}
              onChange={(v) => v && setPeriod(v)}
              allowDeselect={false}
              w={110}
            />
            <TextInput
              label="Hand-over"
              type="time"
              required
              value={handover}
              onChange={(e) => setHandover(e.currentTarget.value)}
              error={errs.handover}
              w={110}
            />
            <TextInput
              label="First shift on"
              type="date"
              required
              value={anchorDate}
              onChange={(e) => setAnchorDate(e.currentTarget.value)}
              error={errs.anchorDate}
            />
          </Group>
          <MultiSelect
            label="Members, in order"
            data={(users.data ?? []).filter((u) => u.active).map((u) => ({ value: u.id, label: u.name }))}
            value={members}
            onChange={setMembers}
            searchable
            error={errs.memberIds}
          />
          <Group align="flex-end" gap="xs">
            <NumberInput
              label="Escalate after (minutes)"
              min={1}
              max={1440}
              value={escalate}
              onChange={setEscalate}
              w={180}
            />
            <Select
              label="Pages outside the hours of"
              placeholder="Any hour"
              clearable
              data={(calendars.data ?? []).map((c) => ({ value: c.id, label: c.name }))}
              value={calendarId}
              onChange={setCalendarId}
            />
            <Checkbox
              label="P1s and SLA breaches page this rota"
              checked={pages}
              onChange={(e) => setPages(e.currentTarget.checked)}
              mb={8}
            />
            <Button size="xs" type="submit" loading={save.isPending} mb={2}>
              {rota ? "Save rota" : "Add rota"}
            </Button>
          </Group>
          <FormError error={save.error} />
        </Stack>
      </form>
    </Paper>
  );
}
