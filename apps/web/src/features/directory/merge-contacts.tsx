import { Alert, Button, Checkbox, Group, Modal, Stack, Text } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/client.ts";
import { useContacts } from "../../api/hooks.ts";
import type { ContactDto } from "../../api/types.ts";
import { FormError } from "../admin/ui.tsx";

/** Admins and dispatchers fold duplicates of this contact (same client) into it. */
export function MergeContactsButton({ contact }: { contact: ContactDto }) {
  const [opened, modal] = useDisclosure(false);
  const qc = useQueryClient();
  const others = useContacts("", { clientId: contact.clientId });
  const [picked, setPicked] = useState<string[]>([]);
  const merge = useMutation({
    mutationFn: () =>
      api<{ moved: { tickets: number; timelineEntries: number; emails: number } }>(
        "POST",
        `/contacts/${contact.id}/merge`,
        { body: { duplicateIds: picked } },
      ),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ["contacts"] });
      qc.invalidateQueries({ queryKey: ["contact"] });
      qc.invalidateQueries({ queryKey: ["tickets"] });
    },
  });
  const candidates = (others.data ?? []).filter((c) => c.id !== contact.id);
  const close = () => {
    merge.reset();
    setPicked([]);
    modal.close();
  };
  return (
    <>
      <Button size="xs" variant="default" onClick={modal.open}>
        Merge duplicates
      </Button>
      <Modal
        opened={opened}
        onClose={close}
        title={`Merge duplicates into ${contact.name}`}
        closeButtonProps={{ "aria-label": "Close" }}
      >
        {merge.data ? (
          <Stack gap="sm">
            <Alert color="teal" role="status" p="xs">
              Merged. Moved {merge.data.moved.tickets} tickets, {merge.data.moved.timelineEntries} calls and
              messages, and {merge.data.moved.emails} emails to {contact.name}.
            </Alert>
            <Group justify="flex-end">
              <Button size="xs" onClick={close}>
                Done
              </Button>
            </Group>
          </Stack>
        ) : (
          <Stack gap="sm">
            <Text fz="sm">
              Choose the contacts of {contact.clientName} that are the same person. Their tickets, calls and
              emails move to {contact.name}, who also takes their addresses and numbers; their pages will open{" "}
              {contact.name}'s.
            </Text>
            <Checkbox.Group value={picked} onChange={setPicked} label="Duplicates">
              <Stack gap={6} mt={6}>
                {candidates.map((c) => (
                  <Checkbox
                    key={c.id}
                    value={c.id}
                    label={`${c.name}${c.emails[0] ? ` (${c.emails[0]})` : ""}`}
                  />
                ))}
              </Stack>
            </Checkbox.Group>
            {candidates.length === 0 && (
              <Text fz="sm" c="dimmed">
                {contact.clientName} has no other contacts.
              </Text>
            )}
            <FormError error={merge.error} />
            <Group justify="flex-end" gap="xs">
              <Button size="xs" variant="default" onClick={close}>
                Cancel
              </Button>
              <Button
                size="xs"
                color="red.8"
                disabled={!picked.length}
                loading={merge.isPending}
                onClick={() => merge.mutate()}
              >
                Merge {picked.length || ""} into {contact.name}
              </Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </>
  );
}
