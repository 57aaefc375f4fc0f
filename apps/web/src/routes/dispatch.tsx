import {
  Box,
  Button,
  Group,
  Modal,
  Paper,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type DragEvent, useState } from "react";
import { Link } from "wouter";
import { api, fieldErrors, get } from "../api/client.ts";
import type { TicketWithTimeline } from "../api/types.ts";
import type { Appointment, Dispatch } from "../api/work-types.ts";
import { ErrorPage } from "../components/error-page.tsx";

const DAY = 86_400_000;
/** Monday 00:00 (browser time) of the week holding `d`. */
function mondayOf(d: Date) {
  const x = new Date(d);
  x.setHours(0, 0, 0, 0);
  x.setDate(x.getDate() - ((x.getDay() + 6) % 7));
  return x;
}
/** The calendar day of an instant in a zone, "YYYY-MM-DD". */
const dayIn = (iso: string, timeZone: string) =>
  new Intl.DateTimeFormat("en-CA", { timeZone }).format(new Date(iso));
/** "HH:mm" of an instant in a zone. */
const timeIn = (iso: string, timeZone: string) =>
  new Intl.DateTimeFormat("en-GB", { timeZone, hour: "2-digit", minute: "2-digit", hourCycle: "h23" }).format(
    new Date(iso),
  );

/**
 * The dispatch calendar: technicians by day for a week, each appointment in its technician's own
 * day and time. Drag an appointment to another technician or day to move it (same local time there);
 * click an empty day to book one for a ticket.
 */
export function DispatchPage() {
  const qc = useQueryClient();
  const [weekStart, setWeekStart] = useState(() => mondayOf(new Date()));
  const days = Array.from({ length: 7 }, (_, i) => new Date(weekStart.getTime() + i * DAY));
  const from = new Date(weekStart.getTime() - DAY);
  const to = new Date(weekStart.getTime() + 8 * DAY);
  const q = useQuery({
    queryKey: ["dispatch", from.toISOString()],
    queryFn: () => get<Dispatch>("/dispatch", { from: from.toISOString(), to: to.toISOString() }),
  });
  const [booking, setBooking] = useState<{ technicianId: string; day: string; timeZone: string } | null>(
    null,
  );
  const move = useMutation({
    mutationFn: (v: { a: Appointment; technicianId: string; day: string; timeZone: string }) =>
      api<Appointment>("PATCH", `/appointments/${v.a.id}`, {
        body: {
          version: v.a.version,
          technicianId: v.technicianId,
          start: { local: `${v.day}T${timeIn(v.a.startsAt, v.timeZone)}`, timeZone: v.timeZone },
        },
      }),
    onSuccess: (a) => {
      notifications.show({
        title: "Moved",
        message: `${a.title} is now with ${a.technicianName}; the invites are updated.`,
      });
      qc.invalidateQueries({ queryKey: ["dispatch"] });
    },
    onError: (e) => notifications.show({ color: "red", title: "Not moved", message: e.message }),
  });

  if (q.isError) return <ErrorPage error={q.error} onRetry={() => q.refetch()} />;
  const dayKeys = days.map(
    (d) =>
      `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`,
  );
  const onDrop = (e: DragEvent, technicianId: string, day: string, timeZone: string) => {
    e.preventDefault();
    const a = q.data?.appointments.find((x) => x.id === e.dataTransfer.getData("text/appointment"));
    if (a) move.mutate({ a, technicianId, day, timeZone });
  };
  return (
    <Stack p="md" gap="sm">
      <Group justify="space-between">
        <Title order={1}>Dispatch</Title>
        <Group gap="xs">
          <Button variant="default" onClick={() => setWeekStart(new Date(weekStart.getTime() - 7 * DAY))}>
            Previous week
          </Button>
          <Button variant="default" onClick={() => setWeekStart(mondayOf(new Date()))}>
            This week
          </Button>
          <Button variant="default" onClick={() => setWeekStart(new Date(weekStart.getTime() + 7 * DAY))}>
            Next week
          </Button>
        </Group>
      </Group>
      <Box style={{ overflowX: "auto" }}>
        <Table
          withTableBorder
          withColumnBorders
          miw={960}
          style={{ tableLayout: "fixed" }}
          aria-label="Appointments by technician and day"
        >
          <Table.Thead>
            <Table.Tr>
              <Table.Th w={160}>Technician</Table.Th>
              {days.map((d) => (
                <Table.Th key={d.toISOString()}>
                  {d.toLocaleDateString(undefined, { weekday: "short", day: "numeric", month: "short" })}
                </Table.Th>
              ))}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(q.data?.technicians ?? []).map((t) => (
              <Table.Tr key={t.id}>
                <Table.Th scope="row" fw={400} className="sb-ellipsis" title={`${t.name} (${t.timezone})`}>
                  {t.name}
                </Table.Th>
                {dayKeys.map((day) => {
                  const items = (q.data?.appointments ?? []).filter(
                    (a) => a.technicianId === t.id && dayIn(a.startsAt, t.timezone) === day,
                  );
                  return (
                    <Table.Td
                      key={day}
                      onDragOver={(e) => e.preventDefault()}
                      onDrop={(e) => onDrop(e, t.id, day, t.timezone)}
                      p={2}
                      style={{ verticalAlign: "top" }}
                    >
                      <Stack gap={2}>
                        {items.map((a) => (
                          <Paper
                            key={a.id}
                            draggable
                            onDragStart={(e) => e.dataTransfer.setData("text/appointment", a.id)}
                            p={3}
                            bg={
                              a.status === "completed"
                                ? "var(--mantine-color-gray-light)"
                                : "var(--mantine-color-blue-light)"
                            }
                            data-testid="dispatch-appointment"
                          >
                            <Text fz={11} ff="monospace">
                              {timeIn(a.startsAt, t.timezone)}–{timeIn(a.endsAt, t.timezone)}
                            </Text>
                            <Text
                              fz={11}
                              className="sb-ellipsis"
                              component={Link}
                              href={a.ticketNumber ? `/tickets/${a.ticketNumber}` : "#"}
                            >
                              {a.ticketNumber ? `#${a.ticketNumber} ` : ""}
                              {a.clientName}
                            </Text>
                          </Paper>
                        ))}
                        <Button
                          size="compact-xs"
                          variant="subtle"
                          onClick={() => setBooking({ technicianId: t.id, day, timeZone: t.timezone })}
                          aria-label={`Book ${t.name} on ${day}`}
                        >
                          +
                        </Button>
                      </Stack>
                    </Table.Td>
                  );
                })}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Box>
      {booking && <BookForTicket slot={booking} onClose={() => setBooking(null)} />}
    </Stack>
  );
}

function BookForTicket({
  slot,
  onClose,
}: {
  slot: { technicianId: string; day: string; timeZone: string };
  onClose: () => void;
}) {
  const qc = useQueryClient();
  const [number, setNumber] = useState("");
  const [time, setTime] = useState("09:00");
  const [duration, setDuration] = useState("60");
  const n = number.replace(/\D/g, "");
  const ticket = useQuery({
    queryKey: ["ticket-by-number", n],
    queryFn: () => get<TicketWithTimeline>(`/tickets/by-number/${n}`),
    enabled: n.length > 0,
    retry: false,
  });
  const save = useMutation({
    mutationFn: () =>
      api<Appointment>("POST", "/appointments", {
        body: {
          ticketId: ticket.data?.ticket.id,
          technicianId: slot.technicianId,
          start: { local: `${slot.day}T${time}`, timeZone: slot.timeZone },
          durationMinutes: Number(duration),
        },
      }),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ["dispatch"] });
      onClose();
    },
  });
  const errors = fieldErrors(save.error);
  return (
    <Modal opened onClose={onClose} title={`Book on ${slot.day} (${slot.timeZone})`}>
      <Stack
        component="form"
        gap="sm"
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <TextInput
          label="Ticket number"
          value={number}
          onChange={(e) => setNumber(e.currentTarget.value)}
          required
          error={ticket.isError ? "No such ticket" : undefined}
        />
        {ticket.data && (
          <Text fz="sm" c="dimmed">
            {ticket.data.ticket.client.name}: {ticket.data.ticket.subject}
          </Text>
        )}
        <TextInput
          type="time"
          label="Starts"
          value={time}
          onChange={(e) => setTime(e.currentTarget.value)}
          error={errors["start.local"]}
          required
        />
        <Select
          label="Length"
          data={["30", "60", "90", "120", "180"].map((v) => ({ value: v, label: `${v} minutes` }))}
          value={duration}
          onChange={(v) => setDuration(v ?? "60")}
          allowDeselect={false}
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
          <Button type="submit" disabled={!ticket.data} loading={save.isPending}>
            Book
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
