import {
  ActionIcon,
  Button,
  Group,
  Modal,
  NumberInput,
  Select,
  Stack,
  Switch,
  Table,
  Text,
  Textarea,
  TextInput,
} from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, fieldErrors, get } from "../../api/client.ts";
import type { TicketDto } from "../../api/types.ts";
import { hm, type TimeEntry, WORK_TYPES, type WorkType } from "../../api/work-types.ts";
import { Section } from "../../components/section.tsx";
import { clock, useRunningElapsed, useTimer, useTimerActions } from "./timer.tsx";

/** Time on a ticket: start/stop the timer here, log time by hand, see what was logged and its total. */
export function TicketTime({ ticket, readOnly }: { ticket: TicketDto; readOnly: boolean }) {
  const entries = useQuery({
    queryKey: ["time-entries", "ticket", ticket.id],
    queryFn: () => get<TimeEntry[]>("/time-entries", { ticketId: ticket.id }),
  });
  const timer = useTimer();
  const running = timer.data?.running;
  const here = running?.ticketId === ticket.id;
  const elapsed = useRunningElapsed(here ? running?.startedAt : undefined);
  const { start, stop } = useTimerActions();
  const [logOpen, log] = useDisclosure(false);
  const total = (entries.data ?? []).reduce((a, e) => a + (e.minutes ?? 0), 0);

  return (
    <Section
      id="ticket-time-title"
      title="Time"
      count={hm(total)}
      actions={
        !readOnly && (
          <Group gap={4}>
            {here ? (
              <Button
                size="compact-xs"
                color="red"
                variant="light"
                onClick={() => stop.mutate()}
                loading={stop.isPending}
              >
                Stop {clock(elapsed)}
              </Button>
            ) : (
              <Button
                size="compact-xs"
                variant="light"
                onClick={() => start.mutate({ ticketId: ticket.id })}
                loading={start.isPending}
              >
                Start timer
              </Button>
            )}
            <Button size="compact-xs" variant="default" onClick={log.open}>
              Log time
            </Button>
          </Group>
        )
      }
    >
      {entries.data?.length ? (
        <Table fz="xs" verticalSpacing={2}>
          <Table.Tbody>
            {entries.data.map((e) => (
              <Table.Tr key={e.id}>
                <Table.Td>{new Date(e.startedAt).toLocaleDateString()}</Table.Td>
                <Table.Td>{e.userName}</Table.Td>
                <Table.Td>{WORK_TYPES.find((w) => w.value === e.workType)?.label}</Table.Td>
                <Table.Td ta="right" ff="monospace">
                  {hm(e.minutes)}
                  {e.overlaps && (
                    <Text span c="orange" fz="xs" title="Overlaps another entry of this technician">
                      {" "}
                      overlap
                    </Text>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      ) : (
        <Text fz="xs" c="dimmed" p="sm">
          No time logged yet.
        </Text>
      )}
      <LogTimeModal opened={logOpen} onClose={log.close} target={{ ticketId: ticket.id }} />
    </Section>
  );
}

/** Log time by hand: when it started, how long, what kind of work. */
export function LogTimeModal({
  opened,
  onClose,
  target,
}: {
  opened: boolean;
  onClose: () => void;
  target: { ticketId?: string; clientId?: string; projectTaskId?: string };
}) {
  const qc = useQueryClient();
  const now = new Date();
  const local = new Date(now.getTime() - now.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
  const [form, setForm] = useState({
    start: local,
    minutes: 30 as number | string,
    workType: "remote" as WorkType,
    billable: true,
    note: "",
  });
  const save = useMutation({
    mutationFn: () =>
      api<TimeEntry>("POST", "/time-entries", {
        body: {
          ...target,
          startedAt: new Date(form.start).toISOString(),
          minutes: Number(form.minutes),
          workType: form.workType,
          billable: form.billable,
          note: form.note,
        },
      }),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ["time-entries"] });
      qc.invalidateQueries({ queryKey: ["projects"] });
      notifications.show({ title: "Time logged", message: `${form.minutes} min` });
      onClose();
    },
  });
  const errors = fieldErrors(save.error);
  return (
    <Modal opened={opened} onClose={onClose} title="Log time">
      <Stack
        component="form"
        gap="sm"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <TextInput
          type="datetime-local"
          label="Started"
          value={form.start}
          onChange={(e) => setForm({ ...form, start: e.currentTarget.value })}
          error={errors.startedAt}
          required
        />
        <NumberInput
          label="Minutes"
          min={1}
          max={1440}
          value={form.minutes}
          onChange={(v) => setForm({ ...form, minutes: v })}
          error={errors.minutes}
          required
        />
        <Select
          label="Work type"
          data={WORK_TYPES}
          value={form.workType}
          onChange={(v) => setForm({ ...form, workType: (v as WorkType) ?? "remote" })}
          allowDeselect={false}
        />
        <Switch
          label="Billable"
          checked={form.billable}
          onChange={(e) => setForm({ ...form, billable: e.currentTarget.checked })}
        />
        <Textarea
          label="Note"
          value={form.note}
          onChange={(e) => setForm({ ...form, note: e.currentTarget.value })}
          autosize
          minRows={2}
        />
        {save.isError && !Object.keys(errors).length && (
          <Text c="red" fz="sm" role="alert">
            {save.error.message}
          </Text>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={save.isPending}>
            Log time
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

export function ReverseButton({ entry }: { entry: TimeEntry }) {
  const qc = useQueryClient();
  const reverse = useMutation({
    mutationFn: () => api("POST", `/time-entries/${entry.id}/reverse`, { body: { reason: "corrected" } }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["time-entries"] }),
    onError: (e) => notifications.show({ color: "red", title: "Not reversed", message: e.message }),
  });
  return (
    <ActionIcon
      variant="subtle"
      size="sm"
      aria-label="Reverse this entry"
      onClick={() => reverse.mutate()}
      loading={reverse.isPending}
    >
      ↺
    </ActionIcon>
  );
}
