import {
  Alert,
  Anchor,
  Badge,
  Box,
  Button,
  Group,
  Paper,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import type { ArticleDto, ArticleSummaryDto } from "@switchboard/shared";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useLocation, useParams } from "wouter";
import { api, get } from "../api/client.ts";
import { useClients } from "../api/hooks.ts";
import { ListHeader, useListSearch } from "../components/list-header.tsx";
import { Empty } from "../components/section.tsx";
import { RichEditor } from "../features/kb/rich-editor.tsx";
import { SafeHtml } from "../shared/safe-html.tsx";

export function KnowledgeBasePage() {
  const { q, setQ, debounced } = useListSearch();
  const [, navigate] = useLocation();
  const list = useQuery({
    queryKey: ["kb", "list", debounced],
    queryFn: () => get<ArticleSummaryDto[]>("/kb/articles", { q: debounced || undefined }),
  });
  const create = useMutation({
    mutationFn: () =>
      api<ArticleDto>("POST", "/kb/articles", {
        body: { title: "Untitled article", visibility: "internal" },
      }),
    onSuccess: (a) => navigate(`/kb/${a.id}?edit=1`),
  });
  return (
    <Box p="md">
      <ListHeader
        title="Knowledge base"
        searchLabel="Search articles"
        placeholder="Search articles"
        q={q}
        setQ={setQ}
      />
      <Group mb="sm">
        <Button onClick={() => create.mutate()} loading={create.isPending}>
          New article
        </Button>
      </Group>
      <Paper>
        <Table highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Title</Table.Th>
              <Table.Th>For</Table.Th>
              <Table.Th>Visibility</Table.Th>
              <Table.Th>Updated</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(list.data ?? []).map((a) => (
              <Table.Tr key={a.id}>
                <Table.Td>
                  <Anchor component={Link} href={`/kb/${a.id}`} fz="sm">
                    {a.title}
                  </Anchor>
                </Table.Td>
                <Table.Td>{a.client?.name ?? "Every client"}</Table.Td>
                <Table.Td>
                  <Badge variant="light" color={a.visibility === "public" ? "green" : "gray"}>
                    {a.visibility}
                  </Badge>
                </Table.Td>
                <Table.Td>{new Date(a.updatedAt).toLocaleDateString()}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {list.data?.length === 0 && <Empty>No articles match.</Empty>}
      </Paper>
    </Box>
  );
}

export function KbArticlePage() {
  const { id } = useParams<{ id: string }>();
  const qc = useQueryClient();
  const editing0 = new URLSearchParams(window.location.search).has("edit");
  const [editing, setEditing] = useState(editing0);
  const a = useQuery({ queryKey: ["kb", id], queryFn: () => get<ArticleDto>(`/kb/articles/${id}`) });
  if (a.isPending) return <Text p="md">Loading…</Text>;
  if (a.isError)
    return (
      <Alert m="md" color="red">
        {a.error.message}
      </Alert>
    );
  return editing ? (
    <ArticleEditor
      article={a.data}
      onDone={(saved) => {
        qc.setQueryData(["kb", id], saved);
        qc.invalidateQueries({ queryKey: ["kb", "list"] });
        setEditing(false);
      }}
    />
  ) : (
    <Stack p="md" maw={900}>
      <Group justify="space-between">
        <Title order={1}>{a.data.title}</Title>
        <Button variant="default" onClick={() => setEditing(true)}>
          Edit
        </Button>
      </Group>
      <Text fz="sm" c="dimmed">
        {a.data.visibility === "public" ? "Public" : "Internal"} · {a.data.client?.name ?? "every client"}
        {a.data.sourceTicket && (
          <>
            {" · from "}
            <Anchor component={Link} href={`/tickets/${a.data.sourceTicket.number}`}>
              #{a.data.sourceTicket.number}
            </Anchor>
          </>
        )}
      </Text>
      <SafeHtml html={a.data.bodyHtml} />
    </Stack>
  );
}

function ArticleEditor({ article, onDone }: { article: ArticleDto; onDone: (a: ArticleDto) => void }) {
  const [title, setTitle] = useState(article.title);
  const [html, setHtml] = useState(article.bodyHtml);
  const [visibility, setVisibility] = useState<string>(article.visibility);
  const [clientId, setClientId] = useState<string>(article.client?.id ?? "");
  const clients = useClients("");
  const save = useMutation({
    mutationFn: () =>
      api<ArticleDto>("PATCH", `/kb/articles/${article.id}`, {
        body: { version: article.version, title, bodyHtml: html, visibility, clientId: clientId || null },
      }),
    onSuccess: onDone,
  });
  return (
    <Stack p="md" maw={900}>
      <Title order={1}>Edit article</Title>
      <TextInput label="Title" value={title} onChange={(e) => setTitle(e.currentTarget.value)} required />
      <Group grow>
        <Select
          label="Visibility"
          value={visibility}
          onChange={(v) => setVisibility(v ?? "internal")}
          data={[
            { value: "internal", label: "Internal (technicians only)" },
            { value: "public", label: "Public (shown in the portal)" },
          ]}
          allowDeselect={false}
        />
        <Select
          label="For"
          value={clientId}
          onChange={(v) => setClientId(v ?? "")}
          data={[
            { value: "", label: "Every client" },
            ...(clients.data ?? []).map((c) => ({ value: c.id, label: c.name })),
          ]}
          searchable
          allowDeselect={false}
        />
      </Group>
      <RichEditor
        label="Article text"
        initial={article.bodyHtml}
        onChange={setHtml}
        uploadTo={`/kb/articles/${article.id}/files`}
      />
      {save.isError && <Alert color="red">{save.error.message}</Alert>}
      <Group>
        <Button onClick={() => save.mutate()} loading={save.isPending}>
          Save
        </Button>
      </Group>
    </Stack>
  );
}
