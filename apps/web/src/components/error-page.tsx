import { Button, Center, Stack, Text, Title } from "@mantine/core";
import { Link } from "wouter";
import { isApiError } from "../api/client.ts";

const COPY: Record<number, [string, string]> = {
  403: [
    "You do not have access",
    "Your role or client access does not include this. Ask an admin if you need it.",
  ],
  404: ["Not found", "It does not exist, was merged away, or belongs to a client you cannot see."],
  0: ["Cannot reach Switchboard", "The server did not answer. Your drafts are kept in this browser."],
};

/** A clear page for 403, 404 and failures: never a blank screen. */
export function ErrorPage({
  error,
  status,
  onRetry,
}: {
  error?: unknown;
  status?: number;
  onRetry?: () => void;
}) {
  const code = status ?? (isApiError(error) ? error.status : 0);
  const [title, body] = COPY[code] ?? [
    "Something went wrong",
    isApiError(error) ? error.message : String(error),
  ];
  return (
    <Center mih={320} p="xl">
      <Stack align="center" gap="xs" maw={460} ta="center">
        <Text c="dimmed" fz="xs" ff="monospace">
          {code ? `HTTP ${code}` : "offline"}
        </Text>
        <Title order={1}>{title}</Title>
        <Text c="dimmed">{body}</Text>
        <Stack gap={6} mt="sm" align="center">
          {onRetry && (
            <Button variant="light" onClick={onRetry}>
              Try again
            </Button>
          )}
          <Button component={Link} href="/" variant="subtle">
            Back to My day
          </Button>
        </Stack>
      </Stack>
    </Center>
  );
}
