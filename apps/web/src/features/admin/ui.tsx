import { Alert, Stack, Text, Title } from "@mantine/core";
import type { ReactNode } from "react";
import { fieldErrors, isApiError } from "../../api/client.ts";

/** An admin screen: its title, what it is for, and its content. */
export function AdminPage({
  title,
  intro,
  actions,
  children,
}: {
  title: string;
  intro: string;
  actions?: ReactNode;
  children: ReactNode;
}) {
  return (
    <Stack p="md" gap="md" maw={1100}>
      <div
        style={{
          display: "flex",
          justifyContent: "space-between",
          gap: 12,
          flexWrap: "wrap",
          alignItems: "flex-start",
        }}
      >
        <div>
          <Title order={1}>{title}</Title>
          <Text c="dimmed" fz="sm">
            {intro}
          </Text>
        </div>
        {actions}
      </div>
      {children}
    </Stack>
  );
}

/** A failed save's message when no field carries it (field errors show next to their field). */
export function FormError({ error }: { error: unknown }) {
  if (!error) return null;
  if (isApiError(error) && Object.keys(fieldErrors(error)).length && error.status === 400) return null;
  return (
    <Alert color="red" role="alert" p="xs">
      {error instanceof Error ? error.message : String(error)}
    </Alert>
  );
}

export const ROLE_LABELS: Record<string, string> = {
  admin: "Admin",
  dispatcher: "Dispatcher",
  technician: "Technician",
  readonly: "Read-only",
};
export const ROLE_OPTIONS = Object.entries(ROLE_LABELS).map(([value, label]) => ({ value, label }));
