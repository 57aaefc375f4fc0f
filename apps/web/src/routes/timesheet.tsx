import { Alert, Badge, Button, Group, Select, Stack, Table, Text, Textarea, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, get } from "../api/client.ts";
import { useMe, useUsers } from "../api/hooks.ts";
import { hm, type Timesheet, WORK_TYPES } from "../api/work-types.ts";
import { ErrorPage } from "../components/error-page.tsx";
import { Section } from "../components/section.tsx";
import { ReverseButton } from "../features/time/ticket-time.tsx";

const addDays = (d: string, n: number) => {
  const x = new Date(`${d}T00:00:00Z`);
  x.setUTCDate(x.getUTCDate() + n);
  return x.toISOString().slice(0, 10);
};
const dayName = (d: string) =>
  new Intl.DateTimeFormat("en-US", {
    weekday: "short",
    day: "numeric",
    month: "short",
    timeZone: "UTC",
  }).format(new Date(`${d}T00:00:00Z`));

/** A technician's week: minutes per day, the entries, submit; managers approve, reject or reopen. */
export function TimesheetPage() {
  const me = useMe();
  const users = useUsers();
  const qc = useQueryClient();
  const [week, setWeek] = useState<string | undefined>(undefined);
  const [userId, setUserId] = useState<string | null>(null);
  const [note, setNote] = useState("");
  const manager = me.data?.role === "admin" || me.data?.role === "dispatcher";
  const sheet = useQuery({
    queryKey: ["time-entries", "timesheet", userId, week],
    queryFn: () => get<Timesheet>("/timesheets", { userId: userId ?? undefined, week }),
  });
  const refresh = (t: Timesheet) => qc.setQueryData(["time-entries", "timesheet", userId, week], t);
  const submit = useMutation({
    mutationFn: () => api<Timesheet>("POST", "/timesheets/submit", { body: { week: sheet.data!.weekStart } }),
    onSuccess: refresh,
    onError: (e) => notifications.show({ color: "red", title: "Not submitted", message: e.message }),
  });
  const decide = useMutation({
    mutationFn: (decision: "approve" | "reject" | "reopen") =>
      api<Timesheet>("POST", `/timesheets/${sheet.data!.id}/decision`, { body: { decision, note } }),
    onSuccess: refresh,
    onError: (e) => notifications.show({ color: "red", title: "Not saved", message: e.message }),
  });
  if (sheet.isError) return <ErrorPage error={sheet.error} onRetry={() => sheet.refetch()} />;
  const t = sheet.data;
  const mine = !userId || userId === me.data?.id;
  return (
    <Stack p="md" gap="md" maw={1000}>
      <Group justify="space-between" wrap="wrap">
        <Title order={1}>Timesheet</Title>
        <Group gap="xs">
          {manager && (
            <Select
              aria-label="Technician"
              placeholder="Me"
              data={(users.data ?? []).map((u) => ({ value: u.id, label: u.name }))}
              value={userId}
              onChange={setUserId}
              searchable
              clearable
              w={200}
            />
          )}
          <Button variant="default" onClick={() => t && setWeek(addDays(t.weekStart, -7))}>
            Previous week
          </Button>
          <Button variant="default" onClick={() => t && setWeek(addDays(t.weekStart, 7))}>
            Next week
          </Button>
        </Group>
      </Group>
      {t && (
        <>
          <Group gap="sm">
            <Text>
              {t.userName}, week of {dayName(t.weekStart)} ({t.timezone})
            </Text>
            <Badge
              variant="light"
              color={
                t.status === "approved"
                  ? "green"
                  : t.status === "rejected"
                    ? "red"
                    : t.status === "submitted"
                      ? "blue"
                      : "gray"
              }
            >
              {t.status}
            </Badge>
            <Text fz="sm" c="dimmed">
              {hm(t.totalMinutes)} total, {hm(t.billableMinutes)} billable
            </Text>
          </Group>
          {t.status === "rejected" && t.decisionNote && (
            <Alert color="red" title="Sent back">
              {t.decisionNote}
            </Alert>
          )}
          <Table withTableBorder>
            <Table.Thead>
              <Table.Tr>
                {t.days.map((d) => (
                  <Table.Th key={d.date}>{dayName(d.date)}</Table.Th>
                ))}
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              <Table.Tr>
                {t.days.map((d) => (
                  <Table.Td key={d.date} ff="monospace">
                    {hm(d.billable + d.nonBillable)}
                  </Table.Td>
                ))}
              </Table.Tr>
            </Table.Tbody>
          </Table>
          <Section id="entries-title" title="Entries" count={t.entries.length}>
            <Table fz="sm">
              <Table.Thead>
                <Table.Tr>
                  <Table.Th>When</Table.Th>
                  <Table.Th>Client / ticket</Table.Th>
                  <Table.Th>Type</Table.Th>
                  <Table.Th>Note</Table.Th>
                  <Table.Th ta="right">Time</Table.Th>
                  <Table.Th />
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {t.entries.map((e) => (
                  <Table.Tr key={e.id}>
                    <Table.Td>{new Date(e.startedAt).toLocaleString()}</Table.Td>
                    <Table.Td>
                      {e.clientName}
                      {e.ticketNumber ? ` · #${e.ticketNumber}` : ""}
                    </Table.Td>
                    <Table.Td>
                      {WORK_TYPES.find((w) => w.value === e.workType)?.label}
                      {!e.billable && " (non-billable)"}
                    </Table.Td>
                    <Table.Td>{e.note}</Table.Td>
                    <Table.Td ta="right" ff="monospace">
                      {hm(e.minutes)}
                      {e.overlaps && (
                        <Badge size="xs" color="orange" ml={4}>
                          overlap
                        </Badge>
                      )}
                      {e.locked && (
                        <Badge size="xs" color="gray" ml={4}>
                          locked
                        </Badge>
                      )}
                    </Table.Td>
                    <Table.Td>
                      {e.locked && !e.reversesEntryId && !e.reversedByEntryId && <ReverseButton entry={e} />}
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Section>
          <Group>
            {mine && (t.status === "open" || t.status === "rejected") && (
              <Button onClick={() => submit.mutate()} loading={submit.isPending}>
                Submit the week
              </Button>
            )}
            {manager && t.id && (t.status === "submitted" || t.status === "approved") && (
              <>
                <Textarea
                  aria-label="Note to the technician"
                  placeholder="Note (needed to send back)"
                  value={note}
                  onChange={(e) => setNote(e.currentTarget.value)}
                  autosize
                  w={300}
                />
                {t.status === "submitted" ? (
                  <>
                    <Button color="green" onClick={() => decide.mutate("approve")} loading={decide.isPending}>
                      Approve
                    </Button>
                    <Button
                      color="red"
                      variant="light"
                      onClick={() => decide.mutate("reject")}
                      loading={decide.isPending}
                    >
                      Send back
                    </Button>
                  </>
                ) : (
                  me.data?.role === "admin" && (
                    <Button
                      variant="default"
                      onClick={() => decide.mutate("reopen")}
                      loading={decide.isPending}
                    >
                      Reopen
                    </Button>
                  )
                )}
              </>
            )}
          </Group>
        </>
      )}
    </Stack>
  );
}
