import { Box, Button, Grid, Group, Skeleton, Stack, Text, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "wouter";
import { api, get } from "../api/client.ts";
import { useMe, useTicketList } from "../api/hooks.ts";
import { keys } from "../api/keys.ts";
import type { ChangesDto } from "../api/types.ts";
import { ErrorPage } from "../components/error-page.tsx";
import { relative } from "../components/format.ts";
import { Empty, Section } from "../components/section.tsx";
import { TicketList, type TimeColumn } from "../features/tickets/ticket-list.tsx";

const KIND_LABEL: Record<string, string> = {
  "ticket.created": "created",
  "ticket.updated": "updated",
  "ticket.timeline_added": "new entry",
  "ticket.merged": "merged",
};

function ChangesPanel() {
  const qc = useQueryClient();
  const changes = useQuery({ queryKey: keys.changes, queryFn: () => get<ChangesDto>("/me/changes") });
  const seen = useMutation({
    mutationFn: () => api("POST", "/me/changes/seen", { body: {} }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.changes }),
  });
  const items = changes.data?.items ?? [];
  return (
    <Section
      id="changes-title"
      title="Changed since I last looked"
      count={items.length}
      actions={
        items.length > 0 && (
          <Button variant="subtle" size="compact-xs" onClick={() => seen.mutate()} loading={seen.isPending}>
            Mark all seen
          </Button>
        )
      }
    >
      {changes.isPending ? (
        <Skeleton h={60} m="sm" />
      ) : items.length === 0 ? (
        <Empty>
          Nothing new on your tickets{changes.data ? ` since ${relative(changes.data.since)}` : ""}.
        </Empty>
      ) : (
        <Stack gap={0} data-testid="changes">
          {items.map((c) => (
            <Box
              key={c.ticketId}
              component={Link}
              href={`/tickets/${c.number}`}
              px="sm"
              py={6}
              style={{
                borderBottom: "1px solid var(--mantine-color-default-border)",
                color: "inherit",
                textDecoration: "none",
              }}
            >
              <Group justify="space-between" wrap="nowrap" gap="xs">
                <Text fz="sm" className="sb-ellipsis">
                  <Text span c="dimmed" ff="monospace" fz="xs">
                    #{c.number}
                  </Text>{" "}
                  {c.subject}
                </Text>
                <Text fz="xs" c="dimmed" style={{ whiteSpace: "nowrap" }}>
                  {relative(c.lastAt)}
                </Text>
              </Group>
              <Text fz="xs" c="dimmed" className="sb-ellipsis">
                {c.client.name} · {c.kinds.map((k) => KIND_LABEL[k] ?? k).join(", ")}
                {c.lastActor ? ` by ${c.lastActor}` : ""}
                {c.count > 1 ? ` (${c.count})` : ""}
              </Text>
            </Box>
          ))}
        </Stack>
      )}
    </Section>
  );
}

function QueuePanel(props: {
  id: string;
  title: string;
  href: string;
  query: Parameters<typeof useTicketList>[0];
  timeColumn?: TimeColumn;
  empty: string;
  keyboard?: boolean;
  compact?: boolean;
  hideAssignee?: boolean;
}) {
  const list = useTicketList(props.query);
  const items = list.data?.items ?? [];
  const count = list.data ? (list.data.nextCursor ? `${items.length}+` : items.length) : undefined;
  return (
    <Section id={props.id} title={props.title} count={count} href={props.href}>
      {list.isPending ? (
        <Skeleton h={100} m="sm" />
      ) : list.isError ? (
        <Empty>Could not load: {list.error.message}</Empty>
      ) : (
        <TicketList
          label={props.title}
          items={items}
          keyboard={props.keyboard}
          timeColumn={props.timeColumn}
          compact={props.compact}
          hideAssignee={props.hideAssignee}
          empty={<Empty>{props.empty}</Empty>}
        />
      )}
    </Section>
  );
}

export function MyDayPage() {
  const me = useMe();
  if (!me.data) return <ErrorPage status={0} />;
  const hour = new Date().getHours();
  const greeting = hour < 12 ? "Good morning" : hour < 18 ? "Good afternoon" : "Good evening";
  return (
    <Stack p="md" gap="md">
      <Group justify="space-between">
        <div>
          <Title order={1}>My day</Title>
          <Text c="dimmed" fz="sm">
            {greeting}, {me.data.name.split(" ")[0]}. Work top to bottom: critical first, then the oldest.
          </Text>
        </div>
        <Button component={Link} href="/intake" size="sm" variant="light">
          New call{" "}
          <Text span c="dimmed" ml={6} fz="xs">
            i
          </Text>
        </Button>
      </Group>
      <Grid gap="md">
        <Grid.Col span={{ base: 12, lg: 8 }}>
          <Stack gap="md">
            <QueuePanel
              id="mine-title"
              title="My open tickets"
              href="/queues/mine"
              query={{ queue: "mine", sort: "priority", limit: 100 }}
              empty="Nothing assigned to you is open. Take one from Unassigned."
              hideAssignee
              keyboard
            />
            <QueuePanel
              id="unassigned-title"
              title="Unassigned in my teams"
              href="/queues/unassigned"
              query={{ queue: "unassigned", sort: "priority", limit: 50 }}
              empty="Every team ticket has an owner."
              hideAssignee
            />
          </Stack>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 4 }}>
          <Stack gap="md">
            <ChangesPanel />
            <QueuePanel
              id="followups-title"
              title="Follow-ups due today"
              href="/queues/follow_ups"
              query={{ queue: "follow_ups", assigneeId: [me.data.id], sort: "follow_up", limit: 50 }}
              timeColumn="follow_up"
              compact
              empty="No follow-ups due today."
            />
            <QueuePanel
              id="waiting-title"
              title="Waiting on others"
              href="/queues/waiting"
              query={{ queue: "waiting", assigneeId: [me.data.id], sort: "age", limit: 50 }}
              timeColumn="waiting"
              compact
              empty="Nothing of yours is waiting on a client or third party."
            />
          </Stack>
        </Grid.Col>
      </Grid>
    </Stack>
  );
}
