import {
  Alert,
  Button,
  Center,
  Paper,
  PasswordInput,
  Stack,
  Tabs,
  Text,
  TextInput,
  Title,
} from "@mantine/core";
import { useEffect, useRef, useState } from "react";
import { useLocation } from "wouter";
import { call, fragment, PortalError } from "./api.ts";

/** Sign in by an emailed link (the default) or a password with an authenticator code when set up. */
export function SignInPage() {
  const [, navigate] = useLocation();
  const token = fragment().get("token");
  const [error, setError] = useState<string | null>(null);
  const redeemed = useRef(false);

  useEffect(() => {
    if (!token || redeemed.current) return;
    redeemed.current = true;
    // The token leaves the address bar at once: a link works once, and history should not keep it.
    window.history.replaceState(null, "", window.location.pathname);
    call("POST", "/portal/auth/redeem", { token })
      .then(() => navigate("/", { replace: true }))
      .catch((e: Error) => setError(e.message));
  }, [token, navigate]);

  if (token && !error) {
    return (
      <Center h="100vh">
        <Text role="status">Signing you in…</Text>
      </Center>
    );
  }
  return (
    <Center mih="100vh" p="md" component="main">
      <Paper withBorder p="xl" w={420} radius="md">
        <Title order={1} size="h2" mb="md">
          Sign in to support
        </Title>
        {error && (
          <Alert color="red" mb="md" role="alert">
            {error}
          </Alert>
        )}
        <Tabs defaultValue="link">
          <Tabs.List mb="md">
            <Tabs.Tab value="link">Email me a link</Tabs.Tab>
            <Tabs.Tab value="password">Password</Tabs.Tab>
          </Tabs.List>
          <Tabs.Panel value="link">
            <LinkForm />
          </Tabs.Panel>
          <Tabs.Panel value="password">
            <PasswordForm onDone={() => navigate("/")} />
          </Tabs.Panel>
        </Tabs>
      </Paper>
    </Center>
  );
}

function LinkForm() {
  const [email, setEmail] = useState("");
  const [sent, setSent] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  if (sent) {
    return (
      <Alert color="green" role="status">
        If {email} has access to the portal, a sign-in link is on its way. It works once, for a few minutes.
      </Alert>
    );
  }
  return (
    <form
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        try {
          await call("POST", "/portal/auth/link", { email });
          setSent(true);
        } catch (err) {
          setError((err as Error).message);
        } finally {
          setBusy(false);
        }
      }}
    >
      <Stack>
        <TextInput
          label="Email"
          type="email"
          required
          value={email}
          onChange={(e) => setEmail(e.currentTarget.value)}
          error={error}
        />
        <Button type="submit" loading={busy}>
          Email me a sign-in link
        </Button>
      </Stack>
    </form>
  );
}

function PasswordForm({ onDone }: { onDone: () => void }) {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [code, setCode] = useState("");
  const [needCode, setNeedCode] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  return (
    <form
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        try {
          await call("POST", "/portal/auth/login", {
            email,
            password,
            ...(needCode ? { totpCode: code } : {}),
          });
          onDone();
        } catch (err) {
          const d =
            err instanceof PortalError ? (err.details as { totpRequired?: boolean } | undefined) : undefined;
          if (d?.totpRequired) setNeedCode(true);
          else setError((err as Error).message);
        } finally {
          setBusy(false);
        }
      }}
    >
      <Stack>
        <TextInput
          label="Email"
          type="email"
          required
          value={email}
          onChange={(e) => setEmail(e.currentTarget.value)}
        />
        <PasswordInput
          label="Password"
          required
          value={password}
          onChange={(e) => setPassword(e.currentTarget.value)}
        />
        {needCode && (
          <TextInput
            label="Code from your authenticator app"
            inputMode="numeric"
            autoComplete="one-time-code"
            required
            value={code}
            onChange={(e) => setCode(e.currentTarget.value)}
          />
        )}
        {error && (
          <Text c="red.8" role="alert">
            {error}
          </Text>
        )}
        <Button type="submit" loading={busy}>
          Sign in
        </Button>
      </Stack>
    </form>
  );
}
