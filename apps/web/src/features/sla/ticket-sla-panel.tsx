import { Anchor, Badge, Group, Stack, Text } from "@mantine/core";
import type { TicketSlaDto } from "@switchboard/shared";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { get } from "../../api/client.ts";
import type { TicketDto } from "../../api/types.ts";
import { Empty, Section, SectionRow } from "../../components/section.tsx";
import { SLA_TEXT, slaColour, span, useNow } from "./sla-badge.tsx";

type Target = TicketSlaDto["firstResponse"];

/** The ticket's SLA: each target's remaining time (or when it was met or breached), and the clock's audit. */
export function TicketSlaPanel({ ticket }: { ticket: TicketDto }) {
  const now = useNow();
  const [audit, setAudit] = useState(false);
  const sla = useQuery({
    // The ticket's own data changes (live events) refetch it: the key follows the ticket's version and SLA.
    queryKey: ["ticket-sla", ticket.id, ticket.version, ticket.sla?.state, ticket.sla?.dueAt],
    queryFn: () => get<TicketSlaDto>(`/tickets/${ticket.id}/sla`),
  });
  const d = sla.data;
  return (
    <Section id="ticket-sla" title="SLA" count={d?.policy?.name}>
      <Stack gap={0} data-testid="sla-panel">
        {d && !d.policy && <Empty>No SLA policy applies to this client.</Empty>}
        {d?.policy && (
          <>
            <TargetRow name="First response" t={d.firstResponse} now={now} />
            <TargetRow name="Resolution" t={d.resolution} now={now} />
            <SectionRow>
              <Text fz="xs" c="dimmed">
                {d.policy.calendarName} ({d.policy.timeZone}){d.paused ? " · clock paused" : ""}
              </Text>
              <Anchor
                component="button"
                type="button"
                fz="xs"
                onClick={() => setAudit((a) => !a)}
                aria-expanded={audit}
              >
                {audit ? "Hide the clock's history" : "Why this time?"}
              </Anchor>
            </SectionRow>
            {audit && (
              <Stack
                gap={2}
                px="sm"
                pb="xs"
                component="ol"
                style={{ listStyle: "none", margin: 0 }}
                aria-label="Clock history"
              >
                {d.segments.map((s) => (
                  <Text component="li" key={s.from} fz="xs">
                    <Badge size="xs" variant="light" color={s.state === "running" ? "blue" : "gray"} mr={6}>
                      {s.state === "running" ? "Counted" : s.state === "paused" ? "Paused" : "Stopped"}
                    </Badge>
                    {new Date(s.from).toLocaleString()} – {s.to ? new Date(s.to).toLocaleString() : "now"}:{" "}
                    {s.reason}
                  </Text>
                ))}
              </Stack>
            )}
          </>
        )}
      </Stack>
    </Section>
  );
}

function TargetRow({ name, t, now }: { name: string; t: Target; now: number }) {
  if (t.status === "none") return null;
  const due = t.dueAt ? new Date(t.dueAt).getTime() : null;
  const colour = slaColour(t.status === "running" ? "running" : t.status, due, now);
  let text: string;
  if (t.status === "met") text = `Met ${new Date(t.metAt!).toLocaleString()}`;
  else if (t.status === "breached") text = `Breached ${new Date(t.breachedAt!).toLocaleString()}`;
  else if (t.status === "paused") text = `Paused, ${span((t.targetMinutes ?? 0) - t.elapsedMinutes)} left`;
  else
    text =
      due! <= now
        ? "Due now"
        : `${span((due! - now) / 60_000)} left (due ${new Date(due!).toLocaleString()})`;
  return (
    <SectionRow>
      <Group gap={6} wrap="nowrap">
        <Text fz="sm">{name}</Text>
        <Text fz="xs" c="dimmed">
          {span(t.targetMinutes ?? 0)} target
        </Text>
      </Group>
      <Text
        fz="xs"
        c={SLA_TEXT[colour]}
        fw={colour === "red" ? 600 : undefined}
        data-testid={`sla-${name === "Resolution" ? "resolution" : "first-response"}`}
      >
        {text}
      </Text>
    </SectionRow>
  );
}
