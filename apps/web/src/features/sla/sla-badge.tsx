import { Badge, Text, Tooltip } from "@mantine/core";
import { useEffect, useState } from "react";
import type { TicketSummaryDto } from "../../api/types.ts";

/** "2h 05m", "3d 4h", "12m": a span in minutes, short. */
export function span(minutes: number): string {
  const m = Math.max(0, Math.round(minutes));
  if (m < 60) return `${m}m`;
  if (m < 24 * 60) return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, "0")}m`;
  return `${Math.floor(m / 1440)}d ${Math.floor((m % 1440) / 60)}h`;
}

/** Re-renders every 30 s so countdowns move without a refetch. */
export function useNow(intervalMs = 30_000) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    const id = setInterval(() => setNow(Date.now()), intervalMs);
    return () => clearInterval(id);
  }, [intervalMs]);
  return now;
}

/** Colour as the clock nears its due time: red when breached or under 30 minutes, orange under 2 hours. */
export function slaColour(state: string, dueMs: number | null, now: number) {
  if (state === "breached") return "red";
  if (state === "paused") return "gray";
  if (state === "met") return "teal";
  if (dueMs === null) return "gray";
  const left = (dueMs - now) / 60_000;
  return left <= 30 ? "red" : left <= 120 ? "orange" : "blue";
}

/** Text in that colour that keeps 4.5:1 on the page (the plain shades are too light for small text). */
export const SLA_TEXT: Record<string, string | undefined> = {
  red: "red.9",
  orange: "#a84300",
  teal: "teal.9",
};

/** The SLA countdown of a queue row: time left, "Paused", or how long ago it breached. */
export function SlaBadge({ sla, now }: { sla: TicketSummaryDto["sla"]; now: number }) {
  if (!sla || sla.state === "met")
    return (
      <Text span fz="xs" c="dimmed" title="No SLA running">
        —
      </Text>
    );
  const due = sla.dueAt ? new Date(sla.dueAt).getTime() : null;
  const colour = slaColour(sla.state, due, now);
  const text =
    sla.state === "paused"
      ? "Paused"
      : sla.state === "breached"
        ? `Late ${span((now - (due ?? now)) / 60_000)}`
        : due !== null && due <= now
          ? "Due now"
          : `${span(((due ?? now) - now) / 60_000)}`;
  const label =
    sla.state === "paused"
      ? "SLA clock paused"
      : sla.state === "breached"
        ? `SLA breached at ${new Date(due!).toLocaleString()}`
        : `SLA due ${new Date(due!).toLocaleString()}`;
  return (
    <Tooltip label={label}>
      <Badge
        size="sm"
        // Filled only in the darkest red; orange as dark text on its light tint: both keep 4.5:1.
        variant={colour === "red" ? "filled" : "light"}
        color={colour === "red" ? "red.9" : colour}
        c={colour === "orange" ? SLA_TEXT.orange : undefined}
        aria-label={label}
        data-testid="sla-badge"
      >
        {text}
      </Badge>
    </Tooltip>
  );
}
