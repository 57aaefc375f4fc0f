import { Button, Group, Modal, Stack } from "@mantine/core";
import type { TicketDto } from "../../api/types.ts";
import { TicketNumberPicker, useTicketByNumber } from "./ticket-number-picker.tsx";
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
  const pick = useTicketByNumber(ticket, opened);
  const t = pick.picked;
  return (
    <Modal opened={opened} onClose={onClose} title={`Link #${ticket.number} under a parent ticket`} size="md">
      <Stack gap="sm">
        <TicketNumberPicker
          label="Parent ticket number"
          sameMessage="A ticket cannot be its own parent."
          pick={pick}
        />
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
              disabled={!t}
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
