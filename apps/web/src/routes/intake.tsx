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
import { type FormEvent, useEffect, useMemo, useState } from "react";
import { useLocation, useSearch } from "wouter";
import { api, fieldErrors, get } from "../api/client.ts";
import { useClients, useMe, useStatuses, useTeams } from "../api/hooks.ts";
import { keys } from "../api/keys.ts";
import type { ContactDto, TicketDto, TicketWithTimeline } from "../api/types.ts";
import { VipBadge } from "../components/badges.tsx";
import { PRIORITY_LABELS, TYPE_LABELS } from "../components/format.ts";
import { CallerHistory } from "../features/intake/caller-history.tsx";
import { CallerMatches, TEMPLATES } from "../features/intake/caller-matches.tsx";

export function IntakePage() {
  const me = useMe();
  const qc = useQueryClient();
  const [, navigate] = useLocation();
  const params = new URLSearchParams(useSearch());
  const parentNumber = params.get("parent");
  const statuses = useStatuses();
  const teams = useTeams();
  const clients = useClients();
  const [startedAt] = useState(() => Date.now());
  const [elapsed, setElapsed] = useState(0);
  const timer = useInterval(() => setElapsed(Math.round((Date.now() - startedAt) / 1000)), 1000);
  useEffect(() => {
    timer.start();
    return timer.stop;
  }, [timer.start, timer.stop]);

  const [lookup, setLookup] = useState("");
  const [debounced] = useDebouncedValue(lookup.trim(), 200);
  const [contact, setContact] = useState<ContactDto | null>(null);
  const [clientId, setClientId] = useState<string | null>(params.get("clientId"));
  const [subject, setSubject] = useState("");
  const [notes, setNotes] = useState("");
  const [type, setType] = useState("incident");
  const [priority, setPriority] = useState("3");
  const [teamId, setTeamId] = useState<string | null>(null);
  const [assignMe, setAssignMe] = useState(true);
  const [resolveNow, setResolveNow] = useState(false);
  const [direction, setDirection] = useState<"inbound" | "outbound">("inbound");
  const [minutes, setMinutes] = useState<number | string>("");
  const [idempotencyKey] = useState(() => crypto.randomUUID());

  const parent = useQuery({
    queryKey: keys.ticket(parentNumber ?? ""),
    queryFn: () => get<TicketWithTimeline>(`/tickets/by-number/${parentNumber}`),
    enabled: !!parentNumber,
  });
  const pick = (c: ContactDto) => {
    setContact(c);
    setClientId(c.clientId);
    setLookup("");
  };
  const durationSeconds = minutes === "" ? elapsed : Math.round(Number(minutes) * 60);
  const resolvedStatus = statuses.data?.find((s) => s.category === "resolved");
  const callerNumber = contact?.phones[0]?.number ?? (/\d{3}/.test(lookup) ? lookup : null);

  const create = useMutation({
    mutationFn: () =>
      api<TicketDto>("POST", "/tickets", {
        headers: { "idempotency-key": idempotencyKey },
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
      qc.invalidateQueries({ queryKey: keys.tickets });
      notifications.show({
        message: `Ticket #${t.number} created${resolveNow ? " and resolved" : ""}`,
        color: "teal",
      });
      navigate(`/tickets/${t.number}`);
    },
  });
  const errors = fieldErrors(create.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    create.mutate();
  };
  const clientOptions = useMemo(() => {
    const opts = (clients.data ?? []).map((c) => ({ value: c.id, label: c.name }));
    if (contact && !opts.some((o) => o.value === contact.clientId))
      opts.push({ value: contact.clientId, label: contact.clientName });
    return opts;
  }, [clients.data, contact]);
  const mm = Math.floor(elapsed / 60);
  const ss = String(elapsed % 60).padStart(2, "0");

  return (
    <Box p="md">
      <Group justify="space-between" mb="sm">
        <div>
          <Title order={1}>Phone intake</Title>
          <Text c="dimmed" fz="sm">
            Type the caller's number, name or email. The contact and client fill in; their tickets show
            alongside.
          </Text>
        </div>
        <Badge size="lg" variant="light" color="teal" ff="monospace" title="Time on this call">
          ● {mm}:{ss}
        </Badge>
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
                    <Group justify="space-between">
                      <div>
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
                      <Button variant="subtle" onClick={() => setContact(null)}>
                        Change caller
                      </Button>
                    </Group>
                  </Paper>
                ) : (
                  <div>
                    <TextInput
                      label="Caller"
                      placeholder="(555) 201-3344, Dana, dana@smiles.example"
                      value={lookup}
                      onChange={(e) => setLookup(e.currentTarget.value)}
                      autoFocus
                      data-testid="caller-lookup"
                    />
                    <CallerMatches q={debounced} onPick={pick} />
                  </div>
                )}
                <Select
                  label="Client"
                  placeholder="Pick the client"
                  searchable
                  data={clientOptions}
                  value={clientId}
                  onChange={setClientId}
                  error={errors.clientId}
                  disabled={!!contact}
                  required
                />
                <div>
                  <TextInput
                    label="Subject"
                    placeholder="What is the call about?"
                    value={subject}
                    onChange={(e) => setSubject(e.currentTarget.value)}
                    error={errors.subject}
                    required
                  />
                  <Group gap={4} mt={6}>
                    {TEMPLATES.map((t) => (
                      <Button
                        key={t.label}
                        variant="default"
                        size="compact-xs"
                        onClick={() => {
                          setSubject(t.subject);
                          setType(t.type);
                          setPriority(String(t.priority));
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
                  onChange={(e) => setNotes(e.currentTarget.value)}
                  error={errors["call.notes"]}
                />
                <Group grow align="flex-start">
                  <div>
                    <Text fz="sm" fw={500} mb={4} id="prio-label">
                      Priority
                    </Text>
                    <SegmentedControl
                      fullWidth
                      size="xs"
                      aria-labelledby="prio-label"
                      value={priority}
                      onChange={setPriority}
                      data={[1, 2, 3, 4].map((p) => ({ value: String(p), label: PRIORITY_LABELS[p]! }))}
                    />
                  </div>
                  <Select
                    label="Type"
                    size="sm"
                    data={Object.entries(TYPE_LABELS).map(([value, label]) => ({ value, label }))}
                    value={type}
                    onChange={(v) => v && setType(v)}
                    allowDeselect={false}
                  />
                  <Select
                    label="Team"
                    size="sm"
                    placeholder="No team"
                    clearable
                    data={(teams.data ?? []).map((t) => ({ value: t.id, label: t.name }))}
                    value={teamId}
                    onChange={setTeamId}
                  />
                </Group>
                <Group gap="md" align="flex-end">
                  <Select
                    label="Call"
                    w={130}
                    data={[
                      { value: "inbound", label: "Inbound" },
                      { value: "outbound", label: "Outbound" },
                    ]}
                    value={direction}
                    onChange={(v) => v && setDirection(v as "inbound" | "outbound")}
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
                    onChange={setMinutes}
                    error={errors["call.durationSeconds"]}
                  />
                  <Checkbox
                    label="Assign to me"
                    checked={assignMe}
                    onChange={(e) => setAssignMe(e.currentTarget.checked)}
                  />
                  <Checkbox
                    label="Resolved on the call"
                    checked={resolveNow}
                    onChange={(e) => setResolveNow(e.currentTarget.checked)}
                    disabled={!resolvedStatus}
                  />
                </Group>
                {create.isError && Object.keys(errors).length === 0 && (
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
          <CallerHistory contact={contact} clientId={clientId} />
        </Grid.Col>
      </Grid>
    </Box>
  );
}
