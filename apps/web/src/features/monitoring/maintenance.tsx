import { Button, Group, Select, Stack, Table, Text, TextInput } from "@mantine/core";
import { useState } from "react";
import { fieldErrors } from "../../api/client.ts";
import { useClients, useSites } from "../../api/hooks.ts";
import { dateTime } from "../../components/format.ts";
import { Empty, Section } from "../../components/section.tsx";
import { useCreateMaintenance, useDeleteMaintenance, useMaintenance } from "./api.ts";

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
  const errors = fieldErrors(create.error);
  const items = list.data?.items ?? [];
  return (
    <Section id="maintenance" title="Maintenance windows" count={items.length}>
      {items.length === 0 ? (
        <Empty>No maintenance windows now or coming.</Empty>
      ) : (
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
      {canWrite && (
        <Stack
          component="form"
          gap="xs"
          p="sm"
          onSubmit={(e) => {
            e.preventDefault();
            if (!clientId) return;
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
            <TextInput
              label="Reason"
              value={reason}
              onChange={(e) => setReason(e.currentTarget.value)}
              w={200}
            />
            <Button type="submit" size="sm" loading={create.isPending} disabled={!clientId}>
              Add window
            </Button>
          </Group>
          {create.isError && !Object.keys(errors).length && (
            <Text fz="sm" c="red.8" role="alert">
              {create.error.message}
            </Text>
          )}
        </Stack>
      )}
    </Section>
  );
}
