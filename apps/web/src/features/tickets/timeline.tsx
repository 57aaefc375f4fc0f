import { Badge, Box, Button, Group, Stack, Text } from "@mantine/core";
import type { TimelineEntryDto } from "../../api/types.ts";
import { CATEGORY_LABELS, dateTime, duration, PRIORITY_LABELS, relative } from "../../components/format.ts";
import { DeliveryStatus } from "./delivery.tsx";
import { Attachments, FormattedEmail } from "./mail-content.tsx";

const KIND: Record<string, { label: string; color: string }> = {
  reply: { label: "Reply", color: "indigo" },
  email: { label: "Email", color: "indigo" },
  note: { label: "Internal note", color: "yellow" },
  call: { label: "Call", color: "teal" },
  event: { label: "", color: "gray" },
};

const FIELD_NAMES: Record<string, string> = {
  status: "status",
  statusId: "status",
  priority: "priority",
  assignee: "assignee",
  assigneeId: "assignee",
  team: "team",
  teamId: "team",
  followUpAt: "follow-up",
  tags: "tags",
  parent: "parent",
  subject: "subject",
};

const VERBS: Record<string, string> = {
  status_changed: "changed status",
  priority_changed: "changed priority",
  assignee_changed: "changed assignee",
  team_changed: "changed team",
  follow_up_changed: "changed follow-up",
  parent_changed: "changed parent",
  type_changed: "changed type",
  child_added: "added child ticket",
  created: "created the ticket",
};

function show(v: unknown, field: string): string {
  if (v === null || v === undefined || v === "") return "none";
  if (field === "priority" && typeof v === "number") return PRIORITY_LABELS[v] ?? String(v);
  if (typeof v === "string" && CATEGORY_LABELS[v]) return CATEGORY_LABELS[v];
  if (typeof v === "string" && /^\d{4}-\d\d-\d\dT/.test(v)) return dateTime(v);
  if (Array.isArray(v)) return v.join(", ") || "none";
  if (typeof v === "object") {
    const o = v as { name?: string; number?: number };
    return o.name ?? (o.number ? `#${o.number}` : JSON.stringify(v));
  }
  return String(v);
}

const TARGETS: Record<string, string> = { first_response: "first response", resolution: "resolution" };

/** The SLA clock's and on-call's entries (domains/sla, domains/oncall). */
function describeSlaEvent(t: string, e: Record<string, unknown>): string | null {
  const target = TARGETS[String(e.target)] ?? "target";
  const due = typeof e.dueAt === "string" ? dateTime(e.dueAt) : "";
  const who = (v: unknown) => (v as { name?: string } | null)?.name ?? "nobody";
  switch (t) {
    case "sla_warning":
      return `SLA warning: ${target} due ${due}`;
    case "sla_breached":
      return `SLA breached: ${target} was due ${due}`;
    case "sla_missed":
      return `SLA missed: ${target} came after ${due}`;
    case "page_started":
      return e.to ? `paged ${who(e.to)} (on call)` : "could not page: nobody is on call";
    case "page_escalated":
      return `page escalated to ${who(e.to)}`;
    case "page_acknowledged":
      return `page acknowledged by ${who(e.by)}`;
    case "page_exhausted":
      return "nobody acknowledged the page";
    default:
      return null;
  }
}

/** System events in words: "changed status from Open to Waiting on client". */
export function describeEvent(e: Record<string, unknown> | null, body: string): string {
  if (!e) return body || "Changed the ticket";
  if (body) return body;
  const changes = e.changes as Record<string, { from?: unknown; to?: unknown }> | undefined;
  if (changes && typeof changes === "object") {
    return Object.entries(changes)
      .map(([f, c]) => `changed ${FIELD_NAMES[f] ?? f} from ${show(c?.from, f)} to ${show(c?.to, f)}`)
      .join("; ");
  }
  const t = typeof e.type === "string" ? e.type : "";
  const sla = describeSlaEvent(t, e);
  if (sla) return sla;
  const verb = VERBS[t] ?? (t ? t.replace(/[._]/g, " ") : "changed the ticket");
  if (t === "child_added") return `${verb} ${show(e.child, "")}`;
  if ("from" in e || "to" in e) {
    const f = t.replace(/_changed$/, "");
    return `${verb} from ${show(e.from, f)} to ${show(e.to, f)}`;
  }
  return verb;
}

export function Timeline({
  entries,
  hasOlder,
  onLoadOlder,
  loadingOlder,
  canRetry = false,
}: {
  entries: TimelineEntryDto[];
  hasOlder: boolean;
  onLoadOlder: () => void;
  loadingOlder: boolean;
  /** Whether this user may send a failed reply again (not read-only). */
  canRetry?: boolean;
}) {
  return (
    <Stack
      gap={0}
      component="ol"
      style={{ listStyle: "none", padding: 0, margin: 0 }}
      aria-label="Timeline"
      data-testid="timeline"
    >
      {entries.map((e) => {
        const k = KIND[e.kind] ?? KIND.event!;
        if (e.kind === "event") {
          return (
            <Box
              component="li"
              key={e.id}
              px="md"
              py={5}
              style={{ borderBottom: "1px solid var(--mantine-color-default-border)" }}
            >
              <Text fz="xs" c="dimmed">
                <Text span fw={600} fz="xs" c="dimmed">
                  {e.author?.name ?? "System"}
                </Text>{" "}
                {describeEvent(e.event, e.body)} ·{" "}
                <time dateTime={e.createdAt} title={dateTime(e.createdAt)}>
                  {relative(e.createdAt)}
                </time>
              </Text>
            </Box>
          );
        }
        return (
          <Box
            component="li"
            key={e.id}
            px="md"
            py={10}
            className={e.kind === "note" ? "sb-note" : undefined}
            style={{ borderBottom: "1px solid var(--mantine-color-default-border)" }}
            data-kind={e.kind}
          >
            <Group justify="space-between" gap="xs" mb={4} wrap="nowrap" align="flex-start">
              <Group gap={8} wrap="wrap" style={{ minWidth: 0 }}>
                <Text fz="sm" fw={600}>
                  {e.author?.name ?? "System"}
                </Text>
                <Badge
                  color={k.color}
                  size="xs"
                  style={{ flexShrink: 0 }}
                  variant={e.kind === "note" ? "filled" : "light"}
                  c={e.kind === "note" ? "dark.9" : undefined}
                >
                  {k.label}
                </Badge>
                {e.call && (
                  <Text fz="xs" c="dimmed" data-testid="call-log">
                    {e.call.direction === "inbound" ? "Inbound" : "Outbound"} call
                    {e.call.number ? ` · ${e.call.number}` : ""} · {duration(e.call.durationSeconds)}
                  </Text>
                )}
              </Group>
              <Text
                fz="xs"
                c="dimmed"
                component="time"
                dateTime={e.createdAt}
                title={dateTime(e.createdAt)}
                style={{ flexShrink: 0 }}
              >
                {relative(e.createdAt)}
              </Text>
            </Group>
            {e.body && <div className="sb-timeline-body">{e.body}</div>}
            {e.kind === "email" &&
              e.emails
                .filter((m) => m.direction === "inbound" && m.hasHtml)
                .map((m) => <FormattedEmail key={m.id} emailId={m.id} />)}
            <Attachments items={e.attachments} />
            <DeliveryStatus entry={e} canRetry={canRetry} />
          </Box>
        );
      })}
      {hasOlder && (
        <Box component="li" p="sm" ta="center">
          <Button variant="subtle" onClick={onLoadOlder} loading={loadingOlder}>
            Load older entries
          </Button>
        </Box>
      )}
    </Stack>
  );
}
