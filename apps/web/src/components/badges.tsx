import { Badge, Tooltip } from "@mantine/core";
import { CATEGORY_LABELS, PRIORITY_LABELS, PRIORITY_NAMES } from "./format.ts";

// P1 is filled with a darker red so white text keeps 4.5:1.
const PRIORITY_COLORS: Record<number, string> = { 1: "red.8", 2: "orange", 3: "blue", 4: "gray" };
const CATEGORY_COLORS: Record<string, string> = {
  new: "indigo",
  open: "blue",
  in_progress: "cyan",
  waiting_client: "yellow",
  waiting_third_party: "grape",
  scheduled: "teal",
  resolved: "green",
  closed: "gray",
};

export function PriorityBadge({ priority }: { priority: number }) {
  return (
    <Tooltip label={PRIORITY_NAMES[priority]}>
      <Badge
        color={PRIORITY_COLORS[priority]}
        variant={priority === 1 ? "filled" : "light"}
        w={34}
        px={0}
        style={{ flexShrink: 0 }}
        aria-label={`Priority ${PRIORITY_LABELS[priority]} ${PRIORITY_NAMES[priority]}`}
      >
        {PRIORITY_LABELS[priority]}
      </Badge>
    </Tooltip>
  );
}

export function StatusBadge({ name, category }: { name: string; category: string }) {
  return (
    // Mixed case and no width cap: "Waiting on client" is shown whole (it is narrower than in capitals);
    // a list gives the status column room for it.
    <Badge
      color={CATEGORY_COLORS[category] ?? "gray"}
      variant="light"
      tt="none"
      title={`${name} (${CATEGORY_LABELS[category] ?? category})`}
      style={{ flexShrink: 0, overflow: "visible" }}
      styles={{ label: { overflow: "visible" } }}
    >
      {name}
    </Badge>
  );
}

export function VipBadge() {
  return (
    <Badge
      color="yellow"
      variant="filled"
      size="xs"
      c="dark.9"
      aria-label="VIP contact"
      style={{ flexShrink: 0 }}
    >
      VIP
    </Badge>
  );
}
