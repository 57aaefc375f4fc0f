import { Alert, Badge, Box, Button, Grid, Group, Paper, Select, Stack, Text, Title } from "@mantine/core";
import type { SupportEventDto, SupportServerFrame, SupportSessionDto } from "@switchboard/shared";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { Link, useParams } from "wouter";
import { api, get } from "../api/client.ts";
import { useDevices } from "../api/hooks.ts";
import { ErrorPage } from "../components/error-page.tsx";
import { controlState } from "../features/remote/support-agent-offer.tsx";
import { SupportChat } from "../features/remote/support-chat.tsx";
import { SupportConnection } from "../features/remote/support-socket.ts";

const STATUS_LABEL: Record<string, string> = {
  waiting: "Waiting for the caller",
  joined: "The caller is reading who is asking",
  active: "Connected",
  ended: "Ended",
  expired: "The code expired",
  cancelled: "Cancelled",
};

/** The code is shown once, right after it was minted (kept for this tab only). */
export const codeKey = (id: string) => `sb-support-code-${id}`;

/** The technician's side of an attended session: the code, the caller's screen, chat, files, consents. */
export function SupportSessionPage() {
  const { id } = useParams<{ id: string }>();
  const qc = useQueryClient();
  const q = useQuery({
    queryKey: ["support-session", id],
    queryFn: () => get<SupportSessionDto>(`/support-sessions/${id}`),
  });
  const [events, setEvents] = useState<SupportEventDto[]>([]);
  const [status, setStatus] = useState<string | null>(null);
  const [peer, setPeer] = useState(false);
  const [sharing, setSharing] = useState(false);
  const [device, setDevice] = useState<string | null>(null);
  const video = useRef<HTMLVideoElement>(null);
  const conn = useRef<SupportConnection | null>(null);
  const devices = useDevices({ clientId: q.data?.clientId, limit: 100 }, { enabled: !!q.data });
  const code = sessionStorage.getItem(codeKey(id));
  const live = q.data && ["waiting", "joined", "active"].includes(q.data.status);

  useEffect(() => {
    if (q.data) setEvents(q.data.events);
  }, [q.data]);

  useEffect(() => {
    if (!live || !q.data) return;
    const c = new SupportConnection(
      `/support-sessions/${id}/socket`,
      q.data.iceServers as RTCIceServer[],
      (f: SupportServerFrame) => {
        if (f.t === "event") {
          setEvents((es) => (es.some((e) => e.id === f.event.id) ? es : [...es, f.event]));
          // The support agent started or was removed: the list of the caller's machines changed. (Not the
          // session's own query: a new object there would reconnect the socket and drop the video.)
          if (f.event.kind === "agent") void qc.invalidateQueries({ queryKey: ["support-devices", id] });
        } else if (f.t === "status" || f.t === "ready") setStatus(f.status);
        else if (f.t === "peer") setPeer(f.present);
        else if (f.t === "ended") {
          setStatus("ended");
          setSharing(false);
          void qc.invalidateQueries({ queryKey: ["support-session", id] });
        }
      },
    );
    c.onRemoteStream = (s) => {
      if (video.current) video.current.srcObject = s;
      setSharing(true);
    };
    conn.current = c;
    return () => c.close();
  }, [id, live, q.data, qc]);

  if (q.isError) return <ErrorPage error={q.error} />;
  const s = q.data;
  if (!s) return null;
  const now = status ?? s.status;
  const ended = !["waiting", "joined", "active"].includes(now);
  const sendFile = async (file: File) => {
    const form = new FormData();
    form.append("file", file);
    await fetch(`/api/v1/support-sessions/${id}/files`, {
      method: "POST",
      body: form,
      credentials: "same-origin",
    });
  };

  return (
    <Stack p="md" gap="md">
      <Group justify="space-between">
        <div>
          <Title order={1} fz="lg">
            Support session · <Link href={`/tickets/${s.ticketNumber}`}>#{s.ticketNumber}</Link>{" "}
            {s.ticketSubject}
          </Title>
          <Group gap="xs" mt={4}>
            <Badge
              color={now === "active" ? "teal" : ended ? "gray" : "orange"}
              variant="light"
              aria-live="polite"
              data-testid="support-status"
            >
              {STATUS_LABEL[now] ?? now}
            </Badge>
            {!ended && (
              <Text fz="xs" c="dimmed">
                {peer ? "The caller is connected" : "The caller is not connected"}
              </Text>
            )}
          </Group>
        </div>
        {!ended && (
          <Button
            color="red"
            variant="light"
            onClick={() => void api("POST", `/support-sessions/${id}/end`).then(() => setStatus("ended"))}
          >
            End session
          </Button>
        )}
      </Group>
      {now === "waiting" && (
        <Paper p="md">
          {code ? (
            <>
              <Text fz="sm">
                Read this code to the caller and ask them to open {window.location.origin}/join:
              </Text>
              <Text
                fz={40}
                fw={700}
                ff="monospace"
                data-testid="support-code"
                aria-label={`Code ${code.split("").join(" ")}`}
              >
                {code.slice(0, 3)} {code.slice(3)}
              </Text>
              <Text fz="xs" c="dimmed">
                Valid until {new Date(s.codeExpiresAt).toLocaleTimeString()}, once.
              </Text>
            </>
          ) : (
            <Text fz="sm">
              The code was shown when the session was started. Start a new session for a new code.
            </Text>
          )}
        </Paper>
      )}
      {ended && (
        <Alert color="gray" title="This session has ended">
          Its record (consents, chat, files) is on the ticket.
        </Alert>
      )}
      <Grid gap="md">
        <Grid.Col span={{ base: 12, lg: 8 }}>
          <Paper p="xs" style={{ background: "#111" }}>
            <video
              ref={video}
              autoPlay
              playsInline
              muted
              aria-label="The caller's screen"
              data-testid="caller-screen"
              style={{ width: "100%", minHeight: 240, display: "block" }}
            />
            {!sharing && (
              <Text c="gray.4" fz="sm" p="sm">
                The caller's screen appears here once they share it.
              </Text>
            )}
          </Paper>
        </Grid.Col>
        <Grid.Col span={{ base: 12, lg: 4 }}>
          <Paper p="xs">
            <SupportChat
              events={events}
              me="technician"
              otherName="Caller"
              disabled={now !== "active"}
              onSend={(text) => conn.current?.send({ t: "chat", text })}
              onFile={(f) => void sendFile(f)}
              fileHref={(e) => ({ href: `/api/v1/attachments/${String(e.data?.attachmentId)}` })}
            />
          </Paper>
          {now === "active" && <CallerMachine sessionId={id} ticketNumber={s.ticketNumber} events={events} />}
          {now === "active" && (
            <Paper p="xs" mt="md">
              <Text fz="sm" fw={600} mb={4}>
                Ask for more
              </Text>
              <Group gap="xs" align="flex-end">
                <Select
                  aria-label="Device"
                  placeholder="Device"
                  data={(devices.data?.items ?? []).map((d) => ({ value: d.id, label: d.hostname }))}
                  value={device}
                  onChange={setDevice}
                  w={180}
                />
                <Button
                  size="xs"
                  variant="default"
                  disabled={!device}
                  onClick={() =>
                    device && conn.current?.send({ t: "consent.request", scope: "shell", deviceId: device })
                  }
                >
                  Ask for a shell
                </Button>
                <Button
                  size="xs"
                  variant="default"
                  disabled={!device}
                  onClick={() =>
                    device && conn.current?.send({ t: "consent.request", scope: "files", deviceId: device })
                  }
                >
                  Ask for files
                </Button>
              </Group>
              {device &&
                events.some(
                  (e) =>
                    e.kind === "consent" &&
                    e.data?.deviceId === device &&
                    e.data?.scope === "shell" &&
                    e.data?.granted,
                ) && (
                  <Button
                    size="xs"
                    mt="xs"
                    component={Link}
                    href={`/devices/${device}/shell?ticket=${s.ticketNumber}&supportSessionId=${id}`}
                  >
                    Open the shell the caller allowed
                  </Button>
                )}
            </Paper>
          )}
        </Grid.Col>
      </Grid>
      <Box />
    </Stack>
  );
}

/**
 * Control and shell on request: ask the caller to run the one-time support agent, see their answer, and
 * once it runs, open the shell (and files) on their machine. It lasts as long as the session.
 */
function CallerMachine({
  sessionId,
  ticketNumber,
  events,
}: {
  sessionId: string;
  ticketNumber: number;
  events: SupportEventDto[];
}) {
  const st = controlState(events);
  // Polled while the session is active: whether the agent is connected changes without an event.
  const q = useQuery({
    queryKey: ["support-devices", sessionId],
    queryFn: () => get<SupportSessionDto>(`/support-sessions/${sessionId}`).then((s) => s.supportDevices),
    refetchInterval: 5000,
  });
  const devices = q.data ?? [];
  const [problem, setProblem] = useState<string | null>(null);
  const live = devices.filter((d) => d.status !== "retired");
  const ask = () =>
    api("POST", `/support-sessions/${sessionId}/control-request`).then(
      () => setProblem(null),
      (e: Error) => setProblem(e.message),
    );
  return (
    <Paper p="xs" mt="md" data-testid="caller-machine">
      <Text fz="sm" fw={600} mb={4}>
        The caller's machine
      </Text>
      {live.length > 0 ? (
        <Stack gap="xs">
          {live.map((d) => (
            <Group key={d.id} gap="xs">
              <Text fz="sm">
                {d.hostname} ({d.platform}, {d.status})
              </Text>
              <Button
                size="xs"
                component={Link}
                href={`/devices/${d.id}/shell?ticket=${ticketNumber}&supportSessionId=${sessionId}`}
              >
                Open shell on caller's machine
              </Button>
              <Button size="xs" variant="default" component={Link} href={`/devices/${d.id}`}>
                Files
              </Button>
            </Group>
          ))}
          <Text fz="xs" c="dimmed">
            The support agent stops and removes itself when this session ends.
          </Text>
        </Stack>
      ) : st.pending ? (
        <Text fz="sm">Waiting for the caller to allow control…</Text>
      ) : st.granted ? (
        <Text fz="sm">
          The caller allowed control; waiting for the support program to start on their computer.
        </Text>
      ) : (
        <Stack gap={4} align="flex-start">
          {st.asked && (
            <Text fz="sm" c="dimmed">
              The caller declined or took control back.
            </Text>
          )}
          <Button size="xs" variant="default" onClick={() => void ask()}>
            Request control/shell
          </Button>
          <Text fz="xs" c="dimmed">
            The caller runs a one-time support program (nothing installed) that gives you a shell and files on
            their computer until the session ends.
          </Text>
        </Stack>
      )}
      {problem && (
        <Text fz="sm" c="red">
          {problem}
        </Text>
      )}
    </Paper>
  );
}
