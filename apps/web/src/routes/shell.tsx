import { Alert, Anchor, Badge, Box, Button, Group, Text, Title } from "@mantine/core";
import type { RemoteSessionDto } from "@switchboard/shared";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { Link, useParams, useSearch } from "wouter";
import { api, get } from "../api/client.ts";
import { useDevice } from "../api/hooks.ts";
import { ErrorPage } from "../components/error-page.tsx";
import { type ShellState, ShellTerminal } from "../features/remote/terminal.tsx";

const SIZE = { cols: 120, rows: 32 };

/**
 * A remote shell on a device, optionally on a ticket (?ticket=1042) and within an attended session whose
 * caller allowed it (?supportSessionId=): recorded, and the recording kept on the ticket.
 */
export function ShellPage() {
  const { id } = useParams<{ id: string }>();
  const params = new URLSearchParams(useSearch());
  const ticket = params.get("ticket") ?? "";
  const supportSessionId = params.get("supportSessionId") ?? undefined;
  const device = useDevice(id);
  const [state, setState] = useState<ShellState>({ status: "connecting" });
  const open = useMutation({
    mutationFn: async () => {
      const n = ticket.replace(/^#/, "").trim();
      const ticketId = n
        ? (await get<{ ticket: { id: string } }>(`/tickets/by-number/${encodeURIComponent(n)}`)).ticket.id
        : undefined;
      return api<RemoteSessionDto>("POST", `/devices/${id}/shells`, {
        body: {
          ...SIZE,
          ...(ticketId ? { ticketId } : {}),
          ...(supportSessionId ? { supportSessionId } : {}),
        },
      });
    },
  });
  const started = useRef(false);
  const end = useRef<(() => void) | null>(null);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    open.mutate();
  }, [open]);
  const sessionId = open.data?.id;
  const closed = state.status === "closed";
  const record = useQuery({
    queryKey: ["remote-session", sessionId],
    queryFn: () => get<RemoteSessionDto>(`/remote/sessions/${sessionId}`),
    enabled: !!sessionId && closed,
    refetchInterval: (q) =>
      q.state.data?.status === "closed" || q.state.data?.status === "failed" ? false : 1000,
  });

  if (device.isError) return <ErrorPage error={device.error} />;
  const label = state.status === "open" ? "Connected" : state.status === "closed" ? "Ended" : "Connecting";
  return (
    <Box p="md" style={{ display: "flex", flexDirection: "column", height: "calc(100vh - 48px)" }}>
      <Group justify="space-between" mb="xs">
        <Group gap="xs">
          <Title order={1} fz="lg">
            Shell on{" "}
            <Anchor component={Link} href={`/devices/${id}`}>
              {device.data?.hostname ?? "device"}
            </Anchor>
          </Title>
          <Badge
            color={state.status === "open" ? "teal" : closed ? "gray" : "orange"}
            variant="light"
            aria-live="polite"
          >
            {label}
          </Badge>
        </Group>
        <Group gap="xs">
          <Text fz="xs" c="dimmed">
            Recorded. Copy: Ctrl+Shift+C · Paste: Ctrl+Shift+V
          </Text>
          {!closed && sessionId && (
            <Button size="xs" color="red" variant="light" onClick={() => end.current?.()}>
              End shell
            </Button>
          )}
        </Group>
      </Group>
      {open.isError && (
        <Alert color="red" title="The shell could not be opened">
          {(open.error as Error).message}
        </Alert>
      )}
      {closed && (
        <Alert
          color={state.failed ? "red" : "gray"}
          mb="xs"
          title={state.failed ? "The shell failed" : "The shell ended"}
        >
          <Text fz="sm">{state.reason}</Text>
          {record.data?.file && (
            <Anchor fz="sm" href={`/api/v1/remote/sessions/${sessionId}/file`}>
              Download the recording ({record.data.file.name})
            </Anchor>
          )}
        </Alert>
      )}
      <Box style={{ flex: 1, minHeight: 0 }}>
        {sessionId && <ShellTerminal sessionId={sessionId} size={SIZE} onState={setState} endRef={end} />}
      </Box>
    </Box>
  );
}
