import {
  Alert,
  Badge,
  Box,
  Button,
  Checkbox,
  Group,
  Modal,
  Paper,
  PasswordInput,
  Select,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
} from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import type { VaultEntryDto } from "@switchboard/shared";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, fieldErrors, get } from "../api/client.ts";
import { useClients, useMe } from "../api/hooks.ts";
import { ListHeader, useListSearch } from "../components/list-header.tsx";
import { Empty } from "../components/section.tsx";
import { RevealButton } from "../features/vault/reveal.tsx";

/** Credentials per client and the MSP's own; secrets only through RevealButton. */
export function VaultPage() {
  const { q, setQ, debounced } = useListSearch();
  const [clientId, setClientId] = useState<string>("");
  const clients = useClients("");
  const me = useMe();
  const list = useQuery({
    queryKey: ["vault", clientId, debounced],
    queryFn: () =>
      get<VaultEntryDto[]>("/vault/entries", { clientId: clientId || undefined, q: debounced || undefined }),
  });
  const clientOptions = [
    { value: "", label: "Everything I see" },
    ...(me.data?.allClients ? [{ value: "msp", label: "Our own (MSP)" }] : []),
    ...(clients.data ?? []).map((c) => ({ value: c.id, label: c.name })),
  ];
  return (
    <Box p="md">
      <ListHeader
        title="Password vault"
        searchLabel="Search the vault"
        placeholder="Search titles, users, URLs"
        q={q}
        setQ={setQ}
      />
      <Group mb="sm" align="flex-end">
        <Select
          label="Client"
          data={clientOptions}
          value={clientId}
          onChange={(v) => setClientId(v ?? "")}
          searchable
          allowDeselect={false}
          w={280}
        />
        <NewEntryButton
          clientOptions={clientOptions.filter((o) => o.value !== "")}
          isAdmin={me.data?.role === "admin"}
        />
      </Group>
      <Paper>
        <Table highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Title</Table.Th>
              <Table.Th>Client</Table.Th>
              <Table.Th>User name</Table.Th>
              <Table.Th>URL</Table.Th>
              <Table.Th>Secrets</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(list.data ?? []).map((e) => (
              <Table.Tr key={e.id}>
                <Table.Td>
                  {e.title}{" "}
                  {e.restricted && (
                    <Badge color="red" variant="light">
                      admins
                    </Badge>
                  )}
                </Table.Td>
                <Table.Td>{e.client?.name ?? "MSP"}</Table.Td>
                <Table.Td>{e.username}</Table.Td>
                <Table.Td>{e.url}</Table.Td>
                <Table.Td>
                  <Group gap={4}>
                    {e.hasPassword && <RevealButton entry={e} field="password" />}
                    {e.hasTotp && <RevealButton entry={e} field="totp" />}
                    {e.hasNotes && <RevealButton entry={e} field="notes" />}
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {list.data?.length === 0 && <Empty>No entries.</Empty>}
      </Paper>
    </Box>
  );
}

function NewEntryButton({
  clientOptions,
  isAdmin,
}: {
  clientOptions: Array<{ value: string; label: string }>;
  isAdmin: boolean;
}) {
  const [opened, { open, close }] = useDisclosure(false);
  const qc = useQueryClient();
  const [f, setF] = useState({
    clientId: "",
    title: "",
    username: "",
    url: "",
    password: "",
    totp: "",
    notes: "",
    restricted: false,
  });
  const set = (k: keyof typeof f) => (e: { currentTarget: { value: string } }) =>
    setF({ ...f, [k]: e.currentTarget.value });
  const create = useMutation({
    mutationFn: () =>
      api("POST", "/vault/entries", {
        body: {
          clientId: f.clientId === "msp" ? null : f.clientId,
          title: f.title,
          username: f.username,
          url: f.url,
          password: f.password || undefined,
          totp: f.totp || undefined,
          notes: f.notes || undefined,
          restricted: f.restricted,
        },
      }),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ["vault"] });
      setF({
        clientId: f.clientId,
        title: "",
        username: "",
        url: "",
        password: "",
        totp: "",
        notes: "",
        restricted: false,
      });
      close();
    },
  });
  const errors = fieldErrors(create.error);
  return (
    <>
      <Button onClick={open}>New entry</Button>
      <Modal opened={opened} onClose={close} title="New vault entry">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            create.mutate();
          }}
        >
          <Stack>
            <Select
              label="Client"
              data={clientOptions}
              value={f.clientId}
              onChange={(v) => setF({ ...f, clientId: v ?? "" })}
              required
              searchable
              error={errors.clientId}
            />
            <TextInput label="Title" value={f.title} onChange={set("title")} required error={errors.title} />
            <TextInput label="User name" value={f.username} onChange={set("username")} />
            <TextInput label="URL" value={f.url} onChange={set("url")} />
            <PasswordInput
              label="Password"
              value={f.password}
              onChange={set("password")}
              autoComplete="new-password"
            />
            <TextInput
              label="TOTP seed or otpauth:// URI"
              description="Stored sealed; only its current code is ever shown"
              value={f.totp}
              onChange={set("totp")}
              error={errors.totp}
            />
            <Textarea label="Secret notes" value={f.notes} onChange={set("notes")} />
            {isAdmin && (
              <Checkbox
                label="Restricted: only admins may reveal it"
                checked={f.restricted}
                onChange={(e) => setF({ ...f, restricted: e.currentTarget.checked })}
              />
            )}
            {create.isError && Object.keys(errors).length === 0 && (
              <Alert color="red">{create.error.message}</Alert>
            )}
            <Text fz="xs" c="dimmed">
              Secrets are encrypted with the client's key before they are stored.
            </Text>
            <Button type="submit" loading={create.isPending}>
              Save
            </Button>
          </Stack>
        </form>
      </Modal>
    </>
  );
}
