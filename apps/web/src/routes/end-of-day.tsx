import { Grid, Skeleton, Stack, Text, Title } from "@mantine/core";
import { useMemo } from "react";
import { useMe, useTicketList } from "../api/hooks.ts";
import type { TicketListQuery } from "../api/types.ts";
import { startOfToday } from "../components/format.ts";
import { Empty, Section } from "../components/section.tsx";
import { TicketList, type TimeColumn } from "../features/tickets/ticket-list.tsx";

function Panel({
  id,
  title,
  query,
  empty,
  time,
  href,
  keyboard,
}: {
  id: string;
  title: string;
  query: TicketListQuery;
  empty: string;
  time: TimeColumn;
  href?: string;
  keyboard?: boolean;
}) {
  const list = useTicketList(query);
  const items = list.data?.items ?? [];
  return (
    <Section
      id={id}
      title={title}
      count={list.data ? `${items.length}${list.data.nextCursor ? "+" : ""}` : undefined}
      href={href}
    >
      {list.isPending ? (
        <Skeleton h={80} m="sm" />
      ) : (
        <TicketList
          label={title}
          items={items}
          timeColumn={time}
          keyboard={keyboard}
          hideAssignee
          empty={<Empty>{empty}</Empty>}
        />
      )}
    </Section>
  );
}

/** Closing out at five: what I resolved, what I still hold, and what nobody has taken. */
export function EndOfDayPage() {
  const me = useMe();
  const since = useMemo(() => startOfToday(), []);
  // What will breach before the desk opens again: due before 09:00 tomorrow (Monday after a Friday).
  const morning = useMemo(() => {
    const d = new Date();
    d.setDate(d.getDate() + (d.getDay() === 5 ? 3 : d.getDay() === 6 ? 2 : 1));
    d.setHours(9, 0, 0, 0);
    return d.toISOString();
  }, []);
  if (!me.data) return null;
  return (
    <Stack p="md" gap="md">
      <div>
        <Title order={1}>End of day</Title>
        <Text c="dimmed" fz="sm">
          Hand over cleanly: set follow-ups on what you hold, and make sure nothing unassigned is left
          burning.
        </Text>
      </div>
      <Grid gap="md">
        <Grid.Col span={{ base: 12, lg: 6 }}>
          <Panel
            id="resolved-today"
            title="Resolved by me today"
            query={{
              queue: "all",
              state: "closed",
              assigneeId: [me.data.id],
              resolvedSince: since,
              sort: "newest",
              limit: 200,
            }}
            time="resolved"
            empty="Nothing resolved yet today."
            keyboard
          />
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 6 }}>
          <Stack gap="md">
            <Panel
              id="still-mine"
              title="Still mine (open)"
              query={{ queue: "mine", sort: "priority", limit: 200 }}
              time="age"
              href="/queues/mine"
              empty="You hold nothing open. Well done."
            />
            <Panel
              id="breach-overnight"
              title="SLA due before the morning"
              query={{ queue: "all", sort: "sla_due", slaDueBefore: morning, limit: 200 }}
              time="sla"
              href="/queues/all?sort=sla_due"
              empty="Nothing will breach before the morning."
            />
            <Panel
              id="unassigned-eod"
              title="Unassigned in my teams"
              query={{ queue: "unassigned", sort: "priority", limit: 200 }}
              time="age"
              href="/queues/unassigned"
              empty="Every team ticket has an owner."
            />
          </Stack>
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
