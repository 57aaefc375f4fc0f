import { Button, Group, NumberInput, Select, Stack, Table, Text, TextInput } from "@mantine/core";
import { useState } from "react";
import { fieldErrors } from "../../api/client.ts";
import { useClients, useSites } from "../../api/hooks.ts";
import { dateTime } from "../../components/format.ts";
import { Empty, Section } from "../../components/section.tsx";
import {
  type MaintenanceSeriesDto,
  useCreateMaintenance,
  useCreateMaintenanceSeries,
  useDeleteMaintenance,
  useDeleteMaintenanceSeries,
  useMaintenance,
} from "./api.ts";

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const REPEATS = [
  { value: "once", label: "Once" },
  { value: "daily", label: "Every day" },
  { value: "weekly", label: "Every week" },
];

/** "Every Sunday 02:00 for 2 h" for the crons this form writes; other crons as they are. */
function describeSeries(s: MaintenanceSeriesDto) {
  const m = /^(\d{1,2}) (\d{1,2}) \* \* (\*|[0-7])$/.exec(s.cron);
  const length = s.durationMinutes % 60 === 0 ? `${s.durationMinutes / 60} h` : `${s.durationMinutes} min`;
  if (!m) return `${s.cron} for ${length}`;
  const at = `${m[2]!.padStart(2, "0")}:${m[1]!.padStart(2, "0")}`;
  const day = m[3] === "*" ? "day" : WEEKDAYS[Number(m[3]) % 7];
  return `Every ${day} ${at} for ${length}`;
}

const inHours = (h: number) => {
  const d = new Date(Date.now() + h * 3600_000);
  d.setSeconds(0, 0);
  // datetime-local wants the browser's local wall clock.
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
};

/** Maintenance windows: alerts still open and resolve, but their tickets wait until the window ends. */
export function MaintenanceSection({ canWrite }: { canWrite: boolean }) {
  const list = useMaintenance();
  const clients = useClients();
  const names = new Map((clients.data ?? []).map((c) => [c.id, c.name]));
  const create = useCreateMaintenance();
  const remove = useDeleteMaintenance();
  const [clientId, setClientId] = useState<string | null>(null);
  const [siteId, setSiteId] = useState<string | null>(null);
  const sites = useSites(clientId);
  const [starts, setStarts] = useState(inHours(0));
  const [ends, setEnds] = useState(inHours(2));
  const [reason, setReason] = useState("");
  const createSeries = useCreateMaintenanceSeries();
  const removeSeries = useDeleteMaintenanceSeries();
  const [repeat, setRepeat] = useState("once");
  const [weekday, setWeekday] = useState("0");
  const [at, setAt] = useState("02:00");
  const [hours, setHours] = useState<number>(2);
  const errors = { ...fieldErrors(create.error), ...fieldErrors(createSeries.error) };
  const failed = create.isError ? create.error : createSeries.isError ? createSeries.error : null;
  const items = list.data?.items ?? [];
  const series = list.data?.series ?? [];
  return (
    <Section id="maintenance" title="Maintenance windows" count={items.length + series.length}>
      {items.length === 0 && series.length === 0 ? (
        <Empty>No maintenance windows now or coming.</Empty>
      ) : items.length === 0 ? null : (
        <Table fz="sm" aria-label="Maintenance windows">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Client</Table.Th>
              <Table.Th>From</Table.Th>
              <Table.Th>Until</Table.Th>
              <Table.Th>Reason</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((m) => (
              <Table.Tr key={m.id}>
                <Table.Td>
                  {names.get(m.clientId) ?? "Client"}
                  {m.siteId ? " (one site)" : m.deviceId ? " (one device)" : ""}
                </Table.Td>
                <Table.Td>{dateTime(m.startsAt)}</Table.Td>
                <Table.Td>{dateTime(m.endsAt)}</Table.Td>
                <Table.Td>{m.reason}</Table.Td>
                <Table.Td>
                  {canWrite && (
                    <Button size="compact-xs" variant="default" onClick={() => remove.mutate(m.id)}>
                      End
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {series.length > 0 && (
        <Table fz="sm" aria-label="Recurring maintenance windows">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Client</Table.Th>
              <Table.Th>When (site time)</Table.Th>
              <Table.Th>Next</Table.Th>
              <Table.Th>Reason</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {series.map((m) => (
              <Table.Tr key={m.id}>
                <Table.Td>
                  {names.get(m.clientId) ?? "Client"}
                  {m.siteId ? " (one site)" : m.deviceId ? " (one device)" : ""}
                </Table.Td>
                <Table.Td>
                  {describeSeries(m)}
                  <Text fz="xs" c="dimmed">
                    {m.timeZone}
                    {m.until ? `, until ${m.until}` : ""}
                  </Text>
                </Table.Td>
                <Table.Td>
                  {m.next
                    ? m.next.now
                      ? `now, until ${dateTime(m.next.endsAt)}`
                      : dateTime(m.next.startsAt)
                    : "over"}
                </Table.Td>
                <Table.Td>{m.reason}</Table.Td>
                <Table.Td>
                  {canWrite && (
                    <Button
                      size="compact-xs"
                      variant="default"
                      onClick={() => removeSeries.mutate(m.id)}
                      aria-label={`End recurring window: ${describeSeries(m)}`}
                    >
                      End
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {canWrite && (
        <Stack
          component="form"
          gap="xs"
          p="sm"
          onSubmit={(e) => {
            e.preventDefault();
            if (!clientId) return;
            if (repeat !== "once") {
              const [h, m] = at.split(":").map(Number);
              createSeries.mutate(
                {
                  clientId,
                  siteId,
                  cron: `${m ?? 0} ${h ?? 0} * * ${repeat === "weekly" ? weekday : "*"}`,
                  durationMinutes: Math.round(hours * 60),
                  reason,
                },
                { onSuccess: () => setReason("") },
              );
              return;
            }
            create.mutate(
              {
                clientId,
                siteId,
                startsAt: new Date(starts).toISOString(),
                endsAt: new Date(ends).toISOString(),
                reason,
              },
              { onSuccess: () => setReason("") },
            );
          }}
        >
          <Group gap="xs" align="flex-end" wrap="wrap">
            <Select
              label="Client"
              searchable
              data={(clients.data ?? []).map((c) => ({ value: c.id, label: c.name }))}
              value={clientId}
              onChange={(v) => {
                setClientId(v);
                setSiteId(null);
              }}
              error={errors.clientId}
              required
              w={200}
            />
            <Select
              label="Site"
              placeholder="Every site"
              clearable
              data={(sites.data ?? []).map((s) => ({ value: s.id, label: s.name }))}
              value={siteId}
              onChange={setSiteId}
              disabled={!clientId}
              w={180}
            />
            <Select
              label="Repeats"
              data={REPEATS}
              value={repeat}
              onChange={(v) => setRepeat(v ?? "once")}
              allowDeselect={false}
              w={130}
            />
            {repeat === "once" ? (
              <>
                <TextInput
                  type="datetime-local"
                  label="From"
                  value={starts}
                  onChange={(e) => setStarts(e.currentTarget.value)}
                  required
                />
                <TextInput
                  type="datetime-local"
                  label="Until"
                  value={ends}
                  onChange={(e) => setEnds(e.currentTarget.value)}
                  error={errors.endsAt}
                  required
                />
              </>
            ) : (
              <>
                {repeat === "weekly" && (
                  <Select
                    label="On"
                    data={WEEKDAYS.map((d, i) => ({ value: String(i), label: d }))}
                    value={weekday}
                    onChange={(v) => setWeekday(v ?? "0")}
                    allowDeselect={false}
                    w={130}
                  />
                )}
                <TextInput
                  type="time"
                  label="At (site time)"
                  value={at}
                  onChange={(e) => setAt(e.currentTarget.value)}
                  error={errors.cron}
                  required
                />
                <NumberInput
                  label="For (hours)"
                  value={hours}
                  min={0.25}
                  max={168}
                  step={0.5}
                  decimalScale={2}
                  onChange={(v) => setHours(Number(v) || 1)}
                  error={errors.durationMinutes}
                  w={110}
                />
              </>
            )}
            <TextInput
              label="Reason"
              value={reason}
              onChange={(e) => setReason(e.currentTarget.value)}
              w={200}
            />
            <Button
              type="submit"
              size="sm"
              loading={create.isPending || createSeries.isPending}
              disabled={!clientId}
            >
              Add window
            </Button>
          </Group>
          {repeat !== "once" && (
            <Text fz="xs" c="dimmed">
              A recurring window is read in the site's time zone (for a whole client, the MSP's), in summer
              and in winter.
            </Text>
          )}
          {failed && (
            <Text fz="sm" c="red.8" role="alert">
              {failed.message}
              {Object.entries(errors).map(([k, v]) => ` · ${k}: ${v}`)}
            </Text>
          )}
        </Stack>
      )}
    </Section>
  );
}
