import { Button, Group, Paper, Select, Stack, Text, Textarea, TextInput } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useState } from "react";
import { api, fieldErrors, get } from "../../api/client.ts";
import { useClients } from "../../api/hooks.ts";
import type { EmailClientSettingsDto, EmailTemplateDto } from "./types.ts";
import { FormError } from "./ui.tsx";

const TEMPLATE_LABELS: Record<string, string> = {
  acknowledgement: "New ticket acknowledgement",
  reply: "Technician's reply",
  resolved: "Ticket resolved",
  assigned: "Assigned to you (technicians)",
  new_reply: "New reply (technicians)",
};
const PLACEHOLDERS =
  "{{ticket.number}} {{ticket.subject}} {{client.name}} {{contact.name}} {{body}} {{signature}}";

export function Templates() {
  const qc = useQueryClient();
  const clients = useClients();
  const [clientId, setClientId] = useState<string | null>(null);
  const [key, setKey] = useState("acknowledgement");
  const templates = useQuery({
    queryKey: ["admin", "templates", clientId],
    queryFn: async () => (await get<{ items: EmailTemplateDto[] }>("/email/templates", { clientId })).items,
  });
  const current = templates.data?.find((t) => t.key === key);
  const [subject, setSubject] = useState("");
  const [body, setBody] = useState("");
  useEffect(() => {
    if (current) {
      setSubject(current.subject);
      setBody(current.body);
    }
  }, [current]);
  const [debounced] = useDebouncedValue({ subject, body }, 250);
  const preview = useQuery({
    queryKey: ["admin", "template-preview", debounced],
    queryFn: () =>
      api<{ subject: string; body: string }>("POST", "/email/templates/preview", { body: debounced }),
    enabled: !!debounced.subject || !!debounced.body,
    placeholderData: (prev) => prev,
  });
  const save = useMutation({
    mutationFn: () =>
      api<EmailTemplateDto>("PUT", `/email/templates/${key}`, { body: { clientId, subject, body } }),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ["admin", "templates"] });
      notifications.show({ message: "Template saved" });
    },
  });
  const errs = fieldErrors(save.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <form onSubmit={submit} aria-label="Email template">
      <Stack gap="sm" p="sm">
        <Group grow align="flex-start">
          <Select
            label="Template"
            data={Object.entries(TEMPLATE_LABELS).map(([value, label]) => ({ value, label }))}
            value={key}
            onChange={(v) => v && setKey(v)}
            allowDeselect={false}
          />
          <Select
            label="For"
            placeholder="Every client"
            clearable
            clearButtonProps={{ "aria-label": "Clear" }}
            searchable
            data={(clients.data ?? []).map((c) => ({ value: c.id, label: c.name }))}
            value={clientId}
            onChange={setClientId}
          />
        </Group>
        <Text fz="xs" c="dimmed">
          {current?.isDefault ? "The built-in text is in use. " : ""}Placeholders: {PLACEHOLDERS}
        </Text>
        <TextInput
          label="Subject"
          value={subject}
          onChange={(e) => setSubject(e.currentTarget.value)}
          error={errs.subject}
        />
        <Textarea
          label="Body"
          value={body}
          onChange={(e) => setBody(e.currentTarget.value)}
          error={errs.body}
          autosize
          minRows={5}
        />
        <Paper withBorder p="sm" aria-label="Preview" component="section">
          <Text fz="xs" c="dimmed" mb={4}>
            Preview with sample values
          </Text>
          <Text fz="sm" fw={600} data-testid="template-preview-subject">
            {preview.data?.subject}
          </Text>
          <Text fz="sm" style={{ whiteSpace: "pre-wrap" }} data-testid="template-preview-body">
            {preview.data?.body}
          </Text>
        </Paper>
        <FormError error={save.error} />
        <Group>
          <Button size="xs" type="submit" loading={save.isPending}>
            Save template
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

const fromKey = ["admin", "client-from"] as const;

/** Per-client From addresses and signatures, for MSPs that answer each client from its own address. */
export function ClientFromAddresses() {
  const qc = useQueryClient();
  const clients = useClients();
  const list = useQuery({
    queryKey: fromKey,
    queryFn: async () => (await get<{ items: EmailClientSettingsDto[] }>("/email/client-settings")).items,
  });
  const [clientId, setClientId] = useState<string | null>(null);
  const [from, setFrom] = useState("");
  const [signature, setSignature] = useState("");
  const pick = (id: string | null) => {
    setClientId(id);
    const row = list.data?.find((r) => r.clientId === id);
    setFrom(row?.fromAddress ?? "");
    setSignature(row?.signature ?? "");
  };
  const save = useMutation({
    mutationFn: () =>
      api("PUT", `/email/client-settings/${clientId}`, {
        body: { fromAddress: from.trim() || null, signature },
      }),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: fromKey });
      notifications.show({ message: "From address saved" });
    },
  });
  const errs = fieldErrors(save.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  return (
    <Stack gap="sm" p="sm">
      {(list.data ?? []).length > 0 && (
        <Stack gap={2}>
          {list.data?.map((r) => (
            <Text key={r.clientId} fz="sm">
              {r.clientName}: {r.fromAddress ?? "the default From"}
            </Text>
          ))}
        </Stack>
      )}
      <form onSubmit={submit} aria-label="A client's From address">
        <Stack gap="sm">
          <Group grow align="flex-start">
            <Select
              label="Client"
              searchable
              data={(clients.data ?? []).map((c) => ({ value: c.id, label: c.name }))}
              value={clientId}
              onChange={pick}
            />
            <TextInput
              label="From address for this client"
              type="email"
              placeholder="The default From"
              value={from}
              onChange={(e) => setFrom(e.currentTarget.value)}
              error={errs.fromAddress}
              disabled={!clientId}
            />
          </Group>
          <Textarea
            label="Signature"
            value={signature}
            onChange={(e) => setSignature(e.currentTarget.value)}
            autosize
            minRows={2}
            disabled={!clientId}
          />
          <FormError error={save.error} />
          <Group>
            <Button size="xs" type="submit" disabled={!clientId} loading={save.isPending}>
              Save for this client
            </Button>
          </Group>
        </Stack>
      </form>
    </Stack>
  );
}
