import { Alert, Button, Center, Paper, Stack, Text, Title } from "@mantine/core";
import { useMutation } from "@tanstack/react-query";
import { useState } from "react";
import { api } from "../../api/client.ts";

/**
 * The link in a page (text or mail), opened on a phone without signing in: the signed token in the URL
 * fragment (never sent to a server log) is the credential, posted on the one button press.
 */
export function PageAckPage() {
  const [token] = useState(() => new URLSearchParams(window.location.hash.slice(1)).get("t") ?? "");
  const ack = useMutation({
    mutationFn: () => api<{ status: string; summary: string }>("POST", "/oncall/ack", { body: { token } }),
  });
  return (
    <Center mih="100vh" p="md">
      <Paper withBorder p="lg" maw={480} w="100%" component="main">
        <Title order={1} fz="xl" mb="md">
          Acknowledge the page
        </Title>
        <Stack gap="sm">
          {!token && (
            <Alert color="red">This link is incomplete. Open it again from the text or the mail.</Alert>
          )}
          {ack.data ? (
            <Alert color="teal" role="status">
              Acknowledged: {ack.data.summary}. Nobody else will be paged for it.
            </Alert>
          ) : (
            <>
              <Text fz="sm">
                Acknowledging tells the desk you have it, and stops the page from moving to the next person.
              </Text>
              <Button onClick={() => ack.mutate()} loading={ack.isPending} disabled={!token}>
                I have it
              </Button>
            </>
          )}
          {ack.error && (
            <Alert color="red" role="alert">
              {(ack.error as Error).message}
            </Alert>
          )}
        </Stack>
      </Paper>
    </Center>
  );
}
