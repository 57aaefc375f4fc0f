import { Alert, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, fieldErrors } from "../api/client.ts";
import { keys } from "../api/keys.ts";

export function LoginPage({ mspName }: { mspName: string | null }) {
  const qc = useQueryClient();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const m = useMutation({
    mutationFn: () => api("POST", "/auth/login", { body: { email, password } }),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.me }),
  });
  const errors = fieldErrors(m.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    m.mutate();
  };
  return (
    <Center mih="100vh" p="md" component="main">
      <Paper p="xl" w={380} shadow="sm">
        <form onSubmit={submit} noValidate>
          <Stack gap="sm">
            <div>
              <Title order={1}>Sign in</Title>
              <Text c="dimmed" size="sm">
                {mspName ? `${mspName} service desk` : "Switchboard"}
              </Text>
            </div>
            {m.isError && Object.keys(errors).length === 0 && (
              <Alert color="red" role="alert">
                {m.error.message}
              </Alert>
            )}
            <TextInput
              label="Email"
              type="email"
              autoComplete="username"
              value={email}
              onChange={(e) => setEmail(e.currentTarget.value)}
              error={errors.email}
              autoFocus
              required
            />
            <PasswordInput
              label="Password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.currentTarget.value)}
              error={errors.password}
              required
            />
            <Button type="submit" size="sm" loading={m.isPending}>
              Sign in
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
