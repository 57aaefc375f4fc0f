import {
  Alert,
  Anchor,
  Badge,
  Button,
  Card,
  FileInput,
  Group,
  Paper,
  SegmentedControl,
  Stack,
  Table,
  Text,
  Textarea,
  TextInput,
  Title,
} from "@mantine/core";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link, useLocation, useParams } from "wouter";
import { type ArticleHit, call, type Me, type Ticket, type TicketSummary, upload, when } from "./api.ts";

const CLOSED = new Set(["resolved", "closed"]);

export function HomePage({ me }: { me: Me }) {
  const [scope, setScope] = useState<"mine" | "company">("mine");
  const [status, setStatus] = useState<"open" | "closed" | "all">("all");
  const list = useInfiniteQuery({
    queryKey: ["tickets", scope, status],
    queryFn: ({ pageParam }) =>
      call<{ items: TicketSummary[]; nextCursor: string | null }>(
        "GET",
        `/portal/tickets?scope=${scope}&status=${status}&limit=50${pageParam ? `&cursor=${pageParam}` : ""}`,
      ),
    initialPageParam: "",
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const items = list.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={1}>{scope === "mine" ? "My tickets" : `${me.client.name} tickets`}</Title>
        <Group>
          {me.companyAdmin && (
            <SegmentedControl
              aria-label="Whose tickets"
              value={scope}
              onChange={(v) => setScope(v as "mine" | "company")}
              data={[
                { value: "mine", label: "Mine" },
                { value: "company", label: "Company" },
              ]}
            />
          )}
          <SegmentedControl
            aria-label="Status"
            value={status}
            onChange={(v) => setStatus(v as "open" | "closed" | "all")}
            data={[
              { value: "all", label: "All" },
              { value: "open", label: "Open" },
              { value: "closed", label: "Closed" },
            ]}
          />
        </Group>
      </Group>
      {list.isError && <Alert color="red">{list.error.message}</Alert>}
      {list.isSuccess && items.length === 0 && (
        <Text>No tickets yet. Something wrong? Open a new ticket.</Text>
      )}
      {items.length > 0 && (
        <Table striped highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>#</Table.Th>
              <Table.Th>Subject</Table.Th>
              {scope === "company" && <Table.Th>Opened by</Table.Th>}
              <Table.Th>Status</Table.Th>
              <Table.Th>Last activity</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((t) => (
              <Table.Tr key={t.id}>
                <Table.Td>{t.number}</Table.Td>
                <Table.Td>
                  <Anchor component={Link} href={`/tickets/${t.id}`}>
                    {t.subject}
                  </Anchor>
                </Table.Td>
                {scope === "company" && <Table.Td>{t.contactName}</Table.Td>}
                <Table.Td>
                  <Badge variant="light" color={CLOSED.has(t.status.category) ? "gray" : "blue"}>
                    {t.status.name}
                  </Badge>
                </Table.Td>
                <Table.Td>{when(t.lastActivityAt)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {list.hasNextPage && (
        <Button variant="default" onClick={() => list.fetchNextPage()} loading={list.isFetchingNextPage}>
          Show more
        </Button>
      )}
    </Stack>
  );
}

function useDebounced<T>(value: T, ms: number) {
  const [v, setV] = useState(value);
  useEffect(() => {
    const id = setTimeout(() => setV(value), ms);
    return () => clearTimeout(id);
  }, [value, ms]);
  return v;
}

/** A new ticket; as the subject is typed, public articles that may already answer it are suggested. */
export function NewTicketPage() {
  const [subject, setSubject] = useState("");
  const [description, setDescription] = useState("");
  const [, navigate] = useLocation();
  const qc = useQueryClient();
  const words = useDebounced(`${subject} ${description}`.trim(), 300);
  const suggestions = useQuery({
    queryKey: ["suggest", words],
    queryFn: () =>
      call<ArticleHit[]>("GET", `/portal/kb/articles?q=${encodeURIComponent(words.slice(0, 200))}&limit=5`),
    enabled: words.length >= 3,
  });
  const create = useMutation({
    mutationFn: () => call<Ticket>("POST", "/portal/tickets", { subject, description }),
    onSuccess: (t) => {
      qc.invalidateQueries({ queryKey: ["tickets"] });
      navigate(`/tickets/${t.id}`);
    },
  });
  return (
    <Stack>
      <Title order={1}>New ticket</Title>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          create.mutate();
        }}
      >
        <Stack>
          <TextInput
            label="What is wrong?"
            required
            value={subject}
            onChange={(e) => setSubject(e.currentTarget.value)}
            maxLength={300}
          />
          <Textarea
            label="Details"
            autosize
            minRows={4}
            value={description}
            onChange={(e) => setDescription(e.currentTarget.value)}
          />
          {(suggestions.data?.length ?? 0) > 0 && (
            <Paper withBorder p="md" aria-label="Articles that may help" component="section">
              <Title order={2} size="h4" mb="xs">
                These articles may help
              </Title>
              <Stack gap="xs">
                {suggestions.data!.map((a) => (
                  <Card key={a.id} padding="xs" withBorder>
                    <Anchor component={Link} href={`/articles/${a.id}`} fw={600}>
                      {a.title}
                    </Anchor>
                    <Text size="sm">{a.excerpt}</Text>
                  </Card>
                ))}
              </Stack>
            </Paper>
          )}
          {create.isError && <Alert color="red">{create.error.message}</Alert>}
          <Group>
            <Button type="submit" loading={create.isPending}>
              Open ticket
            </Button>
          </Group>
        </Stack>
      </form>
    </Stack>
  );
}

export function TicketPage() {
  const { id } = useParams<{ id: string }>();
  const qc = useQueryClient();
  const ticket = useQuery({
    queryKey: ["ticket", id],
    queryFn: () => call<Ticket>("GET", `/portal/tickets/${id}`),
  });
  const [reply, setReply] = useState("");
  const [file, setFile] = useState<File | null>(null);
  const send = useMutation({
    mutationFn: async () => {
      if (file) {
        const form = new FormData();
        form.append("note", reply);
        form.append("file", file);
        await upload(`/portal/tickets/${id}/attachments`, form);
      } else {
        await call("POST", `/portal/tickets/${id}/replies`, { body: reply });
      }
    },
    onSuccess: () => {
      setReply("");
      setFile(null);
      qc.invalidateQueries({ queryKey: ["ticket", id] });
    },
  });
  if (ticket.isPending) return <Text role="status">Loading…</Text>;
  if (ticket.isError) return <Alert color="red">{ticket.error.message}</Alert>;
  const t = ticket.data;
  return (
    <Stack>
      <Group justify="space-between" align="flex-start">
        <Title order={1}>
          #{t.number} {t.subject}
        </Title>
        <Badge size="lg" variant="light" color={CLOSED.has(t.status.category) ? "gray" : "blue"}>
          {t.status.name}
        </Badge>
      </Group>
      <Text size="sm">
        Opened {when(t.createdAt)}
        {t.rating ? ` · You rated it ${t.rating}` : ""}
      </Text>
      {t.description && (
        <Paper withBorder p="md">
          <Text style={{ whiteSpace: "pre-wrap" }}>{t.description}</Text>
        </Paper>
      )}
      <Title order={2} size="h3">
        Conversation
      </Title>
      {t.entries.length === 0 && <Text>No replies yet.</Text>}
      <Stack gap="sm" component="ol" style={{ listStyle: "none", padding: 0 }}>
        {t.entries.map((e) => (
          <Paper key={e.id} withBorder p="sm" component="li">
            <Text size="sm" fw={600}>
              {e.author?.name ?? "Support"} · {when(e.createdAt)}
            </Text>
            <Text style={{ whiteSpace: "pre-wrap" }}>{e.body}</Text>
            {e.attachments.map((a) => (
              <Anchor key={a.id} href={`/api/v1/portal/attachments/${a.id}`} size="sm" display="block">
                {a.filename}
              </Anchor>
            ))}
          </Paper>
        ))}
      </Stack>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          send.mutate();
        }}
      >
        <Stack>
          <Textarea
            label="Your reply"
            autosize
            minRows={3}
            value={reply}
            onChange={(e) => setReply(e.currentTarget.value)}
            required={!file}
          />
          <FileInput
            label="Attach a file"
            value={file}
            onChange={setFile}
            clearable
            placeholder="Choose a file"
          />
          {send.isError && <Alert color="red">{send.error.message}</Alert>}
          <Group>
            <Button type="submit" loading={send.isPending}>
              Send
            </Button>
          </Group>
        </Stack>
      </form>
    </Stack>
  );
}
