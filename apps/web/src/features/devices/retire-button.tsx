import { Alert, Button, Group, Modal, Stack, Text } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/client.ts";
import { keys } from "../../api/keys.ts";
import type { DeviceDetail } from "../../api/types.ts";

/** Admins only: revokes the device's key, so the agent can never reconnect with it. */
export function RetireButton({ device }: { device: DeviceDetail }) {
  const [opened, modal] = useDisclosure(false);
  const qc = useQueryClient();
  const retire = useMutation({
    mutationFn: () => api<DeviceDetail>("POST", `/devices/${device.id}/retire`),
    onSuccess: (d) => {
      qc.setQueryData(keys.device(device.id), d);
      qc.invalidateQueries({ queryKey: keys.devices });
      modal.close();
    },
  });
  return (
    <>
      <Button size="xs" variant="default" color="red" onClick={modal.open}>
        Retire device
      </Button>
      <Modal opened={opened} onClose={modal.close} title={`Retire ${device.hostname}?`} size="sm">
        <Stack gap="sm">
          <Text fz="sm">
            Its key is revoked: the agent is disconnected and cannot reconnect, and queued commands are
            dropped. To manage this machine again, enroll it anew.
          </Text>
          {retire.isError && (
            <Alert color="red" role="alert" p="xs">
              {retire.error.message}
            </Alert>
          )}
          <Group justify="flex-end" gap="xs">
            <Button size="xs" variant="default" onClick={modal.close}>
              Cancel
            </Button>
            <Button size="xs" color="red.8" loading={retire.isPending} onClick={() => retire.mutate()}>
              Retire
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
