import {
  Alert,
  Button,
  Group,
  NumberInput,
  PasswordInput,
  Select,
  Stack,
  Switch,
  Text,
  TextInput,
} from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useEffect, useState } from "react";
import { api, fieldErrors, get } from "../../api/client.ts";
import type { EmailSettingsDto, SendTestEmailResult } from "./types.ts";
import { FormError } from "./ui.tsx";

export const TLS_OPTIONS = [
  { value: "starttls", label: "STARTTLS (usually port 587)" },
  { value: "implicit", label: "TLS (usually port 465)" },
  { value: "none", label: "None (local relays only)" },
];
const settingsKey = ["admin", "email-settings"] as const;

/** The relay mail goes out through when a mailbox has no SMTP server of its own, and the default From. */
export function RelaySettings() {
  const qc = useQueryClient();
  const settings = useQuery({
    queryKey: settingsKey,
    queryFn: () => get<EmailSettingsDto>("/email/settings"),
  });
  const s = settings.data;
  const [useRelay, setUseRelay] = useState(false);
  const [host, setHost] = useState("");
  const [port, setPort] = useState<number | string>(587);
  const [tls, setTls] = useState("starttls");
  const [user, setUser] = useState("");
  const [password, setPassword] = useState("");
  const [from, setFrom] = useState("");
  useEffect(() => {
    if (!s) return;
    setUseRelay(!!s.relay);
    setHost(s.relay?.host ?? "");
    setPort(s.relay?.port ?? 587);
    setTls(s.relay?.tls ?? "starttls");
    setUser(s.relay?.user ?? "");
    setPassword("");
    setFrom(s.defaultFromAddress ?? "");
  }, [s]);
  const save = useMutation({
    mutationFn: () =>
      api<EmailSettingsDto>("PUT", "/email/settings", {
        body: {
          version: s?.version ?? 1,
          relay: useRelay
            ? { host, port: Number(port), tls, user: user.trim() || null, ...(password ? { password } : {}) }
            : null,
          defaultFromAddress: from.trim() || null,
        },
      }),
    onSuccess: (next) => {
      qc.setQueryData(settingsKey, next);
      notifications.show({ message: "Outbound mail settings saved" });
    },
  });
  const errs = fieldErrors(save.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    save.mutate();
  };
  if (!s)
    return (
      <Text p="sm" fz="sm">
        {settings.isError ? settings.error.message : "Loading…"}
      </Text>
    );
  return (
    <Stack gap="md" p="sm">
      <form onSubmit={submit} aria-label="Outbound mail">
        <Stack gap="sm">
          <TextInput
            label="Default From address"
            description="Replies on tickets that came by phone, and invitations, are sent from this address (a mailbox's or client's own address wins)."
            placeholder={s.environmentFrom ?? "support@your-msp.example"}
            value={from}
            onChange={(e) => setFrom(e.currentTarget.value)}
            error={errs.defaultFromAddress}
          />
          <Switch
            label="Send through an SMTP relay"
            description={
              s.environmentRelay
                ? "Off: the relay from SWITCHBOARD_SMTP_RELAY_URL is used."
                : "Mailboxes with their own SMTP server use that instead."
            }
            checked={useRelay}
            onChange={(e) => setUseRelay(e.currentTarget.checked)}
          />
          {useRelay && (
            <>
              <Group grow align="flex-start">
                <TextInput
                  label="Relay host"
                  required
                  value={host}
                  onChange={(e) => setHost(e.currentTarget.value)}
                  error={errs["relay.host"]}
                />
                <NumberInput
                  label="Port"
                  min={1}
                  max={65535}
                  allowDecimal={false}
                  value={port}
                  onChange={setPort}
                  error={errs["relay.port"]}
                />
                <Select
                  label="Security"
                  data={TLS_OPTIONS}
                  value={tls}
                  onChange={(v) => v && setTls(v)}
                  allowDeselect={false}
                />
              </Group>
              <Group grow align="flex-start">
                <TextInput
                  label="User name"
                  value={user}
                  onChange={(e) => setUser(e.currentTarget.value)}
                  error={errs["relay.user"]}
                />
                <PasswordInput
                  label="Password"
                  description={
                    s.relay?.passwordSet ? "A password is stored; leave empty to keep it." : undefined
                  }
                  placeholder={s.relay?.passwordSet ? "••••••••" : ""}
                  value={password}
                  onChange={(e) => setPassword(e.currentTarget.value)}
                  autoComplete="new-password"
                />
              </Group>
            </>
          )}
          <FormError error={save.error} />
          <Group>
            <Button size="xs" type="submit" loading={save.isPending}>
              Save outbound mail
            </Button>
          </Group>
        </Stack>
      </form>
      <SendTest />
    </Stack>
  );
}

function SendTest() {
  const [to, setTo] = useState("");
  const test = useMutation({
    mutationFn: () => api<SendTestEmailResult>("POST", "/email/settings/test", { body: { to } }),
  });
  const r = test.data;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    test.mutate();
  };
  return (
    <form onSubmit={submit} aria-label="Send a test mail">
      <Stack gap="xs">
        <Group align="flex-end" gap="xs">
          <TextInput
            label="Send a test mail to"
            type="email"
            required
            value={to}
            onChange={(e) => setTo(e.currentTarget.value)}
            error={fieldErrors(test.error).to}
            w={320}
          />
          <Button size="xs" type="submit" variant="default" loading={test.isPending} mb={2}>
            Send test
          </Button>
        </Group>
        {r && (
          <Alert
            color={r.ok ? "teal" : "red"}
            role={r.ok ? "status" : "alert"}
            p="xs"
            title={r.ok ? `Accepted by ${r.via}` : `Not sent (${r.via})`}
            data-testid="send-test-result"
          >
            <Text fz="sm">
              {r.ok
                ? `From ${r.from}. The server answered: `
                : `${r.error}${r.response ? ". The server answered: " : ""}`}
              {r.response && <code>{r.response}</code>}
            </Text>
          </Alert>
        )}
        <FormError error={test.error} />
      </Stack>
    </form>
  );
}
