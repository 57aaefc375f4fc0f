import { Checkbox, Group, Text, Tooltip } from "@mantine/core";
import { useVirtualizer } from "@tanstack/react-virtual";
import { type CSSProperties, type ReactNode, useEffect, useRef, useState } from "react";
import { Link, useLocation } from "wouter";
import type { TicketSummaryDto } from "../../api/types.ts";
import { PriorityBadge, StatusBadge, VipBadge } from "../../components/badges.tsx";
import { age, dateOnly } from "../../components/format.ts";
import { SlaBadge, useNow } from "../sla/sla-badge.tsx";

const ROW_H = 34;
export type TimeColumn = "age" | "waiting" | "follow_up" | "activity" | "resolved" | "sla";
const TIME_LABEL: Record<TimeColumn, string> = {
  age: "Age",
  waiting: "Waiting",
  follow_up: "Follow-up",
  activity: "Activity",
  resolved: "Resolved",
  sla: "SLA",
};

function timeCell(t: TicketSummaryDto, col: TimeColumn, now: number): ReactNode {
  switch (col) {
    case "sla":
      return <SlaBadge sla={t.sla} now={now} />;
    case "waiting":
      return age(t.statusChangedAt);
    case "follow_up":
      return t.followUpAt ? dateOnly(t.followUpAt) : "—";
    case "activity":
      return age(t.lastActivityAt);
    case "resolved":
      return t.resolvedAt ? age(t.resolvedAt) : "—";
    default:
      return age(t.createdAt);
  }
}

export const isTyping = (el: EventTarget | null) => {
  const e = el as HTMLElement | null;
  if (!e) return false;
  return (
    e.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(e.tagName) || !!e.closest("[role=dialog]")
  );
};

interface Props {
  items: TicketSummaryDto[];
  /** Only one list on a page listens to j/k/Enter/x. */
  keyboard?: boolean;
  selectable?: boolean;
  selected?: Set<string>;
  onSelectedChange?: (s: Set<string>) => void;
  timeColumn?: TimeColumn;
  /** "fill" takes the parent's height; a number fixes it; omitted sizes to the rows (short lists). */
  height?: number | "fill";
  /** Priority, number, subject and time only: for side panels. */
  compact?: boolean;
  /** For lists whose assignee is implied (mine, unassigned): one column less, room for the subject. */
  hideAssignee?: boolean;
  /** For lists of one client's tickets (the client page): its name in every row says nothing. */
  hideClient?: boolean;
  onEndReached?: () => void;
  label: string;
  empty?: ReactNode;
}

/**
 * A virtualised ticket list: only the rows in view are in the DOM, so 10,000 rows scroll like 50.
 * Rows are fixed height, which keeps the virtualiser exact and the list calm.
 */
export function TicketList({
  items,
  keyboard = false,
  selectable = false,
  selected,
  onSelectedChange,
  timeColumn = "age",
  height,
  compact = false,
  hideAssignee = false,
  hideClient = false,
  onEndReached,
  label,
  empty,
}: Props) {
  const scrollRef = useRef<HTMLDivElement>(null);
  const [active, setActive] = useState(0);
  const now = useNow();
  const [, navigate] = useLocation();
  const v = useVirtualizer({
    count: items.length,
    getScrollElement: () => scrollRef.current,
    estimateSize: () => ROW_H,
    overscan: 12,
  });
  // Each row is its own grid (the virtualiser places rows absolutely), so columns have fixed tracks. The
  // status track fits "Waiting on client" whole. Under 640 px (a phone) the narrow tracks apply: number,
  // client and assignee cells (.sb-col-wide) are hidden so status and time stay on screen.
  const cols = compact
    ? "38px 58px minmax(0, 1fr) 70px"
    : `${selectable ? "24px " : ""}38px 62px minmax(120px, 3fr) ${hideClient ? "" : "minmax(80px, 1.2fr) "}128px ${
        hideAssignee ? "" : "minmax(70px, 1fr) "
      }62px`;
  const narrowCols = compact ? cols : `${selectable ? "24px " : ""}34px minmax(0, 1fr) 118px 44px`;
  const gridVars = { "--sb-cols": cols, "--sb-cols-narrow": narrowCols } as CSSProperties;
  const fill = height === "fill";

  const virtualItems = v.getVirtualItems();
  const last = virtualItems[virtualItems.length - 1];
  useEffect(() => {
    if (onEndReached && last && last.index >= items.length - 20) onEndReached();
  }, [last, items.length, onEndReached]);

  useEffect(() => {
    if (active >= items.length) setActive(Math.max(0, items.length - 1));
  }, [items.length, active]);

  const toggle = (id: string) => {
    if (!onSelectedChange || !selected) return;
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    onSelectedChange(next);
  };

  // Registered once per list; reads the latest render through a ref so no key meets a stale closure.
  const onKeyRef = useRef<(e: KeyboardEvent) => void>(() => {});
  onKeyRef.current = (e: KeyboardEvent) => {
    if (e.ctrlKey || e.metaKey || e.altKey || isTyping(e.target)) return;
    if (e.key === "j" || e.key === "k") {
      e.preventDefault();
      // j/k means "I am in the list now": a link clicked before (a sidebar queue) must not keep the
      // focus, or the next Enter would follow that link again instead of opening the highlighted row.
      const focus = document.activeElement as HTMLElement | null;
      if (focus && focus !== document.body && !scrollRef.current?.contains(focus)) focus.blur();
      setActive((a) => {
        const n = Math.max(0, Math.min(items.length - 1, a + (e.key === "j" ? 1 : -1)));
        v.scrollToIndex(n, { align: "auto" });
        return n;
      });
    } else if (e.key === "Enter") {
      const t = items[active];
      const focus = document.activeElement;
      // Enter on a focused control means that control; on the page it opens the highlighted row.
      if (t && (!focus || focus === document.body || scrollRef.current?.contains(focus))) {
        e.preventDefault();
        navigate(`/tickets/${t.number}`);
      }
    } else if (e.key === "x" && selectable) {
      const t = items[active];
      if (t) toggle(t.id);
    }
  };
  useEffect(() => {
    if (!keyboard) return;
    const onKey = (e: KeyboardEvent) => onKeyRef.current(e);
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [keyboard]);

  if (items.length === 0 && empty) return <>{empty}</>;

  const allSelected = selectable && items.length > 0 && items.every((t) => selected?.has(t.id));
  const header = (
    <tr className="sb-row sb-row-head" style={gridVars}>
      {selectable && (
        <th>
          <Checkbox
            size="xs"
            aria-label="Select all loaded tickets"
            checked={allSelected}
            indeterminate={!allSelected && (selected?.size ?? 0) > 0}
            onChange={() => onSelectedChange?.(allSelected ? new Set() : new Set(items.map((t) => t.id)))}
          />
        </th>
      )}
      <th>Pri</th>
      <th className={compact ? undefined : "sb-col-wide"}>#</th>
      <th>Subject</th>
      {!compact && (
        <>
          {!hideClient && <th className="sb-col-wide">Client</th>}
          <th>Status</th>
          {!hideAssignee && <th className="sb-col-wide">Assignee</th>}
        </>
      )}
      <th style={{ textAlign: "right" }}>{TIME_LABEL[timeColumn]}</th>
    </tr>
  );

  // A real table for assistive technology; CSS grid rows so the virtualiser can place them absolutely.
  return (
    <div
      ref={scrollRef}
      style={
        fill
          ? { height: "100%", overflow: "auto", contain: "strict" }
          : {
              height: typeof height === "number" ? height : (Math.min(items.length, 12) + 1) * ROW_H + 2,
              overflow: "auto",
              contain: "strict",
            }
      }
    >
      <table
        aria-label={label}
        aria-rowcount={items.length + 1}
        data-testid="ticket-list"
        className="sb-table"
      >
        <thead className="sb-thead">{header}</thead>
        <tbody style={{ height: v.getTotalSize() }}>
          {virtualItems.map((vi) => {
            const t = items[vi.index]!;
            return (
              // The row click is a mouse convenience; keyboards use j/k/Enter or the subject link.
              <tr
                key={t.id}
                aria-rowindex={vi.index + 2}
                className="sb-row"
                data-current={keyboard && vi.index === active}
                data-selected={selected?.has(t.id) ?? false}
                data-ticket-number={t.number}
                onClick={(e) => {
                  if ((e.target as HTMLElement).closest("a, input, button")) return;
                  setActive(vi.index);
                  navigate(`/tickets/${t.number}`);
                }}
                style={{
                  ...gridVars,
                  position: "absolute",
                  top: 0,
                  left: 0,
                  right: 0,
                  transform: `translateY(${vi.start}px)`,
                }}
              >
                {selectable && (
                  <td>
                    <Checkbox
                      size="xs"
                      aria-label={`Select #${t.number}`}
                      checked={selected?.has(t.id) ?? false}
                      onChange={() => toggle(t.id)}
                    />
                  </td>
                )}
                <td>
                  <PriorityBadge priority={t.priority} />
                </td>
                <td className={compact ? undefined : "sb-col-wide"}>
                  <Text fz="xs" c="dimmed" ff="monospace">
                    #{t.number}
                  </Text>
                </td>
                <td className="sb-ellipsis">
                  <Group gap={6} wrap="nowrap">
                    <Link
                      href={`/tickets/${t.number}`}
                      className="sb-ellipsis"
                      style={{ color: "inherit", textDecoration: "none", flex: "0 1 auto", minWidth: "4em" }}
                    >
                      {t.subject}
                    </Link>
                    {t.contact?.vip && <VipBadge />}
                    {timeColumn !== "sla" && t.sla?.state === "breached" && (
                      <SlaBadge sla={t.sla} now={now} />
                    )}
                    {t.tags.length > 0 && (
                      // Tags get only the room the whole subject leaves (basis 0): they give way first.
                      <Text
                        fz={11}
                        c="dimmed"
                        className="sb-hide-narrow sb-ellipsis"
                        style={{ flex: "1 1 0%", minWidth: 0 }}
                        title={t.tags.map((tag) => `#${tag}`).join(" ")}
                      >
                        {t.tags
                          .slice(0, 3)
                          .map((tag) => `#${tag}`)
                          .join(" ")}
                      </Text>
                    )}
                  </Group>
                </td>
                {!compact && (
                  <>
                    {!hideClient && (
                      <td className="sb-ellipsis sb-col-wide">
                        <Tooltip label={t.contact ? `${t.contact.name}, ${t.client.name}` : t.client.name}>
                          <Text fz="sm" className="sb-ellipsis">
                            {t.client.name}
                          </Text>
                        </Tooltip>
                      </td>
                    )}
                    <td style={{ minWidth: 0 }}>
                      <StatusBadge name={t.status.name} category={t.status.category} />
                    </td>
                    {!hideAssignee && (
                      <td className="sb-ellipsis sb-col-wide">
                        <Text fz="sm" c={t.assignee ? undefined : "dimmed"} className="sb-ellipsis">
                          {t.assignee?.name ?? "Unassigned"}
                        </Text>
                      </td>
                    )}
                  </>
                )}
                <td style={{ textAlign: "right" }}>
                  <Text fz="xs" c="dimmed">
                    {timeCell(t, timeColumn, now)}
                  </Text>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
