import { Button, Code, Group, Paper, Select, Stack, Table, Text, TextInput } from "@mantine/core";
import { useInfiniteQuery } from "@tanstack/react-query";
import { Fragment, useState } from "react";
import { get } from "../../api/client.ts";
import { useUsers } from "../../api/hooks.ts";
import { Empty } from "../../components/section.tsx";
import type { AuditEntry } from "./types.ts";
import { AdminPage } from "./ui.tsx";

const ENTITY_TYPES = [
  "user",
  "team",
  "client",
  "site",
  "contact",
  "ticket",
  "ticket_status",
  "mailbox",
  "email_settings",
  "import",
  "device",
];

/** `YYYY-MM-DDTHH:mm` from a datetime-local input, read in the browser's zone, as an ISO instant. */
const toIso = (local: string) => (local ? new Date(local).toISOString() : undefined);

export function AuditPage() {
  const users = useUsers();
  const [actorUserId, setActor] = useState<string | null>(null);
  const [entityType, setEntityType] = useState<string | null>(null);
  const [action, setAction] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const [open, setOpen] = useState<number | null>(null);
  const filters = {
    actorUserId,
    entityType,
    action: action.trim() || undefined,
    from: toIso(from),
    to: toIso(to),
  };
  const log = useInfiniteQuery({
    queryKey: ["admin", "audit", filters],
    queryFn: ({ pageParam }) =>
      get<{ items: AuditEntry[]; nextBefore: number | null }>("/audit", {
        ...filters,
        limit: 50,
        before: pageParam,
      }),
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (last) => last.nextBefore ?? undefined,
  });
  const rows = log.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <AdminPage
      title="Audit log"
      intro="Every change: who made it, when, and the record before and after. Admins limited to some clients see only those clients' entries."
    >
      <Paper p="sm">
        <Group gap="xs" align="flex-end">
          <Select
            label="Who"
            placeholder="Anyone"
            clearable
            clearButtonProps={{ "aria-label": "Clear" }}
            searchable
            data={(users.data ?? []).map((u) => ({ value: u.id, label: u.name }))}
            value={actorUserId}
            onChange={setActor}
            w={200}
          />
          <Select
            label="What kind"
            placeholder="Anything"
            clearable
            clearButtonProps={{ "aria-label": "Clear" }}
            data={ENTITY_TYPES}
            value={entityType}
            onChange={setEntityType}
            w={170}
          />
          <TextInput
            label="Action"
            placeholder="e.g. user.invite"
            value={action}
            onChange={(e) => setAction(e.currentTarget.value)}
            w={170}
          />
          <TextInput
            label="From"
            type="datetime-local"
            value={from}
            onChange={(e) => setFrom(e.currentTarget.value)}
          />
          <TextInput
            label="Until"
            type="datetime-local"
            value={to}
            onChange={(e) => setTo(e.currentTarget.value)}
          />
        </Group>
        {log.isError && (
          <Text c="red.8" fz="sm" role="alert" mt="xs">
            {log.error.message}
          </Text>
        )}
      </Paper>
      <Paper>
        <Table aria-label="Audit entries" highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>When</Table.Th>
              <Table.Th>Who</Table.Th>
              <Table.Th>Action</Table.Th>
              <Table.Th>Record</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((e) => (
              <Fragment key={e.id}>
                <Table.Tr>
                  <Table.Td fz="xs">{new Date(e.at).toLocaleString()}</Table.Td>
                  <Table.Td fz="sm">{e.actor.label}</Table.Td>
                  <Table.Td fz="sm">{e.action}</Table.Td>
                  <Table.Td fz="xs">
                    {e.entityType} {e.entityId}
                  </Table.Td>
                  <Table.Td ta="right">
                    <Button
                      size="compact-xs"
                      variant="subtle"
                      aria-expanded={open === e.id}
                      onClick={() => setOpen(open === e.id ? null : e.id)}
                      aria-label={`${open === e.id ? "Hide details" : "Details"} of ${e.action} at ${new Date(e.at).toLocaleString()}`}
                    >
                      {open === e.id ? "Hide" : "Details"}
                    </Button>
                  </Table.Td>
                </Table.Tr>
                {open === e.id && (
                  <Table.Tr>
                    <Table.Td colSpan={5}>
                      <Stack gap={4}>
                        <Text fz="xs">Before</Text>
                        <Code block>{JSON.stringify(e.before, null, 2)}</Code>
                        <Text fz="xs">After</Text>
                        <Code block>{JSON.stringify(e.after, null, 2)}</Code>
                        <Text fz="xs" c="dimmed">
                          {e.ip ? `from ${e.ip}` : ""} {e.requestId ? `request ${e.requestId}` : ""}
                        </Text>
                      </Stack>
                    </Table.Td>
                  </Table.Tr>
                )}
              </Fragment>
            ))}
          </Table.Tbody>
        </Table>
        {log.isSuccess && rows.length === 0 && <Empty>No entries match.</Empty>}
        {log.hasNextPage && (
          <Group p="sm">
            <Button
              size="xs"
              variant="default"
              loading={log.isFetchingNextPage}
              onClick={() => log.fetchNextPage()}
            >
              Older entries
            </Button>
          </Group>
        )}
      </Paper>
    </AdminPage>
  );
}
