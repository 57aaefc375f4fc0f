import { Alert, Button, Code, PasswordInput, Stack, Text, TextInput, Title } from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { call, type Me } from "./api.ts";
import { VerificationAuthenticator } from "./identity.tsx";

/** A password (so the contact need not wait for a link) and an authenticator app as a second step. */
export function AccountPage({ me }: { me: Me }) {
  const qc = useQueryClient();
  const [current, setCurrent] = useState("");
  const [password, setPassword] = useState("");
  const [msg, setMsg] = useState<{ ok: boolean; text: string } | null>(null);
  const [setup, setSetup] = useState<{ secret: string; uri: string } | null>(null);
  const [code, setCode] = useState("");
  return (
    <Stack maw={480}>
      <Title order={1}>Your account</Title>
      <Text>
        {me.name} · {me.email}
      </Text>
      {msg && (
        <Alert color={msg.ok ? "green" : "red"} role="status">
          {msg.text}
        </Alert>
      )}
      <form
        onSubmit={async (e) => {
          e.preventDefault();
          try {
            await call("PUT", "/portal/me/password", {
              password,
              ...(me.hasPassword ? { currentPassword: current } : {}),
            });
            setMsg({ ok: true, text: "Password saved." });
            setPassword("");
            setCurrent("");
            qc.invalidateQueries({ queryKey: ["me"] });
          } catch (err) {
            setMsg({ ok: false, text: (err as Error).message });
          }
        }}
      >
        <Stack>
          <Title order={2} size="h3">
            Password
          </Title>
          {me.hasPassword && (
            <PasswordInput
              label="Current password"
              value={current}
              onChange={(e) => setCurrent(e.currentTarget.value)}
              required
            />
          )}
          <PasswordInput
            label="New password (12+ characters)"
            value={password}
            onChange={(e) => setPassword(e.currentTarget.value)}
            required
            minLength={12}
          />
          <Button type="submit">Save password</Button>
        </Stack>
      </form>
      <Title order={2} size="h3">
        Authenticator app
      </Title>
      {me.totpEnabled ? (
        <Text>On: signing in with a password also asks for a code.</Text>
      ) : setup ? (
        <form
          onSubmit={async (e) => {
            e.preventDefault();
            try {
              await call("POST", "/portal/me/totp/confirm", { code });
              setSetup(null);
              setMsg({ ok: true, text: "Authenticator app turned on." });
              qc.invalidateQueries({ queryKey: ["me"] });
            } catch (err) {
              setMsg({ ok: false, text: (err as Error).message });
            }
          }}
        >
          <Stack>
            <Text>Add this key to your authenticator app, then type the code it shows.</Text>
            <Code block>{setup.secret}</Code>
            <TextInput
              label="Code"
              inputMode="numeric"
              autoComplete="one-time-code"
              value={code}
              onChange={(e) => setCode(e.currentTarget.value)}
              required
            />
            <Button type="submit">Turn on</Button>
          </Stack>
        </form>
      ) : (
        <Button
          variant="default"
          onClick={async () => setSetup(await call("POST", "/portal/me/totp"))}
          disabled={!me.hasPassword}
        >
          Set up an authenticator app
        </Button>
      )}
      <VerificationAuthenticator />
    </Stack>
  );
}
