import { Alert, Button, Center, Paper, PasswordInput, Stack, Text, Title } from "@mantine/core";
import { useMutation, useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { useParams } from "wouter";
import { api, fieldErrors, get } from "../api/client.ts";

/** Where an invitation link lands: the invited person chooses a password and is signed in. */
export function AcceptInvitePage() {
  const { token } = useParams<{ token: string }>();
  const info = useQuery({
    queryKey: ["invite", token],
    queryFn: () =>
      get<{ email: string; name: string; mspName: string }>(`/invites/${encodeURIComponent(token)}`),
    retry: false,
  });
  const [password, setPassword] = useState("");
  const [again, setAgain] = useState("");
  const accept = useMutation({
    mutationFn: () => api("POST", "/invites/accept", { body: { token, password } }),
    // A full load: the console starts signed in, with nothing cached from before.
    onSuccess: () => window.location.assign("/"),
  });
  const mismatch = again !== "" && again !== password;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!mismatch) accept.mutate();
  };
  return (
    <Center mih="100vh" p="md" component="main">
      <Paper p="lg" w={420} withBorder>
        {info.isPending && <Text>Checking your invitation…</Text>}
        {info.isError && (
          <Stack gap="sm">
            <Title order={1} fz="h3">
              This link does not work
            </Title>
            <Alert color="red" role="alert" p="xs">
              {info.error.message}
            </Alert>
            <Text fz="sm">Ask your admin to send you a new invitation.</Text>
          </Stack>
        )}
        {info.data && (
          <form onSubmit={submit} aria-label="Choose your password">
            <Stack gap="sm">
              <Title order={1} fz="h3">
                Welcome to {info.data.mspName}
              </Title>
              <Text fz="sm">
                {info.data.name}, choose the password you will sign in with as {info.data.email}.
              </Text>
              <PasswordInput
                label="Password"
                description="12 characters or more"
                required
                autoComplete="new-password"
                value={password}
                onChange={(e) => setPassword(e.currentTarget.value)}
                error={fieldErrors(accept.error).password}
              />
              <PasswordInput
                label="Password again"
                required
                autoComplete="new-password"
                value={again}
                onChange={(e) => setAgain(e.currentTarget.value)}
                error={mismatch ? "does not match" : undefined}
              />
              {accept.isError && !fieldErrors(accept.error).password && (
                <Alert color="red" role="alert" p="xs">
                  {accept.error.message}
                </Alert>
              )}
              <Button type="submit" loading={accept.isPending}>
                Set password and sign in
              </Button>
            </Stack>
          </form>
        )}
      </Paper>
    </Center>
  );
}
