import { Button, Checkbox, Group, Paper, Select, Stack, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api, fieldErrors } from "../../api/client.ts";
import { useClients } from "../../api/hooks.ts";
import type { ClientDto, ContactDto } from "../../api/types.ts";

const looksLikePhone = (s: string) => /\d{3}/.test(s) && !s.includes("@");

/**
 * A caller who is not on file, added without leaving the call: a contact of an existing client, or (for
 * admins and dispatchers, who may create clients) of a new client made in the same step.
 */
export function NewCaller({
  typed,
  clientId,
  canCreateClient,
  onCreated,
  onCancel,
}: {
  typed: string;
  clientId: string | null;
  canCreateClient: boolean;
  onCreated: (c: ContactDto) => void;
  onCancel: () => void;
}) {
  const qc = useQueryClient();
  const clients = useClients();
  const words = typed.includes("@") || looksLikePhone(typed) ? [] : typed.trim().split(/\s+/);
  const [firstName, setFirstName] = useState(words[0] ?? "");
  const [lastName, setLastName] = useState(words.slice(1).join(" "));
  const [phone, setPhone] = useState(looksLikePhone(typed) ? typed.trim() : "");
  const [email, setEmail] = useState(typed.includes("@") ? typed.trim() : "");
  const [client, setClient] = useState<string | null>(clientId);
  const [newClient, setNewClient] = useState(false);
  const [clientName, setClientName] = useState("");
  const [local, setLocal] = useState<Record<string, string>>({});

  const m = useMutation({
    mutationFn: async () => {
      let id = client;
      if (newClient) {
        const domain = email.split("@")[1];
        const c = await api<ClientDto>("POST", "/clients", {
          body: { name: clientName.trim(), emailDomains: domain ? [domain] : [] },
        });
        id = c.id;
      }
      return api<ContactDto>("POST", "/contacts", {
        body: {
          clientId: id,
          firstName: firstName.trim(),
          lastName: lastName.trim(),
          phones: phone.trim() ? [{ label: "work", number: phone.trim() }] : [],
          emails: email.trim() ? [email.trim()] : [],
        },
      });
    },
    onSuccess: (c) => {
      qc.invalidateQueries({ queryKey: ["contacts"] });
      qc.invalidateQueries({ queryKey: ["clients"] });
      onCreated(c);
    },
  });
  const server = fieldErrors(m.error);
  const err = (k: string) => local[k] ?? server[k];
  const clear = (k: string) => setLocal(({ [k]: _, ...rest }) => rest);
  const save = () => {
    const problems: Record<string, string> = {};
    if (!firstName.trim()) problems.firstName = "Add the caller's first name.";
    if (newClient && !clientName.trim()) problems.clientName = "Name the new client.";
    if (!newClient && !client) problems.clientId = "Pick the caller's client.";
    setLocal(problems);
    if (Object.keys(problems).length === 0) m.mutate();
  };

  return (
    <Paper p="sm" withBorder data-testid="new-caller">
      {/* Not a nested <form>: it lives inside the intake form; Enter here saves the caller only. */}
      <Stack
        gap="xs"
        onKeyDown={(e) => {
          if (e.key === "Enter" && (e.target as HTMLElement).tagName === "INPUT") {
            e.preventDefault();
            save();
          }
        }}
      >
        <Title order={2} fz="sm">
          New caller
        </Title>
        <Group grow wrap="wrap" gap="xs">
          <TextInput
            label="First name"
            miw={140}
            value={firstName}
            onChange={(e) => {
              setFirstName(e.currentTarget.value);
              clear("firstName");
            }}
            error={err("firstName")}
            data-autofocus
          />
          <TextInput
            label="Last name"
            miw={140}
            value={lastName}
            onChange={(e) => setLastName(e.currentTarget.value)}
            error={err("lastName")}
          />
        </Group>
        <Group grow wrap="wrap" gap="xs">
          <TextInput
            label="Phone"
            miw={140}
            value={phone}
            onChange={(e) => setPhone(e.currentTarget.value)}
            error={err("phones.0.number") ?? err("number")}
          />
          <TextInput
            label="Email"
            type="email"
            miw={140}
            value={email}
            onChange={(e) => setEmail(e.currentTarget.value)}
            error={err("emails.0") ?? err("emails")}
          />
        </Group>
        {newClient ? (
          <TextInput
            label="New client's name"
            value={clientName}
            onChange={(e) => {
              setClientName(e.currentTarget.value);
              clear("clientName");
            }}
            error={err("clientName") ?? err("name")}
            description={email.includes("@") ? `Mail from @${email.split("@")[1]} will be theirs` : undefined}
          />
        ) : (
          <Select
            label="Client"
            placeholder="The caller's company"
            searchable
            data={(clients.data ?? []).map((c) => ({ value: c.id, label: c.name }))}
            value={client}
            onChange={(v) => {
              setClient(v);
              clear("clientId");
            }}
            error={err("clientId")}
          />
        )}
        {canCreateClient && (
          <Checkbox
            label="A client we don't have yet"
            checked={newClient}
            onChange={(e) => setNewClient(e.currentTarget.checked)}
          />
        )}
        {m.isError && Object.keys(server).length === 0 && (
          <Text c="red.8" fz="sm" role="alert">
            {m.error.message}
          </Text>
        )}
        <Group justify="flex-end" gap="xs">
          <Button variant="default" size="xs" onClick={onCancel}>
            Cancel
          </Button>
          <Button size="xs" onClick={save} loading={m.isPending}>
            Save caller
          </Button>
        </Group>
      </Stack>
    </Paper>
  );
}
