import { Button, Group, SegmentedControl, Stack, Table, Text } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, get } from "../../api/client.ts";
import { Empty } from "../../components/section.tsx";
import type { EmailMessageDto } from "./types.ts";

const STATUSES = [
  { value: "quarantined", label: "Quarantine" },
  { value: "unmatched", label: "Unknown senders" },
  { value: "review", label: "For review" },
  { value: "failed", label: "Failed sends" },
];

/** Mail that is held (not parsed, unknown sender, for review) or could not be sent, each with a retry. */
export function Quarantine() {
  const qc = useQueryClient();
  const [status, setStatus] = useState("quarantined");
  const held = useQuery({
    queryKey: ["admin", "held-mail", status],
    queryFn: async () =>
      (await get<{ items: EmailMessageDto[] }>("/email/messages", { status, limit: 100 })).items,
  });
  const retry = useMutation({
    mutationFn: (id: string) =>
      api<{ id: string; status: string }>("POST", `/email/messages/${id}/retry`, { body: {} }),
    onSuccess: () => qc.invalidateQueries({ queryKey: ["admin", "held-mail"] }),
  });
  return (
    <Stack gap="xs" p="sm">
      <SegmentedControl
        size="xs"
        data={STATUSES}
        value={status}
        onChange={setStatus}
        aria-label="Which held mail"
      />
      <Table aria-label="Held mail">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Received</Table.Th>
            <Table.Th>From / to</Table.Th>
            <Table.Th>Subject</Table.Th>
            <Table.Th>Why</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(held.data ?? []).map((m) => (
            <Table.Tr key={m.id}>
              <Table.Td fz="xs">{new Date(m.receivedAt).toLocaleString()}</Table.Td>
              <Table.Td fz="sm">{m.direction === "inbound" ? m.from : m.to.join(", ")}</Table.Td>
              <Table.Td fz="sm">{m.subject}</Table.Td>
              <Table.Td fz="xs">{m.lastError ?? m.statusReason}</Table.Td>
              <Table.Td ta="right">
                <Button
                  size="compact-xs"
                  variant="default"
                  loading={retry.isPending && retry.variables === m.id}
                  onClick={() => retry.mutate(m.id)}
                  aria-label={`Retry ${m.subject ?? "message"}`}
                >
                  Retry
                </Button>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {held.data?.length === 0 && <Empty>Nothing held here.</Empty>}
      {retry.error && (
        <Text fz="sm" c="red.8" role="alert">
          {retry.error.message}
        </Text>
      )}
      {retry.data && (
        <Group>
          <Text fz="sm" role="status">
            Retried: now {retry.data.status}.
          </Text>
        </Group>
      )}
    </Stack>
  );
}
