import {
  Alert,
  Button,
  Code,
  CopyButton,
  Group,
  Modal,
  MultiSelect,
  Select,
  Stack,
  Switch,
  Text,
  TextInput,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, fieldErrors } from "../../api/client.ts";
import { useClients, useTeams } from "../../api/hooks.ts";
import { keys } from "../../api/keys.ts";
import type { CreatedInviteDto, InviteDto, UserDto } from "./types.ts";
import { FormError, ROLE_OPTIONS } from "./ui.tsx";

export const usersKey = ["admin", "users"] as const;
export const invitesKey = ["admin", "invites"] as const;

function AccessFields(props: {
  role: string;
  setRole: (r: string) => void;
  teamIds: string[];
  setTeamIds: (v: string[]) => void;
  allClients: boolean;
  setAllClients: (v: boolean) => void;
  clientIds: string[];
  setClientIds: (v: string[]) => void;
  errors: Record<string, string>;
}) {
  const teams = useTeams();
  const clients = useClients();
  return (
    <>
      <Select
        label="Role"
        data={ROLE_OPTIONS}
        value={props.role}
        onChange={(v) => v && props.setRole(v)}
        allowDeselect={false}
        error={props.errors.role}
      />
      <MultiSelect
        label="Teams"
        placeholder="No team"
        data={(teams.data ?? []).map((t) => ({ value: t.id, label: t.name }))}
        value={props.teamIds}
        onChange={props.setTeamIds}
        error={props.errors.teamIds}
        searchable
      />
      <Switch
        label="Sees every client"
        checked={props.allClients}
        onChange={(e) => props.setAllClients(e.currentTarget.checked)}
      />
      {!props.allClients && (
        <MultiSelect
          label="Clients this user sees"
          data={(clients.data ?? []).map((c) => ({ value: c.id, label: c.name }))}
          value={props.clientIds}
          onChange={props.setClientIds}
          error={props.errors.clientIds}
          searchable
        />
      )}
    </>
  );
}

export function InviteModal({ opened, onClose }: { opened: boolean; onClose: () => void }) {
  const qc = useQueryClient();
  const [name, setName] = useState("");
  const [email, setEmail] = useState("");
  const [role, setRole] = useState("technician");
  const [teamIds, setTeamIds] = useState<string[]>([]);
  const [allClients, setAllClients] = useState(true);
  const [clientIds, setClientIds] = useState<string[]>([]);
  const invite = useMutation({
    mutationFn: () =>
      api<CreatedInviteDto>("POST", "/users/invite", {
        body: { name, email, role, teamIds, allClients, clientIds: allClients ? [] : clientIds },
      }),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: usersKey });
      qc.invalidateQueries({ queryKey: invitesKey });
      qc.invalidateQueries({ queryKey: keys.users });
      qc.invalidateQueries({ queryKey: keys.teams });
    },
  });
  const errs = fieldErrors(invite.error);
  // The link must not outlive the dialog: closing forgets it.
  const close = () => {
    invite.reset();
    setName("");
    setEmail("");
    setTeamIds([]);
    setAllClients(true);
    setClientIds([]);
    onClose();
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    invite.mutate();
  };
  const created = invite.data;
  return (
    <Modal
      opened={opened}
      onClose={close}
      title="Invite a user"
      size="lg"
      closeButtonProps={{ "aria-label": "Close" }}
    >
      {created ? (
        <Stack gap="sm">
          {created.invite.lastError ? (
            <Alert color="orange" role="alert" p="xs" title="The invitation mail was not sent">
              {created.invite.lastError}. Pass the link below on yourself, or resend it from the user once
              mail works.
            </Alert>
          ) : (
            <Alert color="teal" role="status" p="xs">
              {created.user.name} was mailed a link to set their password at {created.user.email}.
            </Alert>
          )}
          <Text fz="sm">
            The link works once, until {new Date(created.invite.expiresAt).toLocaleString()}. It is not shown
            again.
          </Text>
          <Group gap="xs" wrap="nowrap" align="flex-start">
            <Code
              block
              data-testid="invite-url"
              style={{ flex: 1, wordBreak: "break-all", whiteSpace: "pre-wrap" }}
            >
              {created.inviteUrl}
            </Code>
            <CopyButton value={created.inviteUrl}>
              {({ copied, copy }) => (
                <Button
                  size="compact-xs"
                  variant="default"
                  onClick={copy}
                  aria-label="Copy the invitation link"
                >
                  {copied ? "Copied" : "Copy"}
                </Button>
              )}
            </CopyButton>
          </Group>
          <Group justify="flex-end" gap="xs">
            <Button size="xs" variant="default" onClick={() => invite.reset()}>
              Invite another
            </Button>
            <Button size="xs" onClick={close}>
              Done
            </Button>
          </Group>
        </Stack>
      ) : (
        <form onSubmit={submit} aria-label="Invite a user">
          <Stack gap="sm">
            <TextInput
              label="Name"
              required
              value={name}
              onChange={(e) => setName(e.currentTarget.value)}
              error={errs.name}
            />
            <TextInput
              label="Email"
              type="email"
              required
              value={email}
              onChange={(e) => setEmail(e.currentTarget.value)}
              error={errs.email}
            />
            <AccessFields
              role={role}
              setRole={setRole}
              teamIds={teamIds}
              setTeamIds={setTeamIds}
              allClients={allClients}
              setAllClients={setAllClients}
              clientIds={clientIds}
              setClientIds={setClientIds}
              errors={errs}
            />
            <FormError error={invite.error} />
            <Group justify="flex-end" gap="xs">
              <Button size="xs" variant="default" onClick={close}>
                Cancel
              </Button>
              <Button size="xs" type="submit" loading={invite.isPending}>
                Send invitation
              </Button>
            </Group>
          </Stack>
        </form>
      )}
    </Modal>
  );
}

export function EditUserModal({
  user,
  invite,
  onClose,
}: {
  user: UserDto;
  invite?: InviteDto;
  onClose: () => void;
}) {
  const qc = useQueryClient();
  const [role, setRole] = useState<string>(user.role);
  const [teamIds, setTeamIds] = useState(user.teamIds);
  const [allClients, setAllClients] = useState(user.allClients);
  const [clientIds, setClientIds] = useState(user.clientIds);
  const refresh = () => {
    qc.invalidateQueries({ queryKey: usersKey });
    qc.invalidateQueries({ queryKey: invitesKey });
    qc.invalidateQueries({ queryKey: keys.users });
  };
  const save = useMutation({
    mutationFn: (body: Record<string, unknown>) =>
      api<UserDto>("PATCH", `/users/${user.id}`, { body: { version: user.version, ...body } }),
    onSuccess: (u, body) => {
      refresh();
      notifications.show({
        message:
          "active" in body ? `${u.name} is ${u.active ? "active again" : "deactivated"}` : `${u.name} saved`,
      });
      onClose();
    },
  });
  const resend = useMutation({
    mutationFn: () => api<CreatedInviteDto>("POST", `/users/${user.id}/invite`),
    onSuccess: refresh,
  });
  const errs = fieldErrors(save.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate({ role, teamIds, allClients, clientIds: allClients ? [] : clientIds });
  };
  return (
    <Modal
      opened
      onClose={onClose}
      title={`Edit ${user.name}`}
      size="lg"
      closeButtonProps={{ "aria-label": "Close" }}
    >
      <form onSubmit={submit} aria-label={`Edit ${user.name}`}>
        <Stack gap="sm">
          <Text fz="sm" c="dimmed">
            {user.email}
          </Text>
          <AccessFields
            role={role}
            setRole={setRole}
            teamIds={teamIds}
            setTeamIds={setTeamIds}
            allClients={allClients}
            setAllClients={setAllClients}
            clientIds={clientIds}
            setClientIds={setClientIds}
            errors={errs}
          />
          <FormError error={save.error} />
          {invite && user.active && (
            <Stack gap={4}>
              <Group gap="xs">
                <Button
                  size="xs"
                  variant="default"
                  loading={resend.isPending}
                  onClick={() => resend.mutate()}
                >
                  Resend invitation
                </Button>
                <Text fz="xs" c="dimmed">
                  A new link; the old one stops working.
                </Text>
              </Group>
              {resend.data && (
                <Text fz="xs" role="status" c={resend.data.invite.lastError ? "red.8" : undefined}>
                  {resend.data.invite.lastError
                    ? `Not sent: ${resend.data.invite.lastError}. Link: ${resend.data.inviteUrl}`
                    : `Sent to ${user.email}.`}
                </Text>
              )}
              <FormError error={resend.error} />
            </Stack>
          )}
          <Group justify="space-between" gap="xs">
            <Button
              size="xs"
              variant="outline"
              color={user.active ? "red.8" : "teal.9"}
              onClick={() => save.mutate({ active: !user.active })}
            >
              {user.active ? "Deactivate" : "Reactivate"}
            </Button>
            <Group gap="xs">
              <Button size="xs" variant="default" onClick={onClose}>
                Cancel
              </Button>
              <Button size="xs" type="submit" loading={save.isPending}>
                Save
              </Button>
            </Group>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
