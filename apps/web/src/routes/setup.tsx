import { Alert, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, fieldErrors } from "../api/client.ts";
import { keys } from "../api/keys.ts";

/** First run: the MSP's name and its first admin, who is signed in straight away. */
export function SetupPage() {
  const qc = useQueryClient();
  const [form, setForm] = useState({ mspName: "", name: "", email: "", password: "" });
  const m = useMutation({
    mutationFn: () => api("POST", "/setup", { body: form }),
    onSuccess: async () => {
      await qc.invalidateQueries({ queryKey: keys.setup });
      await qc.invalidateQueries({ queryKey: keys.me });
    },
  });
  const errors = fieldErrors(m.error);
  const set = (k: keyof typeof form) => (e: { currentTarget: { value: string } }) => {
    // Read now: React clears currentTarget before a deferred updater would run.
    const value = e.currentTarget.value;
    setForm((f) => ({ ...f, [k]: value }));
  };
  const submit = (e: FormEvent) => {
    e.preventDefault();
    m.mutate();
  };
  return (
    <Center mih="100vh" p="md" component="main">
      <Paper p="xl" w={420} shadow="sm">
        <form onSubmit={submit} noValidate>
          <Stack gap="sm">
            <div>
              <Title order={1}>Set up Switchboard</Title>
              <Text c="dimmed" size="sm" mt={4}>
                Name your service desk and create the first admin account. You can invite technicians
                afterwards.
              </Text>
            </div>
            {m.isError && Object.keys(errors).length === 0 && <Alert color="red">{m.error.message}</Alert>}
            <TextInput
              label="Company (MSP) name"
              placeholder="Convergence IT"
              value={form.mspName}
              onChange={set("mspName")}
              error={errors.mspName}
              required
              data-autofocus
              autoFocus
            />
            <TextInput
              label="Your name"
              value={form.name}
              onChange={set("name")}
              error={errors.name}
              required
            />
            <TextInput
              label="Email"
              type="email"
              autoComplete="username"
              value={form.email}
              onChange={set("email")}
              error={errors.email}
              required
            />
            <PasswordInput
              label="Password"
              description="At least 12 characters"
              autoComplete="new-password"
              value={form.password}
              onChange={set("password")}
              error={errors.password}
              required
            />
            <Button type="submit" size="sm" loading={m.isPending}>
              Create admin and sign in
            </Button>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
