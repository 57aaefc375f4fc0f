import { Button, Group, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Link } from "wouter";
import { api, get } from "../../api/client.ts";
import type { Timer } from "../../api/work-types.ts";

export const timerKey = ["timer"] as const;

export function useTimer() {
  return useQuery({ queryKey: timerKey, queryFn: () => get<Timer>("/timer"), staleTime: 60_000 });
}

/** Seconds since `iso`, ticking every second while shown. */
function useElapsed(iso: string | undefined) {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    if (!iso) return;
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, [iso]);
  return iso ? Math.max(0, Math.floor((now - Date.parse(iso)) / 1000)) : 0;
}

export const clock = (s: number) =>
  `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}:${String(s % 60).padStart(2, "0")}`;

export function useTimerActions() {
  const qc = useQueryClient();
  const done = (t: Timer) => {
    qc.setQueryData(timerKey, t);
    qc.invalidateQueries({ queryKey: ["time-entries"] });
  };
  const start = useMutation({
    mutationFn: (body: { ticketId?: string; clientId?: string; projectTaskId?: string; workType?: string }) =>
      api<Timer>("POST", "/timer/start", { body }),
    onSuccess: done,
    onError: (e) => notifications.show({ color: "red", title: "Timer not started", message: e.message }),
  });
  const stop = useMutation({
    mutationFn: () => api<Timer>("POST", "/timer/stop", { body: {} }),
    onSuccess: (t) => {
      done(t);
      if (t.stopped)
        notifications.show({
          title: "Time logged",
          message: `${t.stopped.minutes} min on ${t.stopped.clientName}`,
        });
    },
    onError: (e) => notifications.show({ color: "red", title: "Timer not stopped", message: e.message }),
  });
  return { start, stop };
}

/** The running timer in the header, on every page: it lives on the server, so a reload keeps it. */
export function TimerIndicator() {
  const timer = useTimer();
  const running = timer.data?.running ?? null;
  const elapsed = useElapsed(running?.startedAt);
  const { stop } = useTimerActions();
  if (!running) return null;
  const what = running.ticketNumber ? `#${running.ticketNumber}` : running.clientName;
  return (
    <Group gap={6} wrap="nowrap" data-testid="timer-indicator">
      <Text fz="sm" ff="monospace" aria-live="off">
        {clock(elapsed)}
      </Text>
      {running.ticketNumber ? (
        <Text
          component={Link}
          href={`/tickets/${running.ticketNumber}`}
          fz="sm"
          className="sb-ellipsis"
          maw={120}
        >
          {what}
        </Text>
      ) : (
        <Text fz="sm" className="sb-ellipsis" maw={120}>
          {what}
        </Text>
      )}
      <Button
        size="compact-xs"
        variant="light"
        color="red"
        onClick={() => stop.mutate()}
        loading={stop.isPending}
      >
        Stop timer
      </Button>
    </Group>
  );
}

export function useRunningElapsed(iso: string | undefined) {
  return useElapsed(iso);
}
