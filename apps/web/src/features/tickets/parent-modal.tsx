import { Alert, Button, Group, Modal, Stack, Text, TextInput } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { get } from "../../api/client.ts";
import type { TicketDto, TicketWithTimeline } from "../../api/types.ts";
import type { TicketChanges } from "./use-ticket-update.ts";

/** Makes this ticket a child of another (a user's printer ticket under the site's network outage). */
export function ParentModal({
  ticket,
  opened,
  onClose,
  update,
}: {
  ticket: TicketDto;
  opened: boolean;
  onClose: () => void;
  update: (c: TicketChanges) => void;
}) {
  const [number, setNumber] = useState("");
  const n = number.replace(/\D/g, "");
  const target = useQuery({
    queryKey: ["parent-target", n],
    queryFn: () => get<TicketWithTimeline>(`/tickets/by-number/${n}`),
    enabled: opened && n.length > 0,
    retry: false,
  });
  const t = target.data?.ticket;
  const same = t?.id === ticket.id;
  return (
    <Modal opened={opened} onClose={onClose} title={`Link #${ticket.number} under a parent ticket`} size="md">
      <Stack gap="sm">
        <TextInput
          label="Parent ticket number"
          placeholder="e.g. 1042"
          value={number}
          onChange={(e) => setNumber(e.currentTarget.value)}
          data-autofocus
          error={target.isError && n ? "No ticket with that number" : undefined}
        />
        {t && !same && (
          <Alert color="indigo" variant="light">
            <Text fz="sm">
              #{t.number} {t.subject}
            </Text>
            <Text fz="xs" c="dimmed">
              {t.client.name} · {t.status.name}
            </Text>
          </Alert>
        )}
        {same && (
          <Text c="red" fz="sm">
            A ticket cannot be its own parent.
          </Text>
        )}
        <Group justify="space-between">
          {ticket.parent ? (
            <Button
              variant="subtle"
              color="gray"
              onClick={() => {
                update({ parentId: null });
                onClose();
              }}
            >
              Remove parent #{ticket.parent.number}
            </Button>
          ) : (
            <span />
          )}
          <Group gap="xs">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button
              disabled={!t || same}
              onClick={() => {
                if (t) update({ parentId: t.id });
                onClose();
              }}
            >
              Link under {t ? `#${t.number}` : "…"}
            </Button>
          </Group>
        </Group>
      </Stack>
    </Modal>
  );
}
