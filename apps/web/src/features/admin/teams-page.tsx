import { Button, Group, Modal, MultiSelect, Paper, Stack, Table, Textarea, TextInput } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, fieldErrors } from "../../api/client.ts";
import { useTeams, useUsers } from "../../api/hooks.ts";
import { keys } from "../../api/keys.ts";
import { Empty } from "../../components/section.tsx";
import type { TeamDto } from "./types.ts";
import { AdminPage, FormError } from "./ui.tsx";

export function TeamsPage() {
  const teams = useTeams();
  const users = useUsers();
  const [editing, setEditing] = useState<TeamDto | "new" | null>(null);
  const nameOf = (id: string) => users.data?.find((u) => u.id === id)?.name ?? "";
  return (
    <AdminPage
      title="Teams"
      intro="Teams are queues: a ticket can belong to a team, and its members see it under My teams."
      actions={
        <Button size="xs" onClick={() => setEditing("new")}>
          New team
        </Button>
      }
    >
      <Paper>
        <Table aria-label="Teams" highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Team</Table.Th>
              <Table.Th>Description</Table.Th>
              <Table.Th>Members</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(teams.data ?? []).map((t) => (
              <Table.Tr key={t.id}>
                <Table.Td fz="sm" fw={500}>
                  {t.name}
                </Table.Td>
                <Table.Td fz="sm">{t.description}</Table.Td>
                <Table.Td fz="sm">{t.memberIds.map(nameOf).filter(Boolean).join(", ")}</Table.Td>
                <Table.Td ta="right">
                  <Button
                    size="compact-xs"
                    variant="default"
                    onClick={() => setEditing(t)}
                    aria-label={`Edit ${t.name}`}
                  >
                    Edit
                  </Button>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {teams.data?.length === 0 && <Empty>No teams yet.</Empty>}
      </Paper>
      {editing && <TeamModal team={editing === "new" ? null : editing} onClose={() => setEditing(null)} />}
    </AdminPage>
  );
}

function TeamModal({ team, onClose }: { team: TeamDto | null; onClose: () => void }) {
  const qc = useQueryClient();
  const users = useUsers();
  const [name, setName] = useState(team?.name ?? "");
  const [description, setDescription] = useState(team?.description ?? "");
  const [memberIds, setMemberIds] = useState(team?.memberIds ?? []);
  const save = useMutation({
    mutationFn: () =>
      team
        ? api<TeamDto>("PATCH", `/teams/${team.id}`, {
            body: { version: team.version, name, description, memberIds },
          })
        : api<TeamDto>("POST", "/teams", { body: { name, description, memberIds } }),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: keys.teams });
      qc.invalidateQueries({ queryKey: keys.users });
      qc.invalidateQueries({ queryKey: ["admin", "users"] });
      onClose();
    },
  });
  const errs = fieldErrors(save.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  const title = team ? `Edit ${team.name}` : "New team";
  return (
    <Modal opened onClose={onClose} title={title} closeButtonProps={{ "aria-label": "Close" }}>
      <form onSubmit={submit} aria-label={title}>
        <Stack gap="sm">
          <TextInput
            label="Name"
            required
            value={name}
            onChange={(e) => setName(e.currentTarget.value)}
            error={errs.name}
          />
          <Textarea
            label="Description"
            value={description}
            onChange={(e) => setDescription(e.currentTarget.value)}
            error={errs.description}
            autosize
            minRows={2}
          />
          <MultiSelect
            label="Members"
            data={(users.data ?? []).map((u) => ({ value: u.id, label: u.name }))}
            value={memberIds}
            onChange={setMemberIds}
            error={errs.memberIds}
            searchable
          />
          <FormError error={save.error} />
          <Group justify="flex-end" gap="xs">
            <Button size="xs" variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button size="xs" type="submit" loading={save.isPending}>
              {team ? "Save" : "Create team"}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
