import { Badge, Group, Paper, Text, UnstyledButton } from "@mantine/core";
import type { ContactDto } from "../../api/types.ts";
import { VipBadge } from "../../components/badges.tsx";
import { Empty } from "../../components/section.tsx";

/** The calls that start most days, one click from a ticket. */
export const TEMPLATES: Array<{ label: string; subject: string; type: string; priority: number }> = [
  { label: "Password reset", subject: "Password reset", type: "service_request", priority: 3 },
  { label: "Locked out", subject: "Account locked out", type: "incident", priority: 2 },
  { label: "Printer", subject: "Printer not printing", type: "incident", priority: 3 },
  { label: "Email / Outlook", subject: "Outlook not receiving email", type: "incident", priority: 3 },
  { label: "New user", subject: "New user setup", type: "service_request", priority: 4 },
  { label: "Internet down", subject: "Internet outage at site", type: "incident", priority: 1 },
];

export const MATCH_LIMIT = 6;
export const matchId = (id: string) => `caller-match-${id}`;

/**
 * The contacts matching what was typed, as a listbox the caller field drives: arrow keys move the
 * highlight (`active`), Enter picks it, a click picks too. Nothing matching offers to add the caller.
 */
export function CallerMatches({
  q,
  items,
  pending,
  active,
  onPick,
  onAdd,
}: {
  q: string;
  items: ContactDto[];
  pending: boolean;
  active: number;
  onPick: (c: ContactDto) => void;
  onAdd: () => void;
}) {
  if (!q) return null;
  return (
    <Paper
      p={0}
      mt={4}
      id="caller-matches"
      role="listbox"
      aria-label="Matching contacts"
      data-testid="caller-matches"
    >
      {pending && <Empty>Looking up…</Empty>}
      {!pending && items.length === 0 && (
        <Group justify="space-between" px="sm" py={6} wrap="wrap">
          <Text fz="sm" c="dimmed">
            No contact matches “{q}”.
          </Text>
          <Badge
            component="button"
            type="button"
            onClick={onAdd}
            variant="light"
            style={{ cursor: "pointer" }}
          >
            Add a new caller
          </Badge>
        </Group>
      )}
      {items.slice(0, MATCH_LIMIT).map((c, i) => (
        <UnstyledButton
          key={c.id}
          id={matchId(c.id)}
          role="option"
          aria-selected={i === active}
          tabIndex={-1}
          onClick={() => onPick(c)}
          w="100%"
          px="sm"
          py={6}
          data-active={i === active}
          className="sb-option"
          style={{ borderBottom: "1px solid var(--mantine-color-default-border)" }}
        >
          <Group justify="space-between" wrap="nowrap">
            <div style={{ minWidth: 0 }}>
              <Group gap={6}>
                <Text fz="sm" fw={600}>
                  {c.name}
                </Text>
                {c.vip && <VipBadge />}
              </Group>
              <Text fz="xs" c="dimmed" className="sb-ellipsis">
                {c.clientName} · {[c.phones[0]?.number, c.emails[0]].filter(Boolean).join(" · ")}
              </Text>
            </div>
            <Badge variant="outline" color="gray" size="xs" style={{ flexShrink: 0 }}>
              Select
            </Badge>
          </Group>
        </UnstyledButton>
      ))}
    </Paper>
  );
}
