import { Button, Group, Modal, Text, Textarea } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/client.ts";
import { keys } from "../../api/keys.ts";
import type { StatusDto, TicketDto } from "../../api/types.ts";

/** Puts the ticket back to the status it had, with the version it has now (the resolve bumped it). */
async function undoResolve(ticket: TicketDto, previousStatusId: string) {
  const now = await api<TicketDto>("GET", `/tickets/${ticket.id}`, { query: { timelineLimit: 1 } });
  return api<TicketDto>("PATCH", `/tickets/${ticket.id}`, {
    body: { statusId: previousStatusId, version: now.version },
  });
}

/**
 * `e` or Resolve: asks how it was resolved (saved as an internal note, optional), resolves, and offers
 * Undo for a few seconds, which puts the ticket back to the status it had.
 */
export function ResolveModal({
  ticket,
  resolved,
  opened,
  onClose,
}: {
  ticket: TicketDto;
  resolved: StatusDto;
  opened: boolean;
  onClose: () => void;
}) {
  const qc = useQueryClient();
  const [note, setNote] = useState("");
  const refresh = () => {
    qc.invalidateQueries({ queryKey: keys.ticket(ticket.number) });
    qc.invalidateQueries({ queryKey: keys.tickets });
  };
  const m = useMutation({
    mutationFn: async () => {
      if (note.trim()) {
        await api("POST", `/tickets/${ticket.id}/timeline`, {
          body: { kind: "note", body: `Resolution: ${note.trim()}` },
        });
      }
      return api<TicketDto>("PATCH", `/tickets/${ticket.id}`, {
        body: { statusId: resolved.id, version: ticket.version },
      });
    },
    onSuccess: () => {
      const previous = ticket.status;
      setNote("");
      onClose();
      refresh();
      const id = `resolved-${ticket.id}`;
      notifications.show({
        id,
        color: "teal",
        autoClose: 8000,
        message: (
          <Group gap="sm" justify="space-between" wrap="nowrap">
            <Text fz="sm">#{ticket.number} resolved.</Text>
            <Button
              size="compact-xs"
              variant="light"
              onClick={async () => {
                notifications.hide(id);
                try {
                  await undoResolve(ticket, previous.id);
                  notifications.show({
                    message: `#${ticket.number} is ${previous.name} again`,
                    color: "blue",
                  });
                } catch (e) {
                  notifications.show({ title: "Not undone", message: (e as Error).message, color: "red" });
                }
                refresh();
              }}
            >
              Undo
            </Button>
          </Group>
        ),
      });
    },
  });
  return (
    <Modal opened={opened} onClose={onClose} title={`Resolve #${ticket.number}`}>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          m.mutate();
        }}
      >
        <Textarea
          label="How was it resolved?"
          description="Saved as an internal note on the ticket. Optional."
          autosize
          minRows={3}
          value={note}
          onChange={(e) => setNote(e.currentTarget.value)}
          onKeyDown={(e) => {
            if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) {
              e.preventDefault();
              m.mutate();
            }
          }}
          data-autofocus
          data-testid="resolution-note"
        />
        {m.isError && (
          <Text c="red.8" fz="sm" mt={6} role="alert">
            {m.error.message}
          </Text>
        )}
        <Group justify="flex-end" mt="md">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" color="green" loading={m.isPending}>
            Resolve
          </Button>
        </Group>
      </form>
    </Modal>
  );
}
