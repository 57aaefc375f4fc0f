import {
  Alert,
  Anchor,
  Button,
  Code,
  Container,
  Group,
  Paper,
  PasswordInput,
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
                  <Button onClick={() => decide(true)} loading={busy}>
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

interface SelfVerification {
  id: string;
  status: "pending" | "verified" | "failed" | "expired" | "cancelled";
  reason: string | null;
  factorsRequired: number;
  factorsPassed: string[];
  challenges: Array<{
    id: string;
    method: string;
    status: string;
    destination: string;
    attemptsLeft: number;
    lastError: string | null;
  }>;
}
interface PortalIdentity {
  totp: "none" | "pending" | "enrolled";
  selfService: { account: string | null; available: boolean; methods: Array<"sms" | "email" | "totp"> };
}
const SELF_LABEL = {
  sms: "Text me a code",
  email: "Email me a code",
  totp: "Use my authenticator app",
} as const;

/** Reset or unlock your own account: verify with a code (as the policy asks), then choose a password. */
export function SelfServicePage() {
  const offer = useQuery({
    queryKey: ["portal-identity"],
    queryFn: () => call<PortalIdentity>("GET", "/portal/identity"),
  });
  const [v, setV] = useState<SelfVerification | null>(null);
  const [code, setCode] = useState("");
  const [password, setPassword] = useState("");
  const [again, setAgain] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [done, setDone] = useState<{ ticketNumber: number | null; action: string } | null>(null);
  const [failed, setFailed] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const act = async (fn: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await fn();
    } catch (e) {
      setError((e as Error).message);
    } finally {
      setBusy(false);
    }
  };
  const open = v?.challenges.filter((c) => c.status === "sent").at(-1);
  const submit = (action: "reset_password" | "unlock") =>
    act(async () => {
      const r = await call<{ action: { status: string; error: string | null }; ticketNumber: number | null }>(
        "POST",
        "/portal/identity/reset",
        action === "reset_password"
          ? { action, verificationId: v!.id, password }
          : { action, verificationId: v!.id },
      );
      if (r.action.status === "succeeded") {
        setDone({ ticketNumber: r.ticketNumber, action });
        setFailed(null);
      } else setFailed(r.action.error ?? "The directory did not answer in time; try again.");
    });
  const s = offer.data?.selfService;
  return (
    <Stack>
      <Title order={1}>Reset your password</Title>
      {offer.data && !s?.available && (
        <Alert color="gray">
          Self-service reset is not set up for your account. Call us or open a ticket.
        </Alert>
      )}
      {error && <Alert color="red">{error}</Alert>}
      {s?.available && !v && (
        <>
          <Text>
            First we check it is you: we send a one-time code to you. Your account: <b>{s.account}</b>.
          </Text>
          <Group>
            <Button
              onClick={() =>
                act(async () => setV(await call<SelfVerification>("POST", "/portal/identity/verifications")))
              }
              loading={busy}
            >
              Start
            </Button>
          </Group>
        </>
      )}
      {v && v.status === "pending" && s && (
        <Stack>
          <Text>
            {v.factorsRequired > 1
              ? `Your company asks for ${v.factorsRequired} codes from different methods (${v.factorsPassed.length} done).`
              : "Choose where the code goes."}
          </Text>
          <Group>
            {s.methods.map((m) => (
              <Button
                key={m}
                variant="light"
                disabled={busy}
                onClick={() =>
                  act(async () =>
                    setV(
                      await call<SelfVerification>(
                        "POST",
                        `/portal/identity/verifications/${v.id}/challenges`,
                        { method: m },
                      ),
                    ),
                  )
                }
              >
                {SELF_LABEL[m]}
              </Button>
            ))}
          </Group>
          {v.challenges
            .filter((c) => c.lastError)
            .map((c) => (
              <Alert key={c.id} color="red">
                {c.lastError}
              </Alert>
            ))}
          {open && (
            <form
              onSubmit={(e) => {
                e.preventDefault();
                act(async () => {
                  setV(
                    await call<SelfVerification>("POST", `/portal/identity/verifications/${v.id}/check`, {
                      challengeId: open.id,
                      code,
                    }),
                  );
                  setCode("");
                });
              }}
            >
              <Group align="flex-end">
                <TextInput
                  label={
                    open.method === "totp"
                      ? "Code from your authenticator"
                      : `Code sent to ${open.destination}`
                  }
                  inputMode="numeric"
                  autoComplete="one-time-code"
                  value={code}
                  onChange={(e) => setCode(e.currentTarget.value)}
                  required
                />
                <Button type="submit" loading={busy}>
                  Check
                </Button>
              </Group>
            </form>
          )}
        </Stack>
      )}
      {v && (v.status === "failed" || v.status === "expired") && (
        <Alert color="red" title="We could not verify you">
          {v.reason ?? "The verification expired."}{" "}
          <Button size="xs" variant="light" onClick={() => setV(null)}>
            Start again
          </Button>
        </Alert>
      )}
      {v?.status === "verified" && !done && (
        <form
          onSubmit={(e) => {
            e.preventDefault();
            if (password !== again) return setError("The two passwords differ");
            submit("reset_password");
          }}
        >
          <Stack>
            <Alert color="green">Verified. Choose your new password.</Alert>
            <PasswordInput
              label="New password"
              value={password}
              onChange={(e) => setPassword(e.currentTarget.value)}
              required
              minLength={8}
              autoComplete="new-password"
            />
            <PasswordInput
              label="New password again"
              value={again}
              onChange={(e) => setAgain(e.currentTarget.value)}
              required
              minLength={8}
              autoComplete="new-password"
            />
            {failed && (
              <Alert color="red" title="Your directory refused it">
                {failed}
              </Alert>
            )}
            <Group>
              <Button type="submit" loading={busy}>
                {failed ? "Try again" : "Set my password"}
              </Button>
              <Button variant="default" onClick={() => submit("unlock")} disabled={busy}>
                Only unlock my account
              </Button>
            </Group>
          </Stack>
        </form>
      )}
      {done && (
        <>
          <Alert
            color="green"
            title={done.action === "unlock" ? "Your account is unlocked" : "Your password is changed"}
          >
            {done.ticketNumber ? `Recorded as ticket #${done.ticketNumber}.` : "Done."}
          </Alert>
          <Anchor href="/portal/">Back to your tickets</Anchor>
        </>
      )}
    </Stack>
  );
}
