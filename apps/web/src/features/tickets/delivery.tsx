import { Badge, Button, Group, Text } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/client.ts";
import { keys } from "../../api/keys.ts";
import type { TimelineEntryDto } from "../../api/types.ts";
import { dateTime } from "../../components/format.ts";

type Mail = TimelineEntryDto["emails"][number];

const STATUS: Record<string, { label: string; color: string }> = {
  queued: { label: "Queued", color: "gray" },
  sent: { label: "Sent", color: "teal" },
  // Red 8: white on it, and it on white, keep 4.5:1.
  failed: { label: "Not sent", color: "red.8" },
  bounced: { label: "Bounced", color: "red.8" },
};

function RetryButton({ ticketId, mail }: { ticketId: string; mail: Mail }) {
  const qc = useQueryClient();
  const m = useMutation({
    mutationFn: () => api("POST", `/tickets/${ticketId}/emails/${mail.id}/retry`),
    onSettled: () => qc.invalidateQueries({ queryKey: keys.ticketAll }),
  });
  return (
    <>
      <Button
        size="compact-xs"
        variant="filled"
        color="red.8"
        onClick={() => m.mutate()}
        loading={m.isPending}
      >
        Retry
      </Button>
      {m.isError && (
        <Text fz="xs" c="red.8" role="alert">
          {m.error.message}
        </Text>
      )}
    </>
  );
}

/**
 * Where a reply's mail stands, on its timeline entry: queued, sent (to whom, when), or not sent /
 * bounced with the reason and a Retry. A reply whose message is not written yet reads "Queued".
 */
export function DeliveryStatus({ entry, canRetry }: { entry: TimelineEntryDto; canRetry: boolean }) {
  const mails = entry.emails.filter((m) => m.direction === "outbound");
  if (entry.kind !== "reply" || entry.visibility !== "public") return null;
  if (mails.length === 0) {
    return (
      <Group gap={6} mt={6} data-testid="delivery">
        <Badge size="xs" color="gray" variant="light">
          Queued
        </Badge>
        <Text fz="xs" c="dimmed">
          waiting to be mailed
        </Text>
      </Group>
    );
  }
  return (
    <>
      {mails.map((m) => {
        const s = STATUS[m.status] ?? { label: m.status, color: "gray" };
        const who = [...m.to, ...m.cc.map((c) => `cc ${c}`)].join(", ");
        return (
          <Group gap={6} mt={6} key={m.id} data-testid="delivery" data-status={m.status} wrap="wrap">
            <Badge size="xs" color={s.color} variant={m.status === "sent" ? "light" : "filled"}>
              {s.label}
            </Badge>
            <Text fz="xs" c="dimmed" style={{ overflowWrap: "anywhere" }}>
              {m.status === "sent" && m.sentAt ? `to ${who} · ${dateTime(m.sentAt)}` : `to ${who}`}
            </Text>
            {m.error && (
              <Text fz="xs" c="red.8" style={{ overflowWrap: "anywhere" }} data-testid="delivery-error">
                {m.error}
              </Text>
            )}
            {canRetry && (m.status === "failed" || m.status === "bounced") && (
              <RetryButton ticketId={entry.ticketId} mail={m} />
            )}
          </Group>
        );
      })}
    </>
  );
}
