import {
  Alert,
  Badge,
  Box,
  Button,
  Checkbox,
  Grid,
  Group,
  NumberInput,
  Paper,
  SegmentedControl,
  Select,
  Stack,
  Text,
  Textarea,
  TextInput,
  Title,
} from "@mantine/core";
import { useDebouncedValue, useInterval } from "@mantine/hooks";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, type KeyboardEvent, useEffect, useMemo, useState } from "react";
import { useLocation, useSearch } from "wouter";
import { api, fieldErrors, get } from "../api/client.ts";
import { useClients, useContacts, useMe, useStatuses, useTeams } from "../api/hooks.ts";
import { keys } from "../api/keys.ts";
import type { ContactDto, TicketDto, TicketSummaryDto, TicketWithTimeline } from "../api/types.ts";
import { VipBadge } from "../components/badges.tsx";
import { PRIORITY_LABELS, TYPE_LABELS } from "../components/format.ts";
import { VerifyContactButton } from "../features/identity/verify-caller.tsx";
import { CallerHistory } from "../features/intake/caller-history.tsx";
import { CallerMatches, MATCH_LIMIT, matchId, TEMPLATES } from "../features/intake/caller-matches.tsx";
import { NewCaller } from "../features/intake/new-caller.tsx";
import { useIntakeDraft } from "../features/intake/use-intake-draft.ts";

const HUMAN: Record<string, string> = {
  clientId: "Pick the client, or find the caller above.",
  subject: "Say in a few words what the call is about.",
};

export function IntakePage() {
  const me = useMe();
  const qc = useQueryClient();
  const [, navigate] = useLocation();
  const params = new URLSearchParams(useSearch());
  const parentNumber = params.get("parent");
  const statuses = useStatuses();
  const teams = useTeams();
  const clients = useClients();
  const { draft, set, setDraft, end } = useIntakeDraft(params.get("clientId"));
  const {
    contact,
    clientId,
    subject,
    notes,
    type,
    priority,
    teamId,
    assignMe,
    resolveNow,
    direction,
    minutes,
  } = draft;
  const lookup = draft.lookup;
  const [elapsed, setElapsed] = useState(() => Math.round((Date.now() - draft.startedAt) / 1000));
  const timer = useInterval(() => setElapsed(Math.round((Date.now() - draft.startedAt) / 1000)), 1000);
  useEffect(() => {
    timer.start();
    return timer.stop;
  }, [timer.start, timer.stop]);

  const [debounced] = useDebouncedValue(lookup.trim(), 200);
  const matches = useContacts(debounced);
  // Only what the list shows: nothing while the field is empty.
  const matchItems = debounced ? (matches.data ?? []).slice(0, MATCH_LIMIT) : [];
  const [active, setActive] = useState(0);
  const [adding, setAdding] = useState(false);
  // Problems found before sending, in words; each clears as soon as its field changes.
  const [problems, setProblems] = useState<Record<string, string>>({});
  const clearProblem = (k: string) => setProblems(({ [k]: _, ...rest }) => rest);

  const parent = useQuery({
    queryKey: keys.ticket(parentNumber ?? ""),
    queryFn: () => get<TicketWithTimeline>(`/tickets/by-number/${parentNumber}`),
    enabled: !!parentNumber,
  });
  const pick = (c: ContactDto) => {
    setDraft((d) => ({ ...d, contact: c, clientId: c.clientId, lookup: "" }));
    clearProblem("clientId");
    setAdding(false);
  };
  const durationSeconds = minutes === "" ? elapsed : Math.round(Number(minutes) * 60);
  const resolvedStatus = statuses.data?.find((s) => s.category === "resolved");
  const callerNumber = contact?.phones[0]?.number ?? (/\d{3}/.test(lookup) ? lookup : null);
  const canCreateClient = me.data?.role === "admin" || me.data?.role === "dispatcher";

  const create = useMutation({
    mutationFn: () =>
      api<TicketDto>("POST", "/tickets", {
        headers: { "idempotency-key": draft.idempotencyKey },
        body: {
          subject,
          // What was said belongs to the call entry on the timeline, where the history is read.
          description: "",
          clientId,
          contactId: contact?.id ?? null,
          type,
          source: "phone",
          priority: Number(priority),
          teamId,
          assigneeId: assignMe ? me.data?.id : null,
          statusId: resolveNow ? resolvedStatus?.id : undefined,
          parentId: parent.data?.ticket.id ?? null,
          call: { direction, number: callerNumber, durationSeconds, notes },
        },
      }),
    onSuccess: (t) => {
      end();
      qc.invalidateQueries({ queryKey: keys.tickets });
      notifications.show({
        message: `Ticket #${t.number} created${resolveNow ? " and resolved" : ""}`,
        color: "teal",
      });
      navigate(`/tickets/${t.number}`);
    },
  });
  // A repeat call about a ticket that exists: the call goes on that ticket's timeline instead.
  const logOn = useMutation({
    mutationFn: (t: TicketSummaryDto) =>
      api("POST", `/tickets/${t.id}/timeline`, {
        body: {
          kind: "call",
          body: [subject, notes].filter((x) => x.trim()).join("\n\n"),
          call: { direction, number: callerNumber, durationSeconds },
          contactId: contact && contact.clientId === t.client.id ? contact.id : null,
        },
      }).then(() => t),
    onSuccess: (t) => {
      end();
      qc.invalidateQueries({ queryKey: keys.ticket(t.number) });
      notifications.show({ message: `Call logged on #${t.number}`, color: "teal" });
      navigate(`/tickets/${t.number}`);
    },
    onError: (e) => notifications.show({ title: "Call not logged", message: e.message, color: "red" }),
  });
  const server = fieldErrors(create.error);
  const errorOf = (k: string) => problems[k] ?? (server[k] ? (HUMAN[k] ?? server[k]) : undefined);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const found: Record<string, string> = {};
    if (!clientId) found.clientId = HUMAN.clientId as string;
    if (!subject.trim()) found.subject = HUMAN.subject as string;
    setProblems(found);
    if (Object.keys(found).length === 0) create.mutate();
  };
  const onLookupKey = (e: KeyboardEvent<HTMLInputElement>) => {
    // Enter in the caller field picks the highlighted match; it never submits the form.
    if (e.key === "Enter") {
      e.preventDefault();
      const c = matchItems[active];
      if (c) pick(c);
    } else if (e.key === "ArrowDown" && matchItems.length) {
      e.preventDefault();
      setActive((a) => (a + 1) % matchItems.length);
    } else if (e.key === "ArrowUp" && matchItems.length) {
      e.preventDefault();
      setActive((a) => (a - 1 + matchItems.length) % matchItems.length);
    } else if (e.key === "Escape") {
      set("lookup", "");
    }
  };
  const clientOptions = useMemo(() => {
    const opts = (clients.data ?? []).map((c) => ({ value: c.id, label: c.name }));
    if (contact && !opts.some((o) => o.value === contact.clientId))
      opts.push({ value: contact.clientId, label: contact.clientName });
    return opts;
  }, [clients.data, contact]);
  const mm = Math.floor(elapsed / 60);
  const ss = String(elapsed % 60).padStart(2, "0");
  const activeMatch = matchItems[active];

  return (
    <Box p="md">
      <Group justify="space-between" mb="sm" wrap="wrap" gap="xs">
        <div style={{ minWidth: 0 }}>
          <Title order={1}>Phone intake</Title>
          <Text c="dimmed" fz="sm">
            Type the caller's number, name or email. The contact and client fill in; their tickets show
            alongside.
          </Text>
        </div>
        <Group gap="xs">
          <Badge size="lg" variant="light" color="teal" ff="monospace" title="Time on this call">
            ● {mm}:{ss}
          </Badge>
          <Button variant="subtle" color="gray" size="xs" onClick={end}>
            New call
          </Button>
        </Group>
      </Group>
      <Grid gap="md">
        <Grid.Col span={{ base: 12, md: 7 }}>
          <Paper p="md">
            <form onSubmit={submit} noValidate>
              <Stack gap="sm">
                {parent.data && (
                  <Alert variant="light" py={6}>
                    Child of #{parent.data.ticket.number} {parent.data.ticket.subject}
                  </Alert>
                )}
                {contact ? (
                  <Paper p="sm" bg="var(--mantine-color-default-hover)" data-testid="caller">
                    <Group justify="space-between" wrap="wrap">
                      <div style={{ minWidth: 0 }}>
                        <Group gap={6}>
                          <Text fw={600}>{contact.name}</Text>
                          {contact.vip && <VipBadge />}
                          {contact.title && (
                            <Text fz="xs" c="dimmed">
                              {contact.title}
                            </Text>
                          )}
                        </Group>
                        <Text fz="sm" c="dimmed">
                          {contact.clientName} ·{" "}
                          {[contact.phones[0]?.number, contact.emails[0]].filter(Boolean).join(" · ")}
                        </Text>
                        {contact.notes && (
                          <Text fz="xs" mt={4}>
                            {contact.notes}
                          </Text>
                        )}
                      </div>
                      <Group gap="xs">
                        <VerifyContactButton contactId={contact.id} variant="light" />
                        <Button variant="subtle" onClick={() => set("contact", null)}>
                          Change caller
                        </Button>
                      </Group>
                    </Group>
                  </Paper>
                ) : adding ? (
                  <NewCaller
                    typed={lookup}
                    clientId={clientId}
                    canCreateClient={canCreateClient}
                    onCreated={pick}
                    onCancel={() => setAdding(false)}
                  />
                ) : (
                  <div>
                    <TextInput
                      label="Caller"
                      placeholder="(555) 201-3344, Dana, dana@smiles.example"
                      value={lookup}
                      onChange={(e) => {
                        set("lookup", e.currentTarget.value);
                        setActive(0);
                      }}
                      onKeyDown={onLookupKey}
                      autoFocus
                      role="combobox"
                      aria-expanded={!!debounced}
                      aria-controls="caller-matches"
                      aria-autocomplete="list"
                      aria-activedescendant={activeMatch ? matchId(activeMatch.id) : undefined}
                      data-testid="caller-lookup"
                      rightSectionWidth={110}
                      rightSection={
                        <Button size="compact-xs" variant="subtle" onClick={() => setAdding(true)}>
                          New caller
                        </Button>
                      }
                    />
                    <CallerMatches
                      q={debounced}
                      items={matchItems}
                      pending={matches.isPending}
                      active={active}
                      onPick={pick}
                      onAdd={() => setAdding(true)}
                    />
                  </div>
                )}
                <Select
                  label="Client"
                  placeholder="Pick the client"
                  searchable
                  data={clientOptions}
                  value={clientId}
                  onChange={(v) => {
                    set("clientId", v);
                    clearProblem("clientId");
                  }}
                  error={errorOf("clientId")}
                  disabled={!!contact}
                  required
                />
                <div>
                  <TextInput
                    label="Subject"
                    placeholder="What is the call about?"
                    value={subject}
                    onChange={(e) => {
                      set("subject", e.currentTarget.value);
                      clearProblem("subject");
                    }}
                    error={errorOf("subject")}
                    required
                  />
                  <Group gap={4} mt={6}>
                    {TEMPLATES.map((t) => (
                      <Button
                        key={t.label}
                        variant="default"
                        size="compact-xs"
                        onClick={() => {
                          setDraft((d) => ({
                            ...d,
                            subject: t.subject,
                            type: t.type,
                            priority: String(t.priority),
                          }));
                          clearProblem("subject");
                        }}
                      >
                        {t.label}
                      </Button>
                    ))}
                  </Group>
                </div>
                <Textarea
                  label="Call notes"
                  placeholder="What the caller said, what you did"
                  autosize
                  minRows={3}
                  value={notes}
                  onChange={(e) => set("notes", e.currentTarget.value)}
                  error={errorOf("call.notes")}
                />
                <Group grow align="flex-start" wrap="wrap" preventGrowOverflow={false}>
                  <div style={{ minWidth: 200 }}>
                    <Text fz="sm" fw={500} mb={4} id="prio-label">
                      Priority
                    </Text>
                    <SegmentedControl
                      fullWidth
                      size="xs"
                      aria-labelledby="prio-label"
                      value={priority}
                      onChange={(v) => set("priority", v)}
                      data={[1, 2, 3, 4].map((p) => ({ value: String(p), label: PRIORITY_LABELS[p]! }))}
                    />
                  </div>
                  <Select
                    label="Type"
                    size="sm"
                    data={Object.entries(TYPE_LABELS).map(([value, label]) => ({ value, label }))}
                    miw={140}
                    value={type}
                    onChange={(v) => v && set("type", v)}
                    allowDeselect={false}
                  />
                  <Select
                    label="Team"
                    size="sm"
                    placeholder="No team"
                    clearable
                    data={(teams.data ?? []).map((t) => ({ value: t.id, label: t.name }))}
                    miw={140}
                    value={teamId}
                    onChange={(v) => set("teamId", v)}
                  />
                </Group>
                <Group gap="md" align="flex-end" wrap="wrap">
                  <Select
                    label="Call"
                    w={130}
                    data={[
                      { value: "inbound", label: "Inbound" },
                      { value: "outbound", label: "Outbound" },
                    ]}
                    value={direction}
                    onChange={(v) => v && set("direction", v as "inbound" | "outbound")}
                    allowDeselect={false}
                  />
                  <NumberInput
                    label="Duration (min)"
                    w={130}
                    placeholder={`${mm}:${ss} (timer)`}
                    min={0}
                    max={1440}
                    decimalScale={1}
                    value={minutes}
                    onChange={(v) => set("minutes", v)}
                    error={errorOf("call.durationSeconds")}
                  />
                  <Checkbox
                    label="Assign to me"
                    checked={assignMe}
                    onChange={(e) => set("assignMe", e.currentTarget.checked)}
                  />
                  <Checkbox
                    label="Resolved on the call"
                    checked={resolveNow}
                    onChange={(e) => set("resolveNow", e.currentTarget.checked)}
                    disabled={!resolvedStatus}
                  />
                </Group>
                {create.isError && Object.keys(server).length === 0 && (
                  <Alert color="red">{create.error.message}</Alert>
                )}
                <Group justify="flex-end">
                  <Button type="submit" size="sm" loading={create.isPending}>
                    {resolveNow ? "Create resolved ticket" : "Create ticket"}
                  </Button>
                </Group>
              </Stack>
            </form>
          </Paper>
        </Grid.Col>
        <Grid.Col span={{ base: 12, md: 5 }}>
          <CallerHistory
            contact={contact}
            clientId={clientId}
            onLog={(t) => logOn.mutate(t)}
            loggingOn={logOn.isPending ? (logOn.variables?.id ?? null) : null}
          />
        </Grid.Col>
      </Grid>
    </Box>
  );
}
