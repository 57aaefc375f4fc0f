import {
  Alert,
  Anchor,
  Button,
  Code,
  Container,
  Group,
  Paper,
  Stack,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";
import { call, fragment } from "./api.ts";

interface Approval {
  contactName: string;
  approverName: string;
  ticketNumber: number | null;
  requestedBy: string;
  status: "sent" | "passed" | "failed" | "expired" | "send_failed" | "denied";
  expiresAt: string;
}

/**
 * A manager approves (or denies) a caller's verification from the mailed link; no sign-in: the signed
 * token in the fragment is posted, never put in a URL.
 */
export function ApprovePage() {
  const token = useRef(fragment().get("token") ?? "");
  const [data, setData] = useState<Approval | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    call<Approval>("POST", "/identity/approval", { token: token.current }).then(setData, (e: Error) =>
      setError(e.message),
    );
  }, []);
  const decide = async (approve: boolean) => {
    setBusy(true);
    try {
      setData(await call<Approval>("POST", "/identity/approval/decision", { token: token.current, approve }));
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  return (
    <Container size="sm" py="xl">
      <Paper withBorder p="lg">
        <Stack>
          <Title order={1} size="h2">
            Approve a caller's verification
          </Title>
          {error && <Alert color="red">{error}</Alert>}
          {data && (
            <>
              <Text>
                {data.requestedBy} is helping <b>{data.contactName}</b>
                {data.ticketNumber ? ` (ticket #${data.ticketNumber})` : ""} and asks you to confirm it is
                really them.
              </Text>
              {data.status === "sent" ? (
                <Group>
                  <Button color="green" onClick={() => decide(true)} loading={busy}>
                    Yes, it is {data.contactName}
                  </Button>
                  <Button color="red" variant="light" onClick={() => decide(false)} disabled={busy}>
                    No, deny
                  </Button>
                </Group>
              ) : (
                <Alert color={data.status === "passed" ? "green" : "gray"}>
                  {data.status === "passed"
                    ? "Approved. The technician sees it now."
                    : data.status === "denied"
                      ? "Denied. The technician was told."
                      : `This request is ${data.status.replace("_", " ")}.`}
                </Alert>
              )}
            </>
          )}
        </Stack>
      </Paper>
    </Container>
  );
}

/** On the account page: the authenticator the help desk asks a code from when this contact calls. */
export function VerificationAuthenticator() {
  const qc = useQueryClient();
  const state = useQuery({
    queryKey: ["portal-identity"],
    queryFn: () => call<{ totp: "none" | "pending" | "enrolled" }>("GET", "/portal/identity"),
  });
  const [setup, setSetup] = useState<{ otpauthUri: string; secret: string } | null>(null);
  const [code, setCode] = useState("");
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  return (
    <Stack>
      <Title order={2} size="h3">
        Verifying your calls
      </Title>
      <Text size="sm">
        When you call for help (a password reset, an unlock), the technician can ask for a code from this
        authenticator to be sure it is you.
      </Text>
      {msg && <Alert color={msg.ok ? "green" : "red"}>{msg.text}</Alert>}
      {setup ? (
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            try {
              await call("POST", "/portal/identity/totp/confirm", { code });
              setSetup(null);
              setMsg({ ok: true, text: "Your authenticator is ready for calls." });
              qc.invalidateQueries({ queryKey: ["portal-identity"] });
            } catch (err) {
              setMsg({ ok: false, text: (err as Error).message });
            }
          }}
        >
          <Stack>
            <Text>
              Add this key to your authenticator app (or{" "}
              <Anchor href={setup.otpauthUri}>open it on this phone</Anchor>), then type the code it shows.
            </Text>
            <Code block>{setup.secret}</Code>
            <TextInput
              label="Code"
              inputMode="numeric"
              autoComplete="one-time-code"
              value={code}
              onChange={(e) => setCode(e.currentTarget.value)}
              required
            />
            <Button type="submit">Confirm</Button>
          </Stack>
        </form>
      ) : (
        <Group>
          <Text>{state.data?.totp === "enrolled" ? "On." : "Not set up."}</Text>
          <Button
            variant="default"
            onClick={async () => setSetup(await call("POST", "/portal/identity/totp"))}
          >
            {state.data?.totp === "enrolled" ? "Replace the authenticator" : "Set up an authenticator"}
          </Button>
        </Group>
      )}
    </Stack>
  );
}
