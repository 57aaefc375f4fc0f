import { Badge, Group, Paper, Text, UnstyledButton } from "@mantine/core";
import { useContacts } from "../../api/hooks.ts";
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

export function CallerMatches({ q, onPick }: { q: string; onPick: (c: ContactDto) => void }) {
  const contacts = useContacts(q);
  if (!q) return null;
  const items = contacts.data ?? [];
  return (
    <Paper p={0} mt={4} role="listbox" aria-label="Matching contacts" data-testid="caller-matches">
      {contacts.isPending && <Empty>Looking up…</Empty>}
      {!contacts.isPending && items.length === 0 && <Empty>No contact matches. Pick the client below.</Empty>}
      {items.slice(0, 6).map((c) => (
        <UnstyledButton
          key={c.id}
          role="option"
          aria-selected={false}
          onClick={() => onPick(c)}
          w="100%"
          px="sm"
          py={6}
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
            <Badge variant="outline" color="gray" size="xs">
              Select
            </Badge>
          </Group>
        </UnstyledButton>
      ))}
    </Paper>
  );
}
