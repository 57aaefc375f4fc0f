import {
  Badge,
  Button,
  Group,
  Modal,
  NumberInput,
  Paper,
  Progress,
  Select,
  Stack,
  Table,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useLocation, useParams } from "wouter";
import { api, fieldErrors, get } from "../api/client.ts";
import { useClients, useContacts, useMe } from "../api/hooks.ts";
import { hm, money, type Project } from "../api/work-types.ts";
import { ErrorPage } from "../components/error-page.tsx";
import { LogTimeModal } from "../features/time/ticket-time.tsx";
import { useTimerActions } from "../features/time/timer.tsx";

const QUOTE_COLOR = { none: "gray", sent: "blue", approved: "green", declined: "red" } as const;

export function ProjectsPage() {
  const me = useMe();
  const list = useQuery({ queryKey: ["projects"], queryFn: () => get<Project[]>("/projects") });
  const [open, create] = useDisclosure(false);
  const manager = me.data?.role === "admin" || me.data?.role === "dispatcher";
  return (
    <Stack p="md" gap="md" maw={1100}>
      <Group justify="space-between">
        <Title order={1}>Projects</Title>
        {manager && <Button onClick={create.open}>New project</Button>}
      </Group>
      <Table withTableBorder highlightOnHover>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Project</Table.Th>
            <Table.Th>Client</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Quote</Table.Th>
            <Table.Th ta="right">Estimate / actual</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(list.data ?? []).map((p) => (
            <Table.Tr key={p.id}>
              <Table.Td>
                <Link href={`/projects/${p.id}`}>{p.name}</Link>
              </Table.Td>
              <Table.Td>{p.clientName}</Table.Td>
              <Table.Td>{p.status}</Table.Td>
              <Table.Td>
                <Badge variant="light" color={QUOTE_COLOR[p.quoteStatus]}>
                  {p.quoteStatus === "none" ? "no quote" : p.quoteStatus}
                </Badge>
              </Table.Td>
              <Table.Td ta="right" ff="monospace">
                {hm(p.estimateMinutes)} / {hm(p.actualMinutes)}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {open && <NewProject onClose={create.close} />}
    </Stack>
  );
}

function NewProject({ onClose }: { onClose: () => void }) {
  const qc = useQueryClient();
  const [, navigate] = useLocation();
  const clients = useClients();
  const [form, setForm] = useState({
    clientId: null as string | null,
    name: "",
    phases: "Plan, Install, Train",
  });
  const save = useMutation({
    mutationFn: () =>
      api<Project>("POST", "/projects", {
        body: {
          clientId: form.clientId,
          name: form.name,
          phases: form.phases
            .split(",")
            .map((s) => s.trim())
            .filter(Boolean),
        },
      }),
    onSuccess: (p) => {
      qc.invalidateQueries({ queryKey: ["projects"] });
      navigate(`/projects/${p.id}`);
    },
  });
  const errors = fieldErrors(save.error);
  return (
    <Modal opened onClose={onClose} title="New project">
      <Stack gap="sm">
        <Select
          label="Client"
          searchable
          data={(clients.data ?? []).map((c) => ({ value: c.id, label: c.name }))}
          value={form.clientId}
          onChange={(v) => setForm({ ...form, clientId: v })}
          error={errors.clientId}
          required
        />
        <TextInput
          label="Name"
          value={form.name}
          onChange={(e) => setForm({ ...form, name: e.currentTarget.value })}
          error={errors.name}
          required
        />
        <TextInput
          label="Phases (comma-separated)"
          value={form.phases}
          onChange={(e) => setForm({ ...form, phases: e.currentTarget.value })}
        />
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button
            onClick={() => save.mutate()}
            loading={save.isPending}
            disabled={!form.clientId || !form.name}
          >
            Create
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

export function ProjectPage() {
  const { id } = useParams<{ id: string }>();
  const me = useMe();
  const qc = useQueryClient();
  const q = useQuery({ queryKey: ["projects", id], queryFn: () => get<Project>(`/projects/${id}`) });
  const contacts = useContacts("", q.data ? { clientId: q.data.clientId } : {});
  const [task, setTask] = useState({
    title: "",
    estimate: 60 as number | string,
    phaseId: null as string | null,
  });
  const [quote, setQuote] = useState<number | string>("");
  const [quoteTo, setQuoteTo] = useState<string | null>(null);
  const [logFor, setLogFor] = useState<string | null>(null);
  const { start } = useTimerActions();
  const set = (p: Project) => qc.setQueryData(["projects", id], p);
  const addTask = useMutation({
    mutationFn: () =>
      api<Project>("POST", `/projects/${id}/tasks`, {
        body: { title: task.title, estimateMinutes: Number(task.estimate), phaseId: task.phaseId },
      }),
    onSuccess: (p) => {
      set(p);
      setTask({ ...task, title: "" });
    },
  });
  const toggle = useMutation({
    mutationFn: (t: Project["tasks"][number]) =>
      api<Project>("PATCH", `/project-tasks/${t.id}`, {
        body: { version: t.version, status: t.status === "done" ? "todo" : "done" },
      }),
    onSuccess: set,
  });
  const price = useMutation({
    mutationFn: () =>
      api<Project>("PATCH", `/projects/${id}`, {
        body: { version: q.data!.version, quoteMinor: Math.round(Number(quote) * 100) },
      }),
    onSuccess: set,
    onError: (e) => notifications.show({ color: "red", title: "Not saved", message: e.message }),
  });
  const send = useMutation({
    mutationFn: () => api<Project>("POST", `/projects/${id}/quote`, { body: { contactId: quoteTo } }),
    onSuccess: (p) => {
      set(p);
      notifications.show({
        title: "Quote sent",
        message: "The client approves or declines it from the email.",
      });
    },
    onError: (e) => notifications.show({ color: "red", title: "Not sent", message: e.message }),
  });
  if (q.isError) return <ErrorPage error={q.error} onRetry={() => q.refetch()} />;
  const p = q.data;
  if (!p) return null;
  const manager = me.data?.role === "admin" || me.data?.role === "dispatcher";
  const pct = p.estimateMinutes ? Math.round((p.actualMinutes / p.estimateMinutes) * 100) : 0;
  return (
    <Stack p="md" gap="md" maw={1100}>
      <Group justify="space-between">
        <div>
          <Title order={1}>{p.name}</Title>
          <Text c="dimmed" fz="sm">
            {p.clientName} · <Link href={`/tickets/${p.ticketNumber}`}>#{p.ticketNumber}</Link> · {p.status}
          </Text>
        </div>
        <Badge size="lg" variant="light" color={QUOTE_COLOR[p.quoteStatus]}>
          Quote {p.quoteStatus === "none" ? "not sent" : p.quoteStatus}
          {p.quoteMinor !== null ? `: ${money(p.quoteMinor, p.currency)}` : ""}
        </Badge>
      </Group>
      <div>
        <Text fz="sm">
          {hm(p.actualMinutes)} worked of {hm(p.estimateMinutes)} estimated ({pct}%)
        </Text>
        <Progress
          value={Math.min(100, pct)}
          color={pct > 100 ? "red" : "blue"}
          aria-label="Time used of the estimate"
        />
      </div>
      {[...p.phases, { id: null as string | null, name: "Unphased", position: 99 }].map((phase) => {
        const tasks = p.tasks.filter((t) => t.phaseId === phase.id);
        if (!tasks.length && phase.id === null) return null;
        return (
          <Paper key={phase.id ?? "none"} withBorder p="sm">
            <Title order={2} fz="md" mb={4}>
              {phase.name}
            </Title>
            <Table fz="sm">
              <Table.Tbody>
                {tasks.map((t) => (
                  <Table.Tr key={t.id}>
                    <Table.Td>
                      <Button
                        size="compact-xs"
                        variant={t.status === "done" ? "filled" : "default"}
                        onClick={() => toggle.mutate(t)}
                        aria-label={`${t.title}: mark ${t.status === "done" ? "not done" : "done"}`}
                      >
                        {t.status === "done" ? "Done" : "To do"}
                      </Button>
                    </Table.Td>
                    <Table.Td>{t.title}</Table.Td>
                    <Table.Td
                      ta="right"
                      ff="monospace"
                      c={t.actualMinutes > t.estimateMinutes ? "red" : undefined}
                    >
                      {hm(t.actualMinutes)} / {hm(t.estimateMinutes)}
                    </Table.Td>
                    <Table.Td>
                      <Group gap={4} justify="flex-end">
                        <Button
                          size="compact-xs"
                          variant="light"
                          onClick={() => start.mutate({ projectTaskId: t.id, workType: "project" })}
                        >
                          Start timer
                        </Button>
                        <Button size="compact-xs" variant="default" onClick={() => setLogFor(t.id)}>
                          Log time
                        </Button>
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Paper>
        );
      })}
      <Group align="flex-end" gap="xs">
        <TextInput
          label="New task"
          value={task.title}
          onChange={(e) => setTask({ ...task, title: e.currentTarget.value })}
          w={300}
        />
        <Select
          label="Phase"
          data={p.phases.map((f) => ({ value: f.id, label: f.name }))}
          value={task.phaseId}
          onChange={(v) => setTask({ ...task, phaseId: v })}
          clearable
          w={160}
        />
        <NumberInput
          label="Estimate (min)"
          min={0}
          value={task.estimate}
          onChange={(v) => setTask({ ...task, estimate: v })}
          w={130}
        />
        <Button onClick={() => addTask.mutate()} disabled={!task.title} loading={addTask.isPending}>
          Add task
        </Button>
      </Group>
      {manager && p.quoteStatus !== "approved" && (
        <Group align="flex-end" gap="xs">
          <NumberInput
            label={`Quote (${p.currency})`}
            decimalScale={2}
            min={0}
            value={quote}
            onChange={setQuote}
            w={160}
          />
          <Button variant="default" onClick={() => price.mutate()} disabled={quote === ""}>
            Set the quote
          </Button>
          <Select
            label="Send to"
            data={(contacts.data ?? []).map((c) => ({
              value: c.id,
              label: `${c.firstName} ${c.lastName}`.trim(),
            }))}
            value={quoteTo}
            onChange={setQuoteTo}
            w={220}
          />
          <Button
            onClick={() => send.mutate()}
            disabled={!quoteTo || p.quoteMinor === null}
            loading={send.isPending}
          >
            Send the quote for approval
          </Button>
        </Group>
      )}
      {p.quoteDecisionNote && (
        <Text fz="sm">
          {p.quoteStatus === "approved" ? "Approved" : "Declined"} by {p.quoteDecisionNote}
          {p.quoteDecidedAt ? ` on ${new Date(p.quoteDecidedAt).toLocaleString()}` : ""}
        </Text>
      )}
      {logFor && <LogTimeModal opened onClose={() => setLogFor(null)} target={{ projectTaskId: logFor }} />}
    </Stack>
  );
}
