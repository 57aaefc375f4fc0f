import { Alert, Badge, Button, Group, Paper, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import type { PageDto, RotationDto } from "@switchboard/shared";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Link } from "wouter";
import { api, get } from "../../api/client.ts";
import { useMe } from "../../api/hooks.ts";
import { Empty, Section } from "../../components/section.tsx";
import { FormError } from "../admin/ui.tsx";
import { RotaForm } from "./rota-form.tsx";

type Shifts = {
  shifts: Array<{ user: { id: string; name: string } | null; start: string; end: string; override: boolean }>;
};

const when = (iso: string) =>
  new Date(iso).toLocaleString(undefined, {
    weekday: "short",
    month: "short",
    day: "numeric",
    hour: "2-digit",
    minute: "2-digit",
  });

/** "I'm on call": what is paging now, who is on call, the rota's calendar, taking a shift. */
export function OnCallPage() {
  const me = useMe();
  const rotas = useQuery({
    queryKey: ["oncall", "rotations"],
    queryFn: () => get<RotationDto[]>("/oncall/rotations"),
  });
  const pages = useQuery({
    queryKey: ["oncall", "pages"],
    queryFn: () => get<PageDto[]>("/oncall/pages", { status: "all" }),
  });
  const active = (pages.data ?? []).filter((p) => p.status !== "acknowledged");
  const recent = (pages.data ?? []).filter((p) => p.status === "acknowledged").slice(0, 10);
  return (
    <Stack p="md" gap="md" maw={1100}>
      <div>
        <Title order={1}>On call</Title>
        <Text c="dimmed" fz="sm">
          Who is on call, what is paging now, and the rota. P1s and SLA breaches outside business hours page
          the on-call technician by text and mail; unacknowledged, the page moves to the next person.
        </Text>
      </div>
      <Section id="paging-now" title="Paging now" count={active.length}>
        <Stack gap={0}>
          {active.map((p) => (
            <PageRow key={p.id} page={p} />
          ))}
          {pages.data && active.length === 0 && <Empty>Nothing is paging.</Empty>}
        </Stack>
      </Section>
      {(rotas.data ?? []).map((r) => (
        <RotaSection
          key={r.id}
          rota={r}
          meId={me.data?.id ?? null}
          canEdit={me.data?.role === "admin" && me.data.allClients}
        />
      ))}
      {rotas.data && rotas.data.length === 0 && (
        <Paper p="sm">
          <Text fz="sm">No rota yet.</Text>
        </Paper>
      )}
      {me.data?.role === "admin" && me.data.allClients && <RotaForm />}
      {recent.length > 0 && (
        <Section id="paged-recently" title="Acknowledged">
          <Stack gap={0}>
            {recent.map((p) => (
              <PageRow key={p.id} page={p} />
            ))}
          </Stack>
        </Section>
      )}
    </Stack>
  );
}

const STATUS_COLOUR = { paging: "red", exhausted: "orange", acknowledged: "teal" } as const;

function PageRow({ page }: { page: PageDto }) {
  const qc = useQueryClient();
  const done = () => qc.invalidateQueries({ queryKey: ["oncall"] });
  const ack = useMutation({ mutationFn: () => api("POST", `/oncall/pages/${page.id}/ack`), onSuccess: done });
  const retry = useMutation({
    mutationFn: () => api("POST", `/oncall/pages/${page.id}/retry`),
    onSuccess: done,
  });
  const failed = page.deliveries.filter((d) => d.status !== "sent" && d.level === page.level);
  return (
    <Stack
      gap={4}
      px="sm"
      py={8}
      style={{ borderBottom: "1px solid var(--mantine-color-default-border)" }}
      data-testid="page-row"
    >
      <Group justify="space-between" wrap="nowrap">
        <Group gap={8} wrap="nowrap" style={{ minWidth: 0 }}>
          <Badge color={STATUS_COLOUR[page.status]} variant="filled" size="sm">
            {page.status === "exhausted" ? "Nobody acknowledged" : page.status}
          </Badge>
          {page.ticket ? (
            <Text component={Link} href={`/tickets/${page.ticket.number}`} fz="sm" className="sb-ellipsis">
              {page.summary}
            </Text>
          ) : (
            <Text fz="sm">{page.summary}</Text>
          )}
        </Group>
        <Group gap={6} wrap="nowrap">
          {page.status === "paging" && failed.some((d) => d.status === "failed") && (
            <Button
              size="compact-xs"
              variant="default"
              loading={retry.isPending}
              onClick={() => retry.mutate()}
            >
              Retry
            </Button>
          )}
          {page.status !== "acknowledged" && (
            <Button size="compact-xs" loading={ack.isPending} onClick={() => ack.mutate()}>
              Acknowledge
            </Button>
          )}
        </Group>
      </Group>
      <Text fz="xs" c="dimmed">
        {page.client.name} · {when(page.createdAt)}
        {page.status === "paging" && page.paging
          ? ` · paging ${page.paging.name} (level ${page.level + 1} of ${page.maxLevels})`
          : ""}
        {page.acknowledgedBy
          ? ` · acknowledged by ${page.acknowledgedBy.name} ${when(page.acknowledgedAt!)}`
          : ""}
      </Text>
      {failed.map((d) => (
        <Text
          key={`${d.channel}-${d.at}`}
          fz="xs"
          c={d.status === "failed" ? "red.8" : "orange.9"}
          role="status"
        >
          {d.channel === "sms" ? "Text" : "Mail"} to {d.user?.name ?? "?"}{" "}
          {d.status === "failed" ? "failed" : "not sent"}: {d.error}
        </Text>
      ))}
      <FormError error={ack.error ?? retry.error} />
    </Stack>
  );
}

function RotaSection({ rota, meId, canEdit }: { rota: RotationDto; meId: string | null; canEdit: boolean }) {
  const [from] = useState(() => {
    const d = new Date();
    d.setHours(0, 0, 0, 0);
    return d;
  });
  const to = new Date(from.getTime() + 21 * 86_400_000);
  const shifts = useQuery({
    queryKey: ["oncall", "shifts", rota.id, from.toISOString()],
    queryFn: () =>
      get<Shifts>(`/oncall/rotations/${rota.id}/shifts`, { from: from.toISOString(), to: to.toISOString() }),
  });
  const [editing, setEditing] = useState(false);
  return (
    <Section
      id={`rota-${rota.id}`}
      title={rota.name}
      count={rota.pages ? "pages" : undefined}
      actions={
        canEdit ? (
          <Button size="compact-xs" variant="subtle" onClick={() => setEditing((e) => !e)}>
            {editing ? "Close" : "Edit"}
          </Button>
        ) : undefined
      }
    >
      <Stack gap="xs" p="sm">
        <Text fz="sm" data-testid="on-call-now">
          {rota.onCallNow ? (
            <>
              On call now: <b>{rota.onCallNow.name}</b> until {when(rota.onCallNow.until)}
            </>
          ) : (
            <Text span c="red.8" fw={600}>
              Nobody is on call now
            </Text>
          )}
        </Text>
        <Text fz="xs" c="dimmed">
          {rota.period === "weekly" ? "Weekly" : "Daily"} hand-over at {rota.handover} ({rota.timeZone}) ·
          escalates after {rota.escalateAfterMinutes} min ·{" "}
          {rota.members.map((m) => m.name).join(" → ") || "no members"}
          {rota.calendar ? ` · pages outside ${rota.calendar.name}` : " · pages at any hour"}
        </Text>
        {editing && <RotaForm rota={rota} onDone={() => setEditing(false)} />}
        <Table aria-label={`${rota.name}: who is on call, next three weeks`} fz="sm">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>On call</Table.Th>
              <Table.Th>From</Table.Th>
              <Table.Th>To</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(shifts.data?.shifts ?? []).map((s) => (
              <Table.Tr key={s.start} data-testid="shift">
                <Table.Td>
                  {s.user ? (
                    <>
                      {s.user.name}
                      {s.override && (
                        <Badge size="xs" variant="light" ml={6}>
                          override
                        </Badge>
                      )}
                    </>
                  ) : (
                    <Text span c="red.8" fw={600} fz="sm">
                      Nobody (a gap)
                    </Text>
                  )}
                </Table.Td>
                <Table.Td>{when(s.start)}</Table.Td>
                <Table.Td>{when(s.end)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {meId && <TakeShift rotaId={rota.id} meId={meId} />}
      </Stack>
    </Section>
  );
}

/** "I'll take Tuesday": an override for me, in my browser's time. */
function TakeShift({ rotaId, meId }: { rotaId: string; meId: string }) {
  const qc = useQueryClient();
  const [start, setStart] = useState("");
  const [end, setEnd] = useState("");
  const take = useMutation({
    mutationFn: () =>
      api("POST", `/oncall/rotations/${rotaId}/overrides`, {
        body: { userId: meId, startsAt: new Date(start).toISOString(), endsAt: new Date(end).toISOString() },
      }),
    onSuccess: () => {
      setStart("");
      setEnd("");
      qc.invalidateQueries({ queryKey: ["oncall"] });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    take.mutate();
  };
  return (
    <form onSubmit={submit} aria-label="Take a shift">
      <Group align="flex-end" gap="xs">
        <TextInput
          type="datetime-local"
          label="I'll take it from"
          required
          value={start}
          onChange={(e) => setStart(e.currentTarget.value)}
        />
        <TextInput
          type="datetime-local"
          label="until"
          required
          value={end}
          onChange={(e) => setEnd(e.currentTarget.value)}
        />
        <Button size="xs" type="submit" loading={take.isPending} mb={2}>
          Take this shift
        </Button>
      </Group>
      {take.error && (
        <Alert color="red" p="xs" mt="xs" role="alert">
          {(take.error as Error).message}
        </Alert>
      )}
    </form>
  );
}
