import {
  Badge,
  Button,
  Group,
  NumberInput,
  Paper,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
} from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, fieldErrors } from "../../api/client.ts";
import { useStatuses } from "../../api/hooks.ts";
import { keys } from "../../api/keys.ts";
import type { StatusCategory, StatusDto } from "./types.ts";
import { AdminPage, FormError } from "./ui.tsx";

const CATEGORIES: Array<{ value: StatusCategory; label: string }> = [
  { value: "new", label: "New" },
  { value: "open", label: "Open" },
  { value: "in_progress", label: "In progress" },
  { value: "waiting_client", label: "Waiting on the client" },
  { value: "waiting_third_party", label: "Waiting on a third party" },
  { value: "scheduled", label: "Scheduled" },
  { value: "resolved", label: "Resolved" },
  { value: "closed", label: "Closed" },
];

export function StatusesPage() {
  const statuses = useStatuses();
  return (
    <AdminPage
      title="Statuses"
      intro="Each status belongs to a category; queues, waiting times and My day read the category. Built-in statuses keep theirs."
    >
      <NewStatus />
      {CATEGORIES.map((c) => {
        const rows = (statuses.data ?? []).filter((s) => s.category === c.value);
        return (
          <Paper key={c.value} component="section" aria-labelledby={`cat-${c.value}`}>
            <Text id={`cat-${c.value}`} component="h2" fz="sm" fw={600} px="sm" py={6} m={0}>
              {c.label}
            </Text>
            <Table>
              <Table.Tbody>
                {rows.map((s) => (
                  <StatusRow key={s.id} status={s} />
                ))}
              </Table.Tbody>
            </Table>
            {rows.length === 0 && (
              <Text fz="xs" c="dimmed" px="sm" pb="xs">
                No statuses.
              </Text>
            )}
          </Paper>
        );
      })}
    </AdminPage>
  );
}

function NewStatus() {
  const qc = useQueryClient();
  const [name, setName] = useState("");
  const [category, setCategory] = useState<string>("waiting_third_party");
  const create = useMutation({
    mutationFn: () => api<StatusDto>("POST", "/statuses", { body: { name, category } }),
    onSuccess: () => {
      setName("");
      qc.invalidateQueries({ queryKey: keys.statuses });
    },
  });
  const errs = fieldErrors(create.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  return (
    <Paper p="sm">
      <form onSubmit={submit} aria-label="Add a status">
        <Stack gap="xs">
          <Group align="flex-end" gap="xs">
            <TextInput
              label="New status"
              required
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
              error={errs.name}
            />
            <Select
              label="Category"
              data={CATEGORIES}
              value={category}
              onChange={(v) => v && setCategory(v)}
              allowDeselect={false}
            />
            <Button size="xs" type="submit" loading={create.isPending} mb={2}>
              Add status
            </Button>
          </Group>
          <FormError error={create.error} />
        </Stack>
      </form>
    </Paper>
  );
}

function StatusRow({ status }: { status: StatusDto }) {
  const qc = useQueryClient();
  const [name, setName] = useState(status.name);
  const [category, setCategory] = useState<string>(status.category);
  const [sortOrder, setSortOrder] = useState<number | string>(status.sortOrder);
  const save = useMutation({
    mutationFn: () =>
      api<StatusDto>("PATCH", `/statuses/${status.id}`, {
        body: {
          ...(name !== status.name && { name }),
          ...(category !== status.category && { category }),
          ...(Number(sortOrder) !== status.sortOrder && { sortOrder: Number(sortOrder) }),
        },
      }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.statuses }),
  });
  const errs = fieldErrors(save.error);
  const dirty =
    name !== status.name || category !== status.category || Number(sortOrder) !== status.sortOrder;
  return (
    <Table.Tr>
      <Table.Td>
        <TextInput
          size="xs"
          aria-label={`Name of ${status.name}`}
          value={name}
          onChange={(e) => setName(e.currentTarget.value)}
          error={errs.name}
        />
      </Table.Td>
      <Table.Td>
        {status.builtin ? (
          <Badge variant="light" color="gray">
            Built-in
          </Badge>
        ) : (
          <Select
            size="xs"
            aria-label={`Category of ${status.name}`}
            data={CATEGORIES}
            value={category}
            onChange={(v) => v && setCategory(v)}
            allowDeselect={false}
            error={errs.category}
          />
        )}
      </Table.Td>
      <Table.Td w={110}>
        <NumberInput
          size="xs"
          aria-label={`Order of ${status.name}`}
          min={0}
          max={10000}
          value={sortOrder}
          onChange={setSortOrder}
        />
      </Table.Td>
      <Table.Td w={90} ta="right">
        <Button
          size="compact-xs"
          variant="default"
          disabled={!dirty}
          loading={save.isPending}
          onClick={() => save.mutate()}
          aria-label={`Save ${status.name}`}
        >
          Save
        </Button>
        {save.error && !Object.keys(errs).length && (
          <Text fz="xs" c="red.8" role="alert">
            {save.error.message}
          </Text>
        )}
      </Table.Td>
    </Table.Tr>
  );
}
