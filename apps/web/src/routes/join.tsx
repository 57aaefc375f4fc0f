import { Alert, Box, Button, Center, Group, Paper, PinInput, Stack, Text, Title } from "@mantine/core";
import type { CallerSessionDto, SupportEventDto, SupportServerFrame } from "@switchboard/shared";
import { useEffect, useRef, useState } from "react";
import { api, isApiError } from "../api/client.ts";
import { SupportAgentOffer } from "../features/remote/support-agent-offer.tsx";
import { SupportChat } from "../features/remote/support-chat.tsx";
import { SupportConnection } from "../features/remote/support-socket.ts";

const TOKEN_KEY = "sb-support-token";

/**
 * The caller's page (no sign-in): the 6-digit code, then who is asking and a warning, then an explicit
 * consent, then screen sharing with a banner that is always on screen and ends everything in one click.
 */
export function JoinPage({ mspName }: { mspName: string }) {
  const [token, setToken] = useState<string | null>(() => sessionStorage.getItem(TOKEN_KEY));
  const [session, setSession] = useState<CallerSessionDto | null>(null);
  const [code, setCode] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const headers = token ? { "x-support-token": token } : undefined;

  useEffect(() => {
    if (!token || session) return;
    api<CallerSessionDto>("GET", "/join/session", { headers: { "x-support-token": token } })
      .then(setSession)
      .catch(() => {
        sessionStorage.removeItem(TOKEN_KEY);
        setToken(null);
      });
  }, [token, session]);

  const submit = async (value: string) => {
    setBusy(true);
    setError(null);
    try {
      const r = await api<{ token: string; session: CallerSessionDto }>("POST", "/join", {
        body: { code: value },
      });
      sessionStorage.setItem(TOKEN_KEY, r.token);
      setToken(r.token);
      setSession(r.session);
    } catch (e) {
      setError(isApiError(e) ? e.message : "Something went wrong. Try again.");
      setCode("");
    } finally {
      setBusy(false);
    }
  };

  const leave = () => {
    sessionStorage.removeItem(TOKEN_KEY);
    setToken(null);
    setSession(null);
  };

  return (
    <Box component="main" mih="100vh" bg="var(--mantine-color-body)">
      {session && token ? (
        <CallerSession
          session={session}
          token={token}
          headers={headers!}
          onLeave={leave}
          mspName={session.mspName}
        />
      ) : (
        <Center mih="100vh" p="md">
          <Paper p="xl" maw={440} w="100%" withBorder>
            <Stack gap="md">
              <Title order={1} fz="xl">
                {mspName} remote support
              </Title>
              <Text>To connect, please enter the 6-digit code given to you by your technician.</Text>
              <PinInput
                length={6}
                type="number"
                size="lg"
                value={code}
                onChange={setCode}
                onComplete={(v) => void submit(v)}
                disabled={busy}
                aria-label="Support code"
                oneTimeCode
              />
              {error && (
                <Alert color="red" role="alert">
                  {error}
                </Alert>
              )}
              <Button onClick={() => void submit(code)} disabled={code.length !== 6} loading={busy}>
                Connect
              </Button>
              <Text fz="xs" c="dimmed">
                Only enter a code that a technician of {mspName} gave you for a problem you reported.
              </Text>
            </Stack>
          </Paper>
        </Center>
      )}
    </Box>
  );
}

function CallerSession({
  session,
  token,
  headers,
  onLeave,
  mspName,
}: {
  session: CallerSessionDto;
  token: string;
  headers: Record<string, string>;
  onLeave: () => void;
  mspName: string;
}) {
  const [status, setStatus] = useState(session.status);
  const [events, setEvents] = useState<SupportEventDto[]>(session.events);
  const [sharing, setSharing] = useState(false);
  const [peer, setPeer] = useState(false);
  const [problem, setProblem] = useState<string | null>(null);
  const conn = useRef<SupportConnection | null>(null);
  const stream = useRef<MediaStream | null>(null);
  const ended = !["joined", "active"].includes(status);
  const tech = session.technicianName;

  useEffect(() => {
    if (ended) return;
    const c = new SupportConnection(
      "/join/socket",
      session.iceServers as RTCIceServer[],
      (f: SupportServerFrame) => {
        if (f.t === "event") setEvents((es) => (es.some((e) => e.id === f.event.id) ? es : [...es, f.event]));
        else if (f.t === "status" || f.t === "ready") setStatus(f.status);
        else if (f.t === "peer") {
          setPeer(f.present);
          if (f.present) void c.reoffer();
        } else if (f.t === "ended") {
          setStatus("ended");
          c.stopSharing();
          setSharing(false);
        }
      },
      token,
    );
    conn.current = c;
    return () => c.close();
  }, [ended, session.iceServers, token]);

  const share = async () => {
    setProblem(null);
    try {
      const s = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
      stream.current = s;
      s.getVideoTracks()[0]?.addEventListener("ended", () => {
        setSharing(false);
        conn.current?.send({ t: "screen", sharing: false });
      });
      setSharing(true);
      conn.current?.send({ t: "screen", sharing: true });
      await conn.current?.offer(s);
    } catch {
      setProblem("Screen sharing did not start. You can try again, or keep chatting.");
    }
  };

  const consent = async (scope: "session" | "shell" | "files", granted: boolean, deviceId?: string) => {
    await api("POST", "/join/consent", {
      headers,
      body: { scope, granted, ...(deviceId ? { deviceId } : {}) },
    });
    if (scope === "session" && granted) {
      setStatus("active");
      await share();
    }
    if (scope === "session" && !granted) setStatus("ended");
  };

  const end = async () => {
    conn.current?.send({ t: "end" });
    await api("POST", "/join/end", { headers }).catch(() => {});
    conn.current?.stopSharing();
    setSharing(false);
    setStatus("ended");
  };

  const sendFile = async (file: File) => {
    const form = new FormData();
    form.append("file", file);
    await fetch("/api/v1/join/files", { method: "POST", body: form, headers });
  };
  const download = async (e: SupportEventDto) => {
    const res = await fetch(`/api/v1/join/files/${String(e.data?.attachmentId)}`, { headers });
    if (!res.ok) return;
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement("a");
    a.href = url;
    a.download = String(e.data?.filename ?? "file");
    a.click();
    URL.revokeObjectURL(url);
  };

  const answered = (req: SupportEventDto) =>
    events.some(
      (e) =>
        e.kind === "consent" &&
        e.data?.deviceId === req.data?.deviceId &&
        e.data?.scope === req.data?.scope &&
        Number(e.id) > Number(req.id),
    );
  const openRequests = events.filter(
    (e) => e.kind === "consent_request" && e.data?.scope !== "control" && !answered(e),
  );

  if (ended) {
    return (
      <Center mih="100vh" p="md">
        <Paper p="xl" maw={480} withBorder>
          <Stack>
            <Title order={1} fz="xl">
              The session has ended
            </Title>
            <Text>Your screen is no longer shared with {mspName}. You can close this page.</Text>
            <Button variant="default" onClick={onLeave}>
              Enter another code
            </Button>
          </Stack>
        </Paper>
      </Center>
    );
  }

  if (status === "joined") {
    return (
      <Center mih="100vh" p="md">
        <Paper p="xl" maw={520} withBorder>
          <Stack gap="md">
            <Title order={1} fz="xl">
              Who is asking
            </Title>
            <Text>
              <b>{tech}</b> from <b>{mspName}</b> asks to see your screen and chat with you about ticket{" "}
              <b>#{session.ticketNumber}</b>: {session.ticketSubject}.
            </Text>
            <Alert color="red" title="If someone called you unexpectedly, stop here.">
              Close this page if you did not ask {mspName} for help, or if the person on the phone is not{" "}
              {tech}. Nobody from {mspName} will ask you to pay, or to install anything you were not
              expecting.
            </Alert>
            <Text fz="sm">
              If you allow it, {tech} sees what you choose to share, until you end the session. They cannot
              control your computer. You can end it at any moment from the bar at the top of this page.
            </Text>
            <Group>
              <Button onClick={() => void consent("session", true)}>Allow and share my screen</Button>
              <Button variant="default" color="red" onClick={() => void consent("session", false)}>
                No, stop
              </Button>
            </Group>
          </Stack>
        </Paper>
      </Center>
    );
  }

  return (
    <>
      <Box
        role="region"
        aria-label="Support session"
        pos="sticky"
        top={0}
        px="md"
        py="xs"
        bg="red.9"
        c="white"
        style={{ zIndex: 1000 }}
      >
        <Group justify="space-between">
          <Text fw={600} c="white">
            {sharing
              ? `You are sharing your screen with ${tech} (${mspName}).`
              : `You are in a support session with ${tech} (${mspName}).`}
          </Text>
          <Button color="dark" onClick={() => void end()}>
            End session
          </Button>
        </Group>
      </Box>
      <Stack p="md" maw={760} mx="auto">
        <Title order={1} fz="lg">
          Ticket #{session.ticketNumber}: {session.ticketSubject}
        </Title>
        <Text fz="sm" c="dimmed">
          {peer ? `${tech} is connected.` : `Waiting for ${tech} to connect…`}
        </Text>
        {!sharing && (
          <Group>
            <Button variant="default" onClick={() => void share()}>
              Share my screen
            </Button>
            {problem && <Text fz="sm">{problem}</Text>}
          </Group>
        )}
        <SupportAgentOffer events={events} tech={tech} headers={headers} />
        {openRequests.map((r) => (
          <Alert key={r.id} color="orange" title={r.body}>
            <Text fz="sm" mb="xs">
              {r.data?.scope === "shell"
                ? `This lets ${tech} run commands on ${String(r.data?.hostname)} with full administrator rights until this session ends.`
                : `This lets ${tech} copy files to and from ${String(r.data?.hostname)} until this session ends.`}
            </Text>
            <Group>
              <Button
                size="xs"
                onClick={() =>
                  void consent(r.data?.scope as "shell" | "files", true, String(r.data?.deviceId))
                }
              >
                Allow
              </Button>
              <Button
                size="xs"
                variant="default"
                onClick={() =>
                  void consent(r.data?.scope as "shell" | "files", false, String(r.data?.deviceId))
                }
              >
                Decline
              </Button>
            </Group>
          </Alert>
        ))}
        <Paper p="xs" withBorder>
          <SupportChat
            events={events}
            me="caller"
            otherName={tech}
            disabled={false}
            onSend={(text) => conn.current?.send({ t: "chat", text })}
            onFile={(f) => void sendFile(f)}
            fileHref={(e) => ({ onClick: () => void download(e) })}
          />
        </Paper>
      </Stack>
    </>
  );
}
