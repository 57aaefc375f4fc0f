import { Badge, Button, Paper, Table, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { get } from "../../api/client.ts";
import { useTeams } from "../../api/hooks.ts";
import { Empty } from "../../components/section.tsx";
import type { InviteDto, UserDto } from "./types.ts";
import { AdminPage, ROLE_LABELS } from "./ui.tsx";
import { EditUserModal, InviteModal, invitesKey, usersKey } from "./user-modals.tsx";

export function UsersPage() {
  const users = useQuery({
    queryKey: usersKey,
    queryFn: () => get<UserDto[]>("/users", { includeInactive: true }),
  });
  const invites = useQuery({
    queryKey: invitesKey,
    queryFn: async () => (await get<{ items: InviteDto[] }>("/users/invites")).items,
  });
  const teams = useTeams();
  const [inviting, setInviting] = useState(false);
  const [editing, setEditing] = useState<UserDto | null>(null);
  const teamName = (id: string) => teams.data?.find((t) => t.id === id)?.name ?? "";
  const inviteOf = (id: string) => invites.data?.find((i) => i.userId === id);

  return (
    <AdminPage
      title="Users"
      intro="Technicians and admins: invite them, choose their role, teams and which clients they see."
      actions={
        <Button size="xs" onClick={() => setInviting(true)}>
          Invite user
        </Button>
      }
    >
      <Paper>
        <Table highlightOnHover aria-label="Users">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Email</Table.Th>
              <Table.Th>Role</Table.Th>
              <Table.Th>Teams</Table.Th>
              <Table.Th>Clients</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(users.data ?? []).map((u) => (
              <Table.Tr key={u.id}>
                <Table.Td fz="sm" fw={500}>
                  {u.name}
                </Table.Td>
                <Table.Td fz="sm">{u.email}</Table.Td>
                <Table.Td fz="sm">{ROLE_LABELS[u.role]}</Table.Td>
                <Table.Td fz="sm">{u.teamIds.map(teamName).filter(Boolean).join(", ")}</Table.Td>
                <Table.Td fz="sm">{u.allClients ? "All" : `${u.clientIds.length} selected`}</Table.Td>
                <Table.Td>
                  <UserStatus user={u} invite={inviteOf(u.id)} />
                </Table.Td>
                <Table.Td ta="right">
                  <Button
                    size="compact-xs"
                    variant="default"
                    onClick={() => setEditing(u)}
                    aria-label={`Edit ${u.name}`}
                  >
                    Edit
                  </Button>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {users.data?.length === 0 && <Empty>No users.</Empty>}
      </Paper>
      <InviteModal opened={inviting} onClose={() => setInviting(false)} />
      {editing && (
        <EditUserModal user={editing} invite={inviteOf(editing.id)} onClose={() => setEditing(null)} />
      )}
    </AdminPage>
  );
}

function UserStatus({ user, invite }: { user: UserDto; invite?: InviteDto }) {
  if (!user.active)
    return (
      <Badge color="gray" variant="light">
        Inactive
      </Badge>
    );
  if (!invite)
    return (
      <Badge color="teal" variant="light">
        Active
      </Badge>
    );
  if (invite.lastError) {
    return (
      <Text fz="xs" c="red.8" title={invite.lastError}>
        Invited, mail not sent: {invite.lastError}
      </Text>
    );
  }
  return (
    <Text fz="xs" c="dimmed">
      Invited{invite.sentAt ? `, mailed ${new Date(invite.sentAt).toLocaleString()}` : ""}
    </Text>
  );
}
