import { Box, Group, Loader, Text, Title } from "@mantine/core";
import { useInfiniteQuery } from "@tanstack/react-query";
import { useCallback, useMemo, useState } from "react";
import { useLocation, useParams, useSearch } from "wouter";
import { get } from "../api/client.ts";
import { useMe } from "../api/hooks.ts";
import { keys } from "../api/keys.ts";
import type { Page, TicketSummaryDto } from "../api/types.ts";
import { ErrorPage } from "../components/error-page.tsx";
import { Empty } from "../components/section.tsx";
import { BulkBar } from "../features/tickets/bulk-bar.tsx";
import { FILTER_KEYS, type Filters, QueueFilters } from "../features/tickets/queue-filters.tsx";
import { TicketList, type TimeColumn } from "../features/tickets/ticket-list.tsx";

const QUEUES: Record<string, { title: string; time: TimeColumn; hint: string; empty?: string }> = {
  mine: { title: "My tickets", time: "age", hint: "Assigned to you", empty: "Nothing assigned to you." },
  team: { title: "My teams", time: "age", hint: "Every ticket in your teams' queues" },
  unassigned: { title: "Unassigned", time: "age", hint: "In your teams (or no team) and nobody owns them" },
  waiting: {
    title: "Waiting",
    time: "waiting",
    hint: "Waiting on a client or a third party, and for how long",
  },
  follow_ups: {
    title: "Follow-ups due",
    time: "follow_up",
    hint: "Snoozed tickets whose follow-up date has come",
    empty: "No follow-ups are due today.",
  },
  all: { title: "All tickets", time: "age", hint: "Every ticket you can see" },
};

const PAGE = 200;

export function QueuePage() {
  const { queue = "all" } = useParams<{ queue: string }>();
  const search = useSearch();
  const [, navigate] = useLocation();
  const me = useMe();
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const meta = QUEUES[queue];

  const filters = useMemo<Filters>(() => {
    const p = new URLSearchParams(search);
    const f: Filters = {};
    for (const k of FILTER_KEYS) {
      const v = p.get(k);
      if (v) f[k] = v;
    }
    return f;
  }, [search]);

  const query = useMemo(() => ({ queue, ...filters, limit: PAGE }), [queue, filters]);
  const list = useInfiniteQuery({
    queryKey: [...keys.ticketList(query), "infinite"],
    queryFn: ({ pageParam, signal }) =>
      get<Page<TicketSummaryDto>>("/tickets", { ...query, cursor: pageParam ?? undefined }, signal),
    initialPageParam: null as string | null,
    getNextPageParam: (last) => last.nextCursor,
    enabled: !!meta,
  });
  const items = useMemo(() => list.data?.pages.flatMap((p) => p.items) ?? [], [list.data]);
  const { hasNextPage, isFetchingNextPage, fetchNextPage } = list;
  const onEnd = useCallback(() => {
    if (hasNextPage && !isFetchingNextPage) fetchNextPage();
  }, [hasNextPage, isFetchingNextPage, fetchNextPage]);

  if (!meta) return <ErrorPage status={404} />;
  const setFilters = (f: Filters) => {
    const qs = new URLSearchParams(f).toString();
    navigate(`/queues/${queue}${qs ? `?${qs}` : ""}`, { replace: true });
    setSelected(new Set());
  };
  const canWrite = me.data?.role !== "readonly";
  const timeColumn =
    filters.sort === "activity"
      ? "activity"
      : filters.sort === "sla_due"
        ? "sla"
        : filters.state === "closed"
          ? "resolved"
          : meta.time;

  return (
    <Box style={{ display: "flex", flexDirection: "column", height: "calc(100dvh - 48px)" }}>
      <Box px="md" pt="sm" pb={8}>
        <Group justify="space-between" align="flex-end" gap="xs">
          <div>
            <Group gap={8} align="baseline">
              <Title order={1}>{meta.title}</Title>
              <Text c="dimmed" fz="sm" data-testid="queue-count">
                {list.data
                  ? `${items.length}${hasNextPage ? "+" : ""} ticket${items.length === 1 && !hasNextPage ? "" : "s"}`
                  : ""}
              </Text>
              {list.isFetching && <Loader size={12} />}
            </Group>
            <Text c="dimmed" fz="xs">
              {meta.hint} · j/k to move, Enter to open{canWrite ? ", x to select" : ""}
            </Text>
          </div>
        </Group>
        <Box mt={8}>
          <QueueFilters filters={filters} onChange={setFilters} queue={queue} />
        </Box>
      </Box>
      {selected.size > 0 && canWrite && <BulkBar ids={[...selected]} onDone={() => setSelected(new Set())} />}
      <Box style={{ flex: 1, minHeight: 0, borderTop: "1px solid var(--mantine-color-default-border)" }}>
        {list.isError ? (
          <ErrorPage error={list.error} onRetry={() => list.refetch()} />
        ) : list.isPending ? (
          <Empty>Loading…</Empty>
        ) : (
          <TicketList
            label={meta.title}
            items={items}
            keyboard
            selectable={canWrite}
            selected={selected}
            onSelectedChange={setSelected}
            timeColumn={timeColumn}
            height="fill"
            onEndReached={onEnd}
            empty={
              <Empty>
                {Object.keys(filters).some((k) => k !== "sort")
                  ? "No tickets match. Clear a filter or pick another queue."
                  : (meta.empty ?? "Nothing here right now.")}
              </Empty>
            }
          />
        )}
      </Box>
    </Box>
  );
}
