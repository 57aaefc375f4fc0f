import { Alert, Button, Group, Modal, Stack, Text, TextInput } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useLocation } from "wouter";
import { api, get } from "../../api/client.ts";
import { keys } from "../../api/keys.ts";
import type { TicketDto, TicketWithTimeline } from "../../api/types.ts";

/** Merge this ticket into another: its timeline and contacts move, and its number redirects. */
export function MergeModal({
  ticket,
  opened,
  onClose,
}: {
  ticket: TicketDto;
  opened: boolean;
  onClose: () => void;
}) {
  const [number, setNumber] = useState("");
  const [, navigate] = useLocation();
  const qc = useQueryClient();
  const n = number.replace(/\D/g, "");
  const target = useQuery({
    queryKey: ["merge-target", n],
    queryFn: () => get<TicketWithTimeline>(`/tickets/by-number/${n}`),
    enabled: opened && n.length > 0,
    retry: false,
  });
  const m = useMutation({
    mutationFn: () =>
      api<TicketDto>("POST", `/tickets/${ticket.id}/merge`, {
        body: { intoTicketId: target.data!.ticket.id },
      }),
    onSuccess: (into) => {
      qc.invalidateQueries({ queryKey: keys.tickets });
      qc.invalidateQueries({ queryKey: keys.ticket(ticket.number) });
      onClose();
      navigate(`/tickets/${into.number}`);
    },
  });
  const t = target.data?.ticket;
  const same = t?.id === ticket.id;
  return (
    <Modal opened={opened} onClose={onClose} title={`Merge #${ticket.number} into…`} size="md">
      <Stack gap="sm">
        <TextInput
          label="Ticket number to keep"
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
            A ticket cannot be merged into itself.
          </Text>
        )}
        {m.isError && <Alert color="red">{m.error.message}</Alert>}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button color="red" disabled={!t || same} loading={m.isPending} onClick={() => m.mutate()}>
            Merge #{ticket.number} into {t ? `#${t.number}` : "…"}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
