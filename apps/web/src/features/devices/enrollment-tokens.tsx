import { Alert, Button, Table, Text, VisuallyHidden } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { api } from "../../api/client.ts";
import { useEnrollmentTokens } from "../../api/hooks.ts";
import { keys } from "../../api/keys.ts";
import type { EnrollmentTokenDto } from "../../api/types.ts";

/** The client's tokens that still work, so a forgotten or leaked one can be revoked. */
export function ActiveEnrollmentTokens({ clientId }: { clientId: string }) {
  const tokens = useEnrollmentTokens(clientId);
  const qc = useQueryClient();
  const revoke = useMutation({
    mutationFn: (id: string) => api<EnrollmentTokenDto>("POST", `/enrollment-tokens/${id}/revoke`),
    onSuccess: () => qc.invalidateQueries({ queryKey: keys.enrollmentTokens(clientId) }),
  });
  const active = (tokens.data?.items ?? []).filter((t) => t.status === "active");

  if (tokens.isError)
    return (
      <Alert color="red" role="alert" p="xs">
        {tokens.error.message}
      </Alert>
    );
  if (!active.length)
    return (
      <Text fz="sm" c="dimmed">
        {tokens.isPending ? "Loading…" : "No active enrollment tokens for this client."}
      </Text>
    );
  return (
    <>
      {revoke.isError && (
        <Alert color="red" role="alert" p="xs">
          {revoke.error.message}
        </Alert>
      )}
      <Table aria-label="Active enrollment tokens" fz="sm" verticalSpacing={4}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Token</Table.Th>
            <Table.Th>Uses</Table.Th>
            <Table.Th>Expires</Table.Th>
            <Table.Th>
              <VisuallyHidden>Actions</VisuallyHidden>
            </Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {active.map((t) => (
            <Table.Tr key={t.id}>
              <Table.Td>
                {t.label || "Unlabelled"} <Text span ff="monospace" fz="xs" c="dimmed">{`${t.prefix}…`}</Text>
              </Table.Td>
              <Table.Td>
                {t.uses} of {t.maxUses}
              </Table.Td>
              <Table.Td>{new Date(t.expiresAt).toLocaleString()}</Table.Td>
              <Table.Td ta="right">
                <Button
                  size="compact-xs"
                  variant="default"
                  aria-label={`Revoke ${t.label || t.prefix}`}
                  loading={revoke.isPending && revoke.variables === t.id}
                  onClick={() => revoke.mutate(t.id)}
                >
                  Revoke
                </Button>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </>
  );
}
