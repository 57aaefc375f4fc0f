import { Stack, Text, Title } from "@mantine/core";
import { Section } from "../components/section.tsx";
import { ChangePassword } from "../features/settings/change-password.tsx";
import { NotificationPreferences } from "../features/settings/notification-preferences.tsx";

/** The signed-in user's own settings. */
export function SettingsPage() {
  return (
    <Stack p="md" gap="md" maw={720}>
      <div>
        <Title order={1}>Settings</Title>
        <Text c="dimmed" fz="sm">
          Your own preferences; they do not change anyone else's.
        </Text>
      </div>
      <Section id="notifications-title" title="Notifications">
        <NotificationPreferences />
      </Section>
      <Section id="password-title" title="Password">
        <ChangePassword />
      </Section>
    </Stack>
  );
}
