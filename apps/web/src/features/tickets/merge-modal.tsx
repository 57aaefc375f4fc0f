import { Alert, Button, Group, Modal, Stack } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useLocation } from "wouter";
import { api } from "../../api/client.ts";
import { keys } from "../../api/keys.ts";
import type { TicketDto } from "../../api/types.ts";
import { TicketNumberPicker, useTicketByNumber } from "./ticket-number-picker.tsx";

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
  const [, navigate] = useLocation();
  const qc = useQueryClient();
  const pick = useTicketByNumber(ticket, opened);
  const t = pick.picked;
  const m = useMutation({
    mutationFn: () =>
      api<TicketDto>("POST", `/tickets/${ticket.id}/merge`, {
        body: { intoTicketId: t!.id },
      }),
    onSuccess: (into) => {
      qc.invalidateQueries({ queryKey: keys.tickets });
      qc.invalidateQueries({ queryKey: keys.ticket(ticket.number) });
      onClose();
      navigate(`/tickets/${into.number}`);
    },
  });
  return (
    <Modal opened={opened} onClose={onClose} title={`Merge #${ticket.number} into…`} size="md">
      <Stack gap="sm">
        <TicketNumberPicker
          label="Ticket number to keep"
          sameMessage="A ticket cannot be merged into itself."
          pick={pick}
        />
        {m.isError && <Alert color="red">{m.error.message}</Alert>}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button color="red" disabled={!t} loading={m.isPending} onClick={() => m.mutate()}>
            Merge #{ticket.number} into {t ? `#${t.number}` : "…"}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
