import { Button, Menu } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import type { MintedSupportSessionDto } from "@switchboard/shared";
import { useMutation } from "@tanstack/react-query";
import { useLocation } from "wouter";
import { api } from "../../api/client.ts";
import { useDevices } from "../../api/hooks.ts";

/** On a ticket: start an attended support session (a code for the caller), or a shell on a device. */
export function RemoteMenu({ ticket }: { ticket: { id: string; number: number; client: { id: string } } }) {
  const [, navigate] = useLocation();
  const devices = useDevices({ clientId: ticket.client.id, limit: 50 });
  const start = useMutation({
    mutationFn: () => api<MintedSupportSessionDto>("POST", `/tickets/${ticket.id}/support-sessions`),
    onSuccess: (s) => {
      // Shown once, on the session's page; kept for this tab only.
      sessionStorage.setItem(`sb-support-code-${s.id}`, s.code);
      navigate(`/support-sessions/${s.id}`);
    },
    onError: (e) => notifications.show({ color: "red", message: (e as Error).message }),
  });
  const online = (devices.data?.items ?? []).filter((d) => d.status === "online" && d.platform !== "win32");
  return (
    <Menu position="bottom-end" withinPortal>
      <Menu.Target>
        <Button variant="default" loading={start.isPending}>
          Remote
        </Button>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Item onClick={() => start.mutate()}>Start support session</Menu.Item>
        <Menu.Label>Shell on a device</Menu.Label>
        {online.length === 0 && <Menu.Item disabled>No online device of this client</Menu.Item>}
        {online.map((d) => (
          <Menu.Item key={d.id} onClick={() => navigate(`/devices/${d.id}/shell?ticket=${ticket.number}`)}>
            {d.hostname}
          </Menu.Item>
        ))}
      </Menu.Dropdown>
    </Menu>
  );
}
