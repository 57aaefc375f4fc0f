import {
  Alert,
  Anchor,
  Box,
  Button,
  Group,
  Paper,
  Select,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
  Title,
} from "@mantine/core";
import type { DocLayoutDto, DocumentDto, DocumentSummaryDto } from "@switchboard/shared";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useLocation, useParams } from "wouter";
import { api, get } from "../api/client.ts";
import { useClients } from "../api/hooks.ts";
import { ListHeader, useListSearch } from "../components/list-header.tsx";
import { Empty } from "../components/section.tsx";
import { ShareButton } from "../features/documents/share-modal.tsx";
import { type Field, FieldView } from "../shared/doc-fields.tsx";
import { SafeHtml } from "../shared/safe-html.tsx";

type Value = string | string[] | Array<Record<string, string>>;

export function DocumentsPage() {
  const { q, setQ, debounced } = useListSearch();
  const [clientId, setClientId] = useState("");
  const clients = useClients("");
  const list = useQuery({
    queryKey: ["documents", clientId, debounced],
    queryFn: () =>
      get<DocumentSummaryDto[]>("/documents", { clientId: clientId || undefined, q: debounced || undefined }),
  });
  return (
    <Box p="md">
      <ListHeader
        title="Documentation"
        searchLabel="Search documentation"
        placeholder="Search documents"
        q={q}
        setQ={setQ}
      />
      <Group mb="sm" align="flex-end">
        <Select
          label="Client"
          data={[
            { value: "", label: "All clients" },
            ...(clients.data ?? []).map((c) => ({ value: c.id, label: c.name })),
          ]}
          value={clientId}
          onChange={(v) => setClientId(v ?? "")}
          searchable
          allowDeselect={false}
          w={280}
        />
        <Button component={Link} href={`/documents/new${clientId ? `?clientId=${clientId}` : ""}`}>
          New document
        </Button>
      </Group>
      <Paper>
        <Table highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Title</Table.Th>
              <Table.Th>Client</Table.Th>
              <Table.Th>Layout</Table.Th>
              <Table.Th>Updated</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(list.data ?? []).map((d) => (
              <Table.Tr key={d.id}>
                <Table.Td>
                  <Anchor component={Link} href={`/documents/${d.id}`} fz="sm">
                    {d.title}
                  </Anchor>
                </Table.Td>
                <Table.Td>{d.client.name}</Table.Td>
                <Table.Td>{d.layout.name}</Table.Td>
                <Table.Td>{new Date(d.updatedAt).toLocaleDateString()}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {list.data?.length === 0 && <Empty>No documents.</Empty>}
      </Paper>
    </Box>
  );
}

export function DocumentPage() {
  const { id } = useParams<{ id: string }>();
  const qc = useQueryClient();
  const [editing, setEditing] = useState(false);
  const doc = useQuery({ queryKey: ["document", id], queryFn: () => get<DocumentDto>(`/documents/${id}`) });
  if (doc.isPending) return <Text p="md">Loading…</Text>;
  if (doc.isError)
    return (
      <Alert m="md" color="red">
        {doc.error.message}
      </Alert>
    );
  const d = doc.data;
  if (editing) {
    return (
      <DocumentForm
        layout={{ id: d.layout.id, name: d.layout.name, fields: d.fields, builtin: false, version: 1 }}
        clientId={d.client.id}
        doc={d}
        onSaved={(saved) => {
          qc.setQueryData(["document", id], saved);
          setEditing(false);
        }}
      />
    );
  }
  return (
    <Stack p="md" maw={1000}>
      <Group justify="space-between">
        <div>
          <Title order={1}>{d.title}</Title>
          <Text fz="sm" c="dimmed">
            {d.layout.name} · {d.client.name} · version {d.version}
            {d.updatedBy ? ` · ${d.updatedBy}` : ""}
          </Text>
        </div>
        <Group>
          <ShareButton doc={d} />
          <Button variant="default" onClick={() => setEditing(true)}>
            Edit
          </Button>
        </Group>
      </Group>
      {d.fields.map((f) => (
        <FieldView key={f.key} field={f} value={d.data[f.key]} />
      ))}
      {d.notesHtml && <SafeHtml html={d.notesHtml} />}
      {d.links.length > 0 && (
        <Text fz="sm">Linked to: {d.links.map((l) => `${l.name} (${l.type})`).join(", ")}</Text>
      )}
      {d.files.map((f) => (
        <Anchor key={f.id} href={`/api/v1/documents/files/${f.id}`} fz="sm">
          {f.filename}
        </Anchor>
      ))}
      {d.versions.length > 0 && (
        <Text fz="sm" c="dimmed">
          History:{" "}
          {d.versions
            .map((v) => `v${v.version} by ${v.author} (${new Date(v.createdAt).toLocaleString()})`)
            .join(" · ")}
        </Text>
      )}
    </Stack>
  );
}

export function NewDocumentPage() {
  const [clientId, setClientId] = useState(new URLSearchParams(window.location.search).get("clientId") ?? "");
  const [layoutId, setLayoutId] = useState("");
  const clients = useClients("");
  const layouts = useQuery({ queryKey: ["doc-layouts"], queryFn: () => get<DocLayoutDto[]>("/doc-layouts") });
  const [, navigate] = useLocation();
  const layout = layouts.data?.find((l) => l.id === layoutId);
  return (
    <Stack p="md" maw={1000}>
      <Title order={1}>New document</Title>
      <Group grow>
        <Select
          label="Client"
          data={(clients.data ?? []).map((c) => ({ value: c.id, label: c.name }))}
          value={clientId}
          onChange={(v) => setClientId(v ?? "")}
          searchable
          required
        />
        <Select
          label="Layout"
          data={(layouts.data ?? []).map((l) => ({ value: l.id, label: l.name }))}
          value={layoutId}
          onChange={(v) => setLayoutId(v ?? "")}
          required
        />
      </Group>
      {layout && clientId && (
        <DocumentForm layout={layout} clientId={clientId} onSaved={(d) => navigate(`/documents/${d.id}`)} />
      )}
    </Stack>
  );
}

/** Edits a document's values in its layout: text fields, lists (one item a line) and tables. */
function DocumentForm({
  layout,
  clientId,
  doc,
  onSaved,
}: {
  layout: DocLayoutDto;
  clientId: string;
  doc?: DocumentDto;
  onSaved: (d: DocumentDto) => void;
}) {
  const [title, setTitle] = useState(doc?.title ?? layout.name);
  const [data, setData] = useState<Record<string, Value>>((doc?.data as Record<string, Value>) ?? {});
  const [notes, setNotes] = useState(doc?.notesHtml ?? "");
  const save = useMutation({
    mutationFn: () =>
      doc
        ? api<DocumentDto>("PATCH", `/documents/${doc.id}`, {
            body: { version: doc.version, title, data, notesHtml: notes },
          })
        : api<DocumentDto>("POST", "/documents", {
            body: { clientId, layoutId: layout.id, title, data, notesHtml: notes },
          }),
    onSuccess: onSaved,
  });
  return (
    <form
      onSubmit={(e) => {
        e.preventDefault();
        save.mutate();
      }}
    >
      <Stack>
        <TextInput label="Title" value={title} onChange={(e) => setTitle(e.currentTarget.value)} required />
        {layout.fields.map((f) => (
          <FieldEditor
            key={f.key}
            field={f as Field}
            value={data[f.key]}
            onChange={(v) => setData({ ...data, [f.key]: v })}
          />
        ))}
        <Textarea
          label="Notes (HTML allowed, sanitised)"
          value={notes}
          onChange={(e) => setNotes(e.currentTarget.value)}
          autosize
          minRows={2}
        />
        {save.isError && <Alert color="red">{save.error.message}</Alert>}
        <Group>
          <Button type="submit" loading={save.isPending}>
            Save
          </Button>
        </Group>
      </Stack>
    </form>
  );
}

function FieldEditor({
  field,
  value,
  onChange,
}: {
  field: Field;
  value: Value | undefined;
  onChange: (v: Value) => void;
}) {
  if (field.type === "text")
    return (
      <TextInput
        label={field.label}
        value={(value as string) ?? ""}
        onChange={(e) => onChange(e.currentTarget.value)}
      />
    );
  if (field.type === "textarea")
    return (
      <Textarea
        label={field.label}
        value={(value as string) ?? ""}
        onChange={(e) => onChange(e.currentTarget.value)}
        autosize
        minRows={2}
      />
    );
  if (field.type === "list") {
    return (
      <Textarea
        label={`${field.label} (one a line)`}
        value={((value as string[]) ?? []).join("\n")}
        onChange={(e) => onChange(e.currentTarget.value.split("\n"))}
        autosize
        minRows={3}
      />
    );
  }
  const rows = (value as Array<Record<string, string>>) ?? [];
  const cols = field.columns ?? [];
  return (
    <Box
      component="fieldset"
      style={{ border: "1px solid var(--mantine-color-default-border)", borderRadius: 4 }}
    >
      <legend>{field.label}</legend>
      <Stack gap={4}>
        {rows.map((row, i) => (
          // biome-ignore lint/suspicious/noArrayIndexKey: rows have no identity of their own
          <Group key={i} gap={4} grow>
            {cols.map((c) => (
              <TextInput
                key={c.key}
                aria-label={`${field.label} row ${i + 1} ${c.label}`}
                placeholder={c.label}
                value={row[c.key] ?? ""}
                onChange={(e) =>
                  onChange(rows.map((r, j) => (j === i ? { ...r, [c.key]: e.currentTarget.value } : r)))
                }
              />
            ))}
          </Group>
        ))}
        <Group>
          <Button size="compact-xs" variant="subtle" onClick={() => onChange([...rows, {}])}>
            Add a row to {field.label}
          </Button>
        </Group>
      </Stack>
    </Box>
  );
}
