import { Button, Group, Stack, Table, Text } from "@mantine/core";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { api, get } from "../../api/client.ts";
import { Empty } from "../../components/section.tsx";
import { MailboxModal, mailboxesKey } from "./mailbox-form.tsx";
import type { MailboxDto, MailboxTestResult } from "./types.ts";

export function Mailboxes() {
  const mailboxes = useQuery({
    queryKey: mailboxesKey,
    queryFn: async () => (await get<{ items: MailboxDto[] }>("/email/mailboxes")).items,
  });
  const [editing, setEditing] = useState<MailboxDto | "new" | null>(null);
  return (
    <Stack gap={0}>
      <Group justify="space-between" px="sm" py={6}>
        <Text fz="sm" c="dimmed">
          Switchboard polls each mailbox's IMAP folder and turns mail into tickets; replies go out through its
          SMTP server, or the relay.
        </Text>
        <Button size="xs" onClick={() => setEditing("new")}>
          Add mailbox
        </Button>
      </Group>
      <Table aria-label="Mailboxes">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Address</Table.Th>
            <Table.Th>IMAP</Table.Th>
            <Table.Th>SMTP</Table.Th>
            <Table.Th>Last checked</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(mailboxes.data ?? []).map((m) => (
            <MailboxRow key={m.id} mailbox={m} onEdit={() => setEditing(m)} />
          ))}
        </Table.Tbody>
      </Table>
      {mailboxes.data?.length === 0 && <Empty>No mailboxes yet.</Empty>}
      {editing && (
        <MailboxModal mailbox={editing === "new" ? null : editing} onClose={() => setEditing(null)} />
      )}
    </Stack>
  );
}

function MailboxRow({ mailbox: m, onEdit }: { mailbox: MailboxDto; onEdit: () => void }) {
  const test = useMutation({
    mutationFn: () => api<MailboxTestResult>("POST", `/email/mailboxes/${m.id}/test`),
  });
  return (
    <>
      <Table.Tr>
        <Table.Td fz="sm" fw={500}>
          {m.address}
          {!m.active && (
            <Text span c="dimmed" fz="xs">
              {" "}
              (paused)
            </Text>
          )}
        </Table.Td>
        <Table.Td fz="sm">{m.imap ? `${m.imap.host}:${m.imap.port}` : "none"}</Table.Td>
        <Table.Td fz="sm">{m.smtp ? `${m.smtp.host}:${m.smtp.port}` : "through the relay"}</Table.Td>
        <Table.Td fz="sm">
          {m.lastError ? (
            <Text fz="xs" c="red.8">
              {m.lastError}
            </Text>
          ) : m.lastPolledAt ? (
            new Date(m.lastPolledAt).toLocaleString()
          ) : (
            "not yet"
          )}
        </Table.Td>
        <Table.Td ta="right">
          <Group gap={4} justify="flex-end" wrap="nowrap">
            <Button
              size="compact-xs"
              variant="default"
              loading={test.isPending}
              onClick={() => test.mutate()}
              aria-label={`Test connection of ${m.address}`}
            >
              Test connection
            </Button>
            <Button size="compact-xs" variant="default" onClick={onEdit} aria-label={`Edit ${m.address}`}>
              Edit
            </Button>
          </Group>
        </Table.Td>
      </Table.Tr>
      {(test.data || test.error) && (
        <Table.Tr>
          <Table.Td colSpan={5}>
            <Stack gap={4} role="status" data-testid={`mailbox-test-${m.address}`}>
              {test.data?.imap && (
                <Text fz="xs" c={test.data.imap.ok ? undefined : "red.8"}>
                  IMAP {test.data.imap.ok ? "works" : "failed"}: {test.data.imap.message}
                </Text>
              )}
              {test.data?.smtp && (
                <Text fz="xs" c={test.data.smtp.ok ? undefined : "red.8"}>
                  SMTP {test.data.smtp.ok ? "works" : "failed"}: {test.data.smtp.message}
                </Text>
              )}
              {test.data && !test.data.imap && !test.data.smtp && <Text fz="xs">No servers to test.</Text>}
              {test.error && (
                <Text fz="xs" c="red.8">
                  {test.error.message}
                </Text>
              )}
            </Stack>
          </Table.Td>
        </Table.Tr>
      )}
    </>
  );
}
