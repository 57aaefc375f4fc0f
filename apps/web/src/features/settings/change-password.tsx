import { Button, Checkbox, PasswordInput, Stack, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, fieldErrors, get } from "../../api/client.ts";
import { useMe } from "../../api/hooks.ts";

/**
 * Changing my own password: with the current one, and it signs out my other sessions (one of them may be
 * why I am changing it). My API tokens can go with them.
 */
export function ChangePassword() {
  const me = useMe();
  const [form, setForm] = useState({ currentPassword: "", password: "", confirm: "", revokeApiTokens: true });
  const [mismatch, setMismatch] = useState(false);
  const save = useMutation({
    mutationFn: async () => {
      const id = me.data!.id;
      const user = await get<{ version: number }>(`/users/${id}`);
      return api("PATCH", `/users/${id}`, {
        body: {
          version: user.version,
          currentPassword: form.currentPassword,
          password: form.password,
          revokeApiTokens: form.revokeApiTokens,
        },
      });
    },
    onSuccess: () => {
      setForm({ currentPassword: "", password: "", confirm: "", revokeApiTokens: true });
      notifications.show({
        title: "Password changed",
        message: `Your other sessions are signed out${form.revokeApiTokens ? " and your API tokens revoked" : ""}.`,
      });
    },
  });
  const errors = fieldErrors(save.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    const differ = form.password !== form.confirm;
    setMismatch(differ);
    if (!differ) save.mutate();
  };
  return (
    <Stack component="form" gap="sm" p="sm" maw={420} onSubmit={submit}>
      <PasswordInput
        label="Current password"
        autoComplete="current-password"
        required
        value={form.currentPassword}
        onChange={(e) => setForm({ ...form, currentPassword: e.currentTarget.value })}
        error={errors.currentPassword}
      />
      <PasswordInput
        label="New password"
        description="At least 12 characters"
        autoComplete="new-password"
        required
        value={form.password}
        onChange={(e) => setForm({ ...form, password: e.currentTarget.value })}
        error={errors.password}
      />
      <PasswordInput
        label="New password again"
        autoComplete="new-password"
        required
        value={form.confirm}
        onChange={(e) => setForm({ ...form, confirm: e.currentTarget.value })}
        error={mismatch ? "The two new passwords differ" : undefined}
      />
      <Checkbox
        label="Also revoke my API tokens"
        checked={form.revokeApiTokens}
        onChange={(e) => setForm({ ...form, revokeApiTokens: e.currentTarget.checked })}
      />
      <Text fz="xs" c="dimmed">
        Your other signed-in sessions end; this one stays.
      </Text>
      {save.isError && !Object.keys(errors).length && (
        <Text fz="sm" c="red" role="alert">
          {save.error.message}
        </Text>
      )}
      <Button type="submit" loading={save.isPending} w="fit-content">
        Change password
      </Button>
    </Stack>
  );
}
