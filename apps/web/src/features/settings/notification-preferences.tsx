import { Button, Group, Skeleton, Stack, Switch, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useIsMutating, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, get } from "../../api/client.ts";
import { keys } from "../../api/keys.ts";
import type { NotificationPreferencesDto } from "../../api/types.ts";

type Preference = "assigned" | "newReply" | "monitoringP1";

const PREFERENCES: Array<{ key: Preference; label: string; description: string }> = [
  {
    key: "assigned",
    label: "Email me when a ticket is assigned to me",
    description: "Not when you take a ticket yourself.",
  },
  {
    key: "newReply",
    label: "Email me when a customer replies on my ticket",
    description: "Replies by email on tickets assigned to you.",
  },
  {
    key: "monitoringP1",
    label: "Email me when monitoring opens a P1 ticket",
    description:
      "A site down or a critical check, for clients you dispatch for or when it is assigned to you.",
  },
];

const MUTATION_KEY = ["notification-preferences", "save"] as const;

/**
 * The signed-in technician's notification emails. A switch flips at once and its change is sent alone,
 * so two quick flips of different switches cannot overwrite each other; a failed save puts back only
 * the switch it was about, and the stored preferences are read again once the last save settles.
 */
export function NotificationPreferences() {
  const qc = useQueryClient();
  const prefs = useQuery({
    queryKey: keys.notificationPreferences,
    queryFn: () => get<NotificationPreferencesDto>("/me/notification-preferences"),
  });
  const saving = useIsMutating({ mutationKey: MUTATION_KEY });
  const save = useMutation({
    mutationKey: MUTATION_KEY,
    mutationFn: ({ key, value }: { key: Preference; value: boolean }) =>
      api<NotificationPreferencesDto>("PUT", "/me/notification-preferences", { body: { [key]: value } }),
    onMutate: async ({ key, value }) => {
      await qc.cancelQueries({ queryKey: keys.notificationPreferences });
      const previous = qc.getQueryData<NotificationPreferencesDto>(keys.notificationPreferences)?.[key];
      qc.setQueryData<NotificationPreferencesDto>(keys.notificationPreferences, (old) =>
        old ? { ...old, [key]: value } : old,
      );
      return { previous };
    },
    onError: (e, { key }, context) => {
      if (context?.previous !== undefined) {
        qc.setQueryData<NotificationPreferencesDto>(keys.notificationPreferences, (old) =>
          old ? { ...old, [key]: context.previous } : old,
        );
      }
      notifications.show({ title: "Not saved", message: e.message, color: "red" });
    },
    onSettled: () => {
      // An earlier answer may predate a later flip: only the last save to settle reads the truth back.
      if (qc.isMutating({ mutationKey: MUTATION_KEY }) === 1) {
        return qc.invalidateQueries({ queryKey: keys.notificationPreferences });
      }
    },
  });

  if (prefs.isPending) return <Skeleton h={88} m="sm" />;
  if (prefs.isError) {
    return (
      <Group p="sm" gap="sm">
        <Text fz="sm" c="red" role="alert">
          Your notification settings could not be loaded: {prefs.error.message}
        </Text>
        <Button size="xs" variant="default" onClick={() => prefs.refetch()}>
          Try again
        </Button>
      </Group>
    );
  }
  return (
    <Stack gap="md" p="sm">
      <Text fz="sm" c="dimmed">
        Choose which emails Switchboard sends you. Everything stays visible in the console either way.
      </Text>
      {PREFERENCES.map((p) => (
        <Switch
          key={p.key}
          label={p.label}
          description={p.description}
          checked={prefs.data[p.key]}
          onChange={(e) => save.mutate({ key: p.key, value: e.currentTarget.checked })}
        />
      ))}
      <Text fz="xs" c="dimmed" role="status" aria-live="polite">
        {saving ? "Saving…" : ""}
      </Text>
    </Stack>
  );
}
