import { Alert, Button, Code, CopyButton, Group, Stack, Tabs, Text } from "@mantine/core";
import type { SupportAgentOfferDto, SupportEventDto } from "@switchboard/shared";
import { useState } from "react";
import { api, isApiError } from "../../api/client.ts";

type Os = "linux" | "macos" | "windows";
const guessOs = (): Os => {
  const ua = navigator.userAgent;
  if (/Windows/i.test(ua)) return "windows";
  if (/Mac OS X|Macintosh/i.test(ua)) return "macos";
  return "linux";
};

/**
 * Windows: the same line in a .cmd file made here in the browser (nothing more is stored anywhere), so the
 * caller can double-click it instead of opening a Command Prompt. It carries the single-use code.
 */
function launcher(command: string, code: string) {
  const text = `@echo off\r\necho Starting the Switchboard support program...\r\n${command}\r\npause\r\n`;
  const url = URL.createObjectURL(new Blob([text], { type: "application/octet-stream" }));
  const a = document.createElement("a");
  a.href = url;
  a.download = `switchboard-support-${code}.cmd`;
  a.click();
  URL.revokeObjectURL(url);
}

/** The caller's latest answer to "control", or null when they have not answered since the last request. */
export function controlState(events: SupportEventDto[]) {
  const lastRequest = [...events]
    .reverse()
    .find((e) => e.kind === "consent_request" && e.data?.scope === "control");
  const lastAnswer = [...events].reverse().find((e) => e.kind === "consent" && e.data?.scope === "control");
  const agents = events.filter((e) => e.kind === "agent");
  const running = agents.length > 0 && agents[agents.length - 1]?.data?.state === "started";
  return {
    asked: !!lastRequest,
    pending: !!lastRequest && (!lastAnswer || Number(lastAnswer.id) < Number(lastRequest.id)),
    granted: lastAnswer?.data?.granted === true,
    running,
    host: running ? String(agents[agents.length - 1]?.data?.hostname ?? "") : null,
  };
}

/**
 * On /join: the technician's request for control, the caller's separate answer, then the one-time code
 * and how to run the support program with it. The code is shown once per request for it.
 */
export function SupportAgentOffer({
  events,
  tech,
  headers,
}: {
  events: SupportEventDto[];
  tech: string;
  headers: Record<string, string>;
}) {
  const st = controlState(events);
  const [offer, setOffer] = useState<SupportAgentOfferDto | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [os, setOs] = useState<Os>(guessOs);

  const getCode = async () => {
    setProblem(null);
    try {
      setOffer(await api<SupportAgentOfferDto>("POST", "/join/support-agent", { headers }));
    } catch (e) {
      setProblem(isApiError(e) ? e.message : "The code could not be made. Try again.");
    }
  };
  const answer = async (granted: boolean) => {
    setProblem(null);
    try {
      await api("POST", "/join/consent", { headers, body: { scope: "control", granted } });
      if (granted) await getCode();
      else setOffer(null);
    } catch (e) {
      setProblem(isApiError(e) ? e.message : "Your answer did not reach the server. Try again.");
    }
  };

  if (!st.asked) return null;
  if (st.pending) {
    return (
      <Alert color="orange" title={`${tech} asks to control this computer`} data-testid="control-request">
        <Stack gap="xs">
          <Text fz="sm">
            If you allow it, you run a small Switchboard support program on this computer. It lets {tech} run
            commands and copy files on it, as your user account, until this session ends. Then it stops and
            deletes itself. Nothing is installed. Allow this only if you asked {tech} for help.
          </Text>
          {problem && (
            <Text fz="sm" c="red">
              {problem}
            </Text>
          )}
          <Group>
            <Button size="xs" onClick={() => void answer(true)}>
              Allow control
            </Button>
            <Button size="xs" variant="default" onClick={() => void answer(false)}>
              Decline
            </Button>
          </Group>
        </Stack>
      </Alert>
    );
  }
  if (!st.granted) return null;
  const d = offer?.downloads.find((x) => x.key === os);
  return (
    <Alert
      color="blue"
      title={st.running ? `The support program is running on ${st.host}` : "Run the support program"}
    >
      <Stack gap="xs">
        {st.running ? (
          <Text fz="sm">
            {tech} can now run commands and copy files on {st.host}. When the session ends (the End session
            button above), the program stops and deletes itself.
          </Text>
        ) : offer ? (
          <>
            <Text fz="sm">
              Your one-time code, valid until {new Date(offer.expiresAt).toLocaleTimeString()} and only for
              this session:
            </Text>
            <Text fz={28} fw={700} ff="monospace" data-testid="support-agent-code">
              {offer.code}
            </Text>
            <Tabs value={os} onChange={(v) => v && setOs(v as Os)}>
              <Tabs.List>
                {offer.downloads.map((x) => (
                  <Tabs.Tab key={x.key} value={x.key}>
                    {x.label}
                  </Tabs.Tab>
                ))}
              </Tabs.List>
            </Tabs>
            {d?.available && d.command ? (
              <>
                <Text fz="sm">
                  Open a {os === "windows" ? "Command Prompt" : "Terminal"}, paste this line and press Enter:
                </Text>
                <Code block data-testid="support-agent-command">
                  {d.command}
                </Code>
                <Group>
                  <CopyButton value={d.command}>
                    {({ copied, copy }) => (
                      <Button size="xs" variant="default" onClick={copy}>
                        {copied ? "Copied" : "Copy the line"}
                      </Button>
                    )}
                  </CopyButton>
                  {os === "windows" && (
                    <Button size="xs" variant="default" onClick={() => launcher(d.command!, offer.code)}>
                      Download a launcher to double-click
                    </Button>
                  )}
                  {d.url && (
                    <Button size="xs" variant="default" component="a" href={d.url}>
                      Or download the program
                    </Button>
                  )}
                </Group>
                {d.url && (
                  <Text fz="xs" c="dimmed">
                    Downloaded by hand, run it as: switchboard-agent support --server {offer.serverUrl} --code{" "}
                    {offer.code}
                  </Text>
                )}
              </>
            ) : (
              <Text fz="sm">{d?.note ?? "There is no support program for this system."}</Text>
            )}
            {d?.available && d.note && (
              <Text fz="xs" c="dimmed">
                {d.note}
              </Text>
            )}
            <Group>
              <Button size="xs" variant="subtle" onClick={() => void getCode()}>
                New code
              </Button>
            </Group>
          </>
        ) : (
          <Button size="xs" onClick={() => void getCode()}>
            Show my code
          </Button>
        )}
        {problem && (
          <Text fz="sm" c="red">
            {problem}
          </Text>
        )}
        <Group>
          <Button size="xs" variant="default" color="red" onClick={() => void answer(false)}>
            Take control back
          </Button>
        </Group>
      </Stack>
    </Alert>
  );
}
