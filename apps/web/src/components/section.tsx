import { Badge, Group, Paper, Text, Title } from "@mantine/core";
import type { ReactNode } from "react";
import { Link } from "wouter";

/** A titled panel with a count and an optional "open as queue" link. */
export function Section({
  title,
  count,
  href,
  actions,
  children,
  id,
}: {
  title: string;
  count?: number | string;
  href?: string;
  actions?: ReactNode;
  children: ReactNode;
  id?: string;
}) {
  return (
    <Paper component="section" aria-labelledby={id} style={{ overflow: "hidden" }}>
      <Group
        justify="space-between"
        px="sm"
        py={6}
        style={{ borderBottom: "1px solid var(--mantine-color-default-border)" }}
      >
        <Group gap={8}>
          <Title order={2} id={id} fz="sm">
            {title}
          </Title>
          {count !== undefined && (
            <Badge variant="default" size="sm" radius="xl">
              {count}
            </Badge>
          )}
        </Group>
        <Group gap="xs">
          {actions}
          {href && (
            <Text component={Link} href={href} fz="xs" c="dimmed">
              Open queue →
            </Text>
          )}
        </Group>
      </Group>
      {children}
    </Paper>
  );
}

export function Empty({ children }: { children: ReactNode }) {
  return (
    <Text c="dimmed" fz="sm" px="sm" py="md">
      {children}
    </Text>
  );
}

/** One line of a section's list: its name on the left, a detail on the right, a rule below. */
export function SectionRow({ children }: { children: ReactNode }) {
  return (
    <Group
      px="sm"
      py={5}
      justify="space-between"
      wrap="nowrap"
      style={{ borderBottom: "1px solid var(--mantine-color-default-border)" }}
    >
      {children}
    </Group>
  );
}
